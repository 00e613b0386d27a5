/**
 * Milliseconds per jitted training step (loss and gradient) of the char-RNN model at its default sizes: an
 * embedding of 81 symbols into 64 features, a 2-layer LSTM with 256 hidden units over 64 steps of a batch of
 * 32, and a linear head over the 81 symbols with mean cross-entropy. This is the compiled plan whose
 * matmuls the GEMM work targets; the optimiser step is left out (it is eager and the same either way).
 * Run with `npx tsx src/lstm-plan.ts [runs] [--profile]` from bench/ after `pnpm run build` (it imports the
 * built packages); it prints the median and the best of the timed runs, since other processes on a shared
 * machine only ever slow a run down. `--profile` then samples the same runs with the V8 profiler and lists
 * the functions with the most self time per step (WebAssembly functions show as `wasm-function[i]`).
 */
import { Session, type Profiler } from 'node:inspector';
import { jit, randomKey, reshape, splitKey, tensor, valueAndGrad, zeros, type Tensor } from '@tapestry/core';
import { crossEntropy, embedding, linear, lstm } from '@tapestry/layers';

const SIZES = { batch: 32, steps: 64, vocab: 81, embed: 64, hidden: 256, layers: 2 } as const;

const embed = embedding({ numEmbeddings: SIZES.vocab, embeddingDim: SIZES.embed });
const layer = lstm({ inputSize: SIZES.embed, hiddenSize: SIZES.hidden, numLayers: SIZES.layers });
const head = linear({ inFeatures: SIZES.hidden, outFeatures: SIZES.vocab });

const [k1, k2, k3] = splitKey(randomKey(0), 3);
const params = { embedding: embed.init(k1!), rnn: layer.init(k2!), head: head.init(k3!) };
type Params = typeof params;

/** Mean cross-entropy of next-symbol prediction, carrying a state in as char-rnn's truncated BPTT does. */
function loss(p: Params, ids: Tensor, targets: Tensor, h0: Tensor, c0: Tensor): Tensor {
  const x = embed.apply(p.embedding, ids);
  const { output } = layer.apply(p.rnn, x, { initialState: { h: h0, c: c0 } });
  const logits = head.apply(p.head, output);
  return crossEntropy(reshape(logits, [-1, SIZES.vocab]), reshape(targets, [-1]));
}

/** Deterministic symbol ids (a linear congruential sequence): the timing does not depend on the data. */
function ids(seed: number): Tensor {
  const data = new Int32Array(SIZES.batch * SIZES.steps);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s >>> 8) % SIZES.vocab;
  }
  return tensor(data, { shape: [SIZES.batch, SIZES.steps], dtype: 'int32' });
}

const stateShape = [SIZES.layers, SIZES.batch, SIZES.hidden];
const h0 = zeros(stateShape);
const c0 = zeros(stateShape);
const inputs = ids(1);
const targets = ids(2);
const step = jit(valueAndGrad(loss));

const args = process.argv.slice(2);
const runs = Number(args.find((a) => !a.startsWith('--')) ?? 15);
const compileStart = performance.now();
step(params, inputs, targets, h0, c0);
console.log(`trace + compile + first run: ${(performance.now() - compileStart).toFixed(0)} ms`);
for (let i = 0; i < 2; i++) step(params, inputs, targets, h0, c0);
const times: number[] = [];
let lossValue = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const [value] = step(params, inputs, targets, h0, c0) as [Tensor, unknown];
  times.push(performance.now() - t0);
  lossValue = value.item();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `LSTM plan ${SIZES.layers}x${SIZES.hidden}, N=${SIZES.batch}, T=${SIZES.steps}: median ${median.toFixed(1)} ms/step, best ${times[0]!.toFixed(1)} ms over ${runs} runs (loss ${lossValue.toFixed(6)})`,
);

/** Self time per step by function, over `runs` more runs sampled every 100 µs. */
async function profile(): Promise<void> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  for (let i = 0; i < runs; i++) step(params, inputs, targets, h0, c0);
  const { profile: p } = await post<{ profile: Profiler.Profile }>('Profiler.stop');
  const selfMs = new Map<number, number>();
  p.samples!.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + p.timeDeltas![i]! / 1000));
  const byFunction = new Map<string, number>();
  for (const node of p.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(packages|node_modules)\//, '')}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  for (const [name, ms] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, 20)) {
    console.log(`${(ms / runs).toFixed(1).padStart(8)} ms/step  ${name}`);
  }
}

if (args.includes('--profile')) await profile();
