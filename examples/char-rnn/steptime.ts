import { prepareCorpus, readText } from '/work/main/examples/char-rnn/src/corpus.ts';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, trainLoop } from '/work/main/examples/char-rnn/src/training.ts';
const { text, source } = readText(undefined, 300000);
const corpus = prepareCorpus(text, source);
const config = { ...DEFAULT_CONFIG, ...(JSON.parse(process.argv[2] ?? '{}')) };
const model = makeModel(config, corpus.vocab.size);
const opt = makeOptimizer(config);
let s = initialTrainingState(config, model, opt);
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  s = trainLoop(config, corpus, model, opt, s, { maxSteps: s.step + 1 });
  console.log('step', i, (performance.now() - t).toFixed(0), 'ms');
}
