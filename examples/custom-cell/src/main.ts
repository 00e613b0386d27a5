/**
 * A custom recurrent cell, end to end. Run with `tsx src/main.ts` (from examples/custom-cell).
 *
 * 1. Write a cell (src/peephole-lstm-cell.ts): init, initialState, step — core ops only.
 * 2. Turn it into a layer with recurrent(cell, { numLayers: 2, bidirectional: true }).
 * 3. Run it over a padded batch with lengths; padded steps output exactly 0.
 * 4. Check its gradients against finite differences with checkGrad.
 * 5. Train it with plain gradient descent on a variable-length task.
 */
import { normal, randomKey } from '@tapestry/core';
import { handleCliErrors } from '@tapestry/example-common';
import { gradientCheck, train, buildModel } from './demo.js';

handleCliErrors('custom-cell');

const { layer } = buildModel(4);
const params = layer.init(randomKey(0));
const x = normal(randomKey(1), [3, 5, 1]);
const { output, state } = layer.apply(params, x, { lengths: [5, 2, 4] });
console.log('1. a 2-layer bidirectional peephole LSTM over a padded batch, lengths [5, 2, 4]');
console.log(`   output ${JSON.stringify(output.shape)}  state.h ${JSON.stringify(state.h.shape)}  state.c ${JSON.stringify(state.c.shape)}`);
const row = (output.toArray() as number[][][])[1]!;
console.log(`   sequence 1 (length 2), steps 2-4 are exactly zero: ${row.slice(2).every((step) => step.every((v) => v === 0))}`);

console.log("\n2. parameter names, as toStateDict spells them (the cell's tree paths in snake_case):");
console.log(
  '   ' +
    Object.entries(layer.toStateDict(params))
      .slice(0, 7)
      .map(([k, v]) => `${k} ${JSON.stringify(v.shape)}`)
      .join('\n   ') +
    '\n   …',
);

const check = gradientCheck();
console.log(`\n3. checkGrad (float64, every parameter and the input): ok = ${check.ok}, max error ${check.maxError.toExponential(2)}`);

console.log('\n4. training: is the sum of a variable-length sequence positive? (128 sequences, lengths 1-8)');
const started = performance.now();
const result = train({ onStep: (step, loss) => step % 25 === 0 && console.log(`   step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}`) });
console.log(
  `   final loss ${result.losses.at(-1)!.toFixed(4)}; accuracy train ${(100 * result.trainAccuracy).toFixed(1)}%, held out ${(100 * result.testAccuracy).toFixed(1)}% (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
