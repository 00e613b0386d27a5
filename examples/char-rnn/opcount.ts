import * as tape from '/work/main/packages/core/src/autodiff/tape.ts';
import { prepareCorpus, readText } from '/work/main/examples/char-rnn/src/corpus.ts';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, trainLoop } from '/work/main/examples/char-rnn/src/training.ts';
import * as prim from '/work/main/packages/core/src/autodiff/primitive.ts';
const stats = new Map<string, [number, number, number]>();
// wrap forward of every registered primitive
const names = ['add','sub','mul','div','neg','exp','log','sqrt','tanh','sigmoid','where','sum','max','matmul','reshape','transpose','broadcastTo','slice','pad','concat','gather','scatterAdd','cast','greater','equal','square','isFinite','argmax','oneHot','log1p','abs','sign'];
for (const n of names) {
  const p = prim.primitiveNamed(n) as any;
  if (!p) continue;
  const f = p.forward;
  p.forward = (inputs: any, attrs: any) => { const t = performance.now(); const out = f(inputs, attrs); const dt = performance.now() - t; const s = stats.get(n) ?? [0, 0, 0]; s[0]++; s[1] += out.size; s[2] += dt; stats.set(n, s); return out; };
}
const { text, source } = readText(undefined, 300000);
const corpus = prepareCorpus(text, source);
const config = { ...DEFAULT_CONFIG };
const model = makeModel(config, corpus.vocab.size);
const opt = makeOptimizer(config);
let s = initialTrainingState(config, model, opt);
s = trainLoop(config, corpus, model, opt, s, { maxSteps: 1 });
stats.clear();
const t = performance.now();
s = trainLoop(config, corpus, model, opt, s, { maxSteps: 2 });
console.log('step ms', (performance.now() - t).toFixed(0));
let tot = 0;
for (const [n, [c, e, ms]] of [...stats.entries()].sort((a, b) => b[1][2] - a[1][2])) { tot += ms; console.log(n.padEnd(12), String(c).padStart(6), 'calls', (e / 1e6).toFixed(1).padStart(7), 'M elems', ms.toFixed(0).padStart(6), 'ms'); }
console.log('total in forward kernels', tot.toFixed(0));
