import { jit, valueAndGrad } from '/work/main/packages/core/src/index.ts';
import { batchify, getBatch } from '/work/main/packages/data/src/index.ts';
import { prepareCorpus, readText } from '/work/main/examples/char-rnn/src/corpus.ts';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer } from '/work/main/examples/char-rnn/src/training.ts';
const { text, source } = readText(undefined, 300000);
const corpus = prepareCorpus(text, source);
const config = { ...DEFAULT_CONFIG, ...(JSON.parse(process.argv[2] ?? '{}')) };
const model = makeModel(config, corpus.vocab.size);
const opt = makeOptimizer(config);
const s = initialTrainingState(config, model, opt);
const src = batchify(corpus.train, config.batchSize);
const lg = valueAndGrad((p: any, x: any, y: any, c: any) => model.loss(p, x, y, c), 0, { hasAux: true });
const jlg = jit(lg);
for (const [name, f] of [['eager', lg], ['jit', jlg]] as const) {
  let carry: any = undefined;
  for (let i = 0; i < 4; i++) {
    const { inputs, targets } = getBatch(src, i * 64, 64);
    const t = performance.now();
    const [[loss, next], grads] = (f as any)(s.params, inputs, targets, carry);
    carry = next;
    console.log(name, i, (performance.now() - t).toFixed(0), 'ms', loss.item().toFixed(5));
  }
}
