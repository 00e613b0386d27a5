/**
 * `recurrent(cell, options)`: any cell as a layer with stacking, both directions, batch-first inputs,
 * initial states, variable lengths and inter-layer dropout. The machinery sees only the {@link Cell}
 * contract (and, to hoist input work out of the time loop, a trace of `step`: see step-program.ts), so the
 * built-in layers and a user's cell go through exactly the same code.
 */
import {
  ArgumentError,
  concat,
  devicePut,
  DTypeError,
  expectOptionalBoolean,
  expectPositiveInteger,
  expectProbability,
  foldIn,
  formatShape,
  freezeTree,
  randomKey,
  reshape,
  ShapeError,
  shapesEqual,
  slice,
  splitKey,
  stack,
  Tensor,
  transpose,
  treeFlattenWithPath,
  treeLeaves,
  where,
  zeros,
} from '@tapestry/core';
import { Key, type DType } from '@tapestry/core';
import type { Cell, CellState } from './cell.js';
import { expectOptionalKey } from './checks.js';
import { dropout as applyDropout } from './dropout.js';
import { initialStatePieces } from './initial-state.js';
import { lengthMask, readLengths, stepMasks } from './lengths.js';
import { recurrentStateDict } from './recurrent-state-dict.js';
import type { DirectionParams, RecurrentApplyOptions, RecurrentLayer, RecurrentOptions, RecurrentParams, RecurrentResult } from './recurrent-types.js';
import { scan } from './scan.js';
import { stepProgram, type StepProgramCache } from './step-program.js';

/**
 * Turns any {@link Cell} into a layer: `numLayers` stacked layers (layer k > 0 reads layer k-1's output),
 * optionally bidirectional (a second cell per layer, with its own parameters, reads the sequence from its
 * end), batch-first input [N, T, D], initial states by name, variable `lengths` and dropout between layers.
 * Each layer and direction is one {@link scan} of `cell.step` over time, with the part of the step that reads
 * only the input and the parameters (an LSTM's `x W_ihᵀ + b_ih`) computed once for all steps when it works
 * row by row. Nothing depends on which cell it is, so a user's cell gets everything the built-in {@link lstm}
 * gets, speed and state-dict names included.
 * @example
 * ```ts
 * const layer = recurrent(myCell, { inputSize: 8, numLayers: 2, bidirectional: true });
 * const params = layer.init(randomKey(0));
 * const { output, state } = layer.apply(params, x, { lengths: [9, 4, 7] }); // x: [3, 9, 8]
 * ```
 */
export function recurrent<P, S extends CellState>(cell: Cell<P, S>, options: RecurrentOptions): RecurrentLayer<P, S> {
  const name = options?.name ?? 'recurrent';
  if (!cell || typeof cell.init !== 'function' || typeof cell.step !== 'function' || typeof cell.initialState !== 'function') {
    throw new ArgumentError(`${name}: cell must be an object with init(key, inputSize), initialState(batch, dtype) and step(params, state, x)`);
  }
  const inputSize = expectPositiveInteger(name, 'inputSize', options?.inputSize);
  const numLayers = expectPositiveInteger(name, 'numLayers', options.numLayers ?? 1);
  const bidirectional = expectOptionalBoolean(name, 'bidirectional', options.bidirectional) ?? false;
  const numDirections: 1 | 2 = bidirectional ? 2 : 1;
  const dropoutP = expectProbability(name, 'dropout', options.dropout ?? 0);
  const directions = bidirectional ? (['forward', 'reverse'] as const) : (['forward'] as const);
  const cellName = cell.name ?? 'cell';

  const paramDtype = (params: unknown): DType => {
    const leaf = treeLeaves(params).find((l): l is Tensor => l instanceof Tensor);
    return leaf ? leaf.dtype : 'float32';
  };

  // what tracing found about the cell's step, per traced structure (shapes and dtype): see step-program.ts
  const programs: StepProgramCache = new Map();
  let probedOutputSize: number | undefined;
  // Features of one step's output; asked of the cell, or measured once by a step on a zero input.
  const outputSize = (params: P, inSize: number): number => {
    if (cell.outputSize !== undefined) return cell.outputSize;
    if (probedOutputSize === undefined) {
      const dtype = paramDtype(params);
      const probe = cell.step(params, cell.initialState(1, dtype), zeros([1, inSize], dtype));
      if (probe.output.rank !== 2) {
        throw new ShapeError(`${name}: ${cellName}.step must return an output of shape [batch, features], got ${formatShape(probe.output.shape)}`);
      }
      probedOutputSize = probe.output.shape[1]!;
    }
    return probedOutputSize;
  };

  const init = (key: Key): RecurrentParams<P> => {
    if (!(key instanceof Key) && !((key as unknown) instanceof Tensor)) {
      throw new ArgumentError(`${name}.init: key must be a Key (from randomKey), got ${key === null ? 'null' : typeof key}`);
    }
    const keys = splitKey(key, numLayers * numDirections);
    const layers: DirectionParams<P>[] = [];
    let inSize = inputSize;
    for (let k = 0; k < numLayers; k++) {
      const forward = cell.init(keys[k * numDirections]!, inSize);
      layers.push(bidirectional ? { forward, reverse: cell.init(keys[k * numDirections + 1]!, inSize) } : { forward });
      if (k < numLayers - 1) inSize = outputSize(forward, inSize) * numDirections;
    }
    return freezeTree({ layers }) as RecurrentParams<P>;
  };

  const checkParams = (where: string, params: RecurrentParams<P>): void => {
    if (!params || !Array.isArray(params.layers)) {
      throw new ArgumentError(`${where}: params must be the tree { layers: [{ forward, reverse? }, …] } that ${name}.init returns`);
    }
    if (params.layers.length !== numLayers) {
      throw new ArgumentError(
        `${where}: params has ${params.layers.length} layer(s) but ${name} was built with numLayers ${numLayers} (params from a different layer definition?)`,
      );
    }
    params.layers.forEach((layer, k) => {
      if (!layer || layer.forward === undefined) throw new ArgumentError(`${where}: params.layers[${k}].forward is missing`);
      if (bidirectional && layer.reverse === undefined) {
        throw new ArgumentError(`${where}: params.layers[${k}].reverse is missing but ${name} is bidirectional (params from a unidirectional layer?)`);
      }
      if (!bidirectional && layer.reverse !== undefined) {
        throw new ArgumentError(`${where}: params.layers[${k}] has reverse parameters but ${name} is not bidirectional (build it with bidirectional: true?)`);
      }
    });
    checkParamShapes(where, params);
  };

  // The shapes `init` makes, by path: measured once (one init), so a parameter tree from a layer built with
  // other sizes is blamed at its first wrong leaf, not later at a state or matmul it happens to break.
  // A cell whose init cannot run here (a user's initialiser that reads values, first called inside a trace)
  // leaves the shapes unknown: the check is skipped, and the cell's own checks still apply.
  let expectedShapes: Map<string, readonly number[]> | null | undefined;
  const checkParamShapes = (where: string, params: RecurrentParams<P>): void => {
    if (expectedShapes === undefined) {
      try {
        expectedShapes = new Map(
          treeFlattenWithPath(init(randomKey(0))).flatMap(([path, leaf]) => (leaf instanceof Tensor ? [[path, leaf.shape] as const] : [])),
        );
      } catch {
        expectedShapes = null;
      }
    }
    if (expectedShapes === null) return;
    const seen = new Set<string>();
    for (const [path, leaf] of treeFlattenWithPath(params)) {
      if (!(leaf instanceof Tensor)) continue;
      seen.add(path);
      const expected = expectedShapes.get(path);
      const built = `${name} (inputSize ${inputSize}, ${cellName}${cell.outputSize === undefined ? '' : ` with ${cell.outputSize} outputs`})`;
      if (expected === undefined) {
        throw new ArgumentError(
          `${where}: params.${path} ${formatShape(leaf.shape)} is not a parameter of ${built}: parameters from a different layer definition?`,
        );
      }
      if (!shapesEqual(leaf.shape, expected)) {
        throw new ShapeError(
          `${where}: params.${path} has shape ${formatShape(leaf.shape)} but ${built} makes ${formatShape(expected)} there: ` +
            'the parameters come from a layer built with other sizes',
        );
      }
    }
    for (const path of expectedShapes.keys()) {
      if (!seen.has(path)) throw new ArgumentError(`${where}: params.${path} is missing (expected a tensor ${formatShape(expectedShapes.get(path)!)})`);
    }
  };

  const checkInput = (x: Tensor, dtype: DType): void => {
    if (!(x instanceof Tensor)) throw new ArgumentError(`${name}: x must be a Tensor [N, T, ${inputSize}], got ${x === null ? 'null' : typeof x}`);
    if (x.rank !== 3) {
      let hint = 'x must be batch first: [batch, time, features]';
      if (x.rank === 2 && x.shape[1] === inputSize) {
        hint = 'missing the time axis? for a batch of single steps use expandDims(x, 1); for one sequence [T, D] use expandDims(x, 0)';
      } else if (x.rank === 1) hint = 'a single step of a single sequence? reshape it to [1, 1, D]';
      throw new ShapeError(`${name}: x must be [N, T, D] = [N, T, ${inputSize}], got ${formatShape(x.shape)} (${hint})`);
    }
    if (x.shape[2] !== inputSize) {
      throw new ShapeError(
        `${name}: x has ${x.shape[2]} features per step but the layer was built with inputSize ${inputSize}: expected [N, T, ${inputSize}], got ${formatShape(x.shape)}` +
          (x.shape[1] === inputSize ? ' (time-major input? x must be batch first [N, T, D]: transpose(x, [1, 0, 2]))' : ''),
      );
    }
    if (x.shape[1] === 0) throw new ShapeError(`${name}: x has no time steps (shape ${formatShape(x.shape)})`);
    if (x.dtype !== dtype) {
      // layers hold float parameters only: suggest building with x's dtype only when that dtype is a float
      const fix =
        x.dtype === 'int32'
          ? `recurrent layers take float features, not int32 (token ids? map them through embedding() first, or cast(x, '${dtype}'))`
          : `cast x with cast(x, '${dtype}') or build the layer with dtype '${x.dtype}'`;
      throw new DTypeError(`${name}: x has dtype ${x.dtype} but the parameters are ${dtype}; ${fix}`);
    }
  };

  const apply = (params: RecurrentParams<P>, x: Tensor, applyOptions: RecurrentApplyOptions<S> = {} as RecurrentApplyOptions<S>): RecurrentResult<S> => {
    checkParams(name, params);
    const dtype = paramDtype(params.layers[0]!.forward);
    checkInput(x, dtype);
    const [batch, steps] = [x.shape[0]!, x.shape[1]!];
    if (applyOptions === null || typeof applyOptions !== 'object') throw new ArgumentError(`${name}: options must be an object, got ${String(applyOptions)}`);
    const lengths = applyOptions.lengths === undefined ? undefined : readLengths(name, applyOptions.lengths, batch, steps);
    const training = expectOptionalBoolean(name, 'options.training', applyOptions.training) ?? false;
    expectOptionalKey(name, 'options.key', applyOptions.key);
    const dropping = training && dropoutP > 0 && numLayers > 1;
    if (dropping && applyOptions.key === undefined) {
      throw new ArgumentError(`${name}: training with dropout ${dropoutP} between layers needs a random key: apply(params, x, { training: true, key })`);
    }
    // the default state lives where x does: a cell makes it on the CPU, and ops never mix devices
    const template = devicePut(cell.initialState(batch, dtype), x.backend);
    const stateNames = Object.keys(template);
    const pieces = initialStatePieces({ name, cellName, numLayers, numDirections }, template, applyOptions, dtype);

    /**
     * PyTorch's packed sequences at step t: where a sequence has ended, its state keeps its previous value and
     * its output is 0. A state that does not match the previous one is left for scan to report.
     */
    const maskedStep = (at: (t: number, rank: number) => Tensor, t: number, state: S, next: S, output: Tensor): readonly [S, Tensor] => {
      if (!(output instanceof Tensor) || output.rank === 0 || output.shape[0] !== batch) {
        throw new ShapeError(
          `${name}: ${cellName}.step must return an output with the batch (${batch}) as its leading axis, got ${output instanceof Tensor ? formatShape(output.shape) : typeof output}`,
        );
      }
      const names = next && typeof next === 'object' ? Object.keys(next) : [];
      const matches = names.length === stateNames.length && stateNames.every((n) => next[n] instanceof Tensor && shapesEqual(next[n]!.shape, state[n]!.shape));
      const kept = matches ? (Object.fromEntries(stateNames.map((n) => [n, where(at(t, state[n]!.rank), next[n]!, state[n]!)])) as S) : next;
      return [kept, where(at(t, output.rank), output, 0)];
    };

    // Steps past the longest sequence are padding for everyone: they are not run at all.
    const run = lengths ? Math.max(...lengths) : steps;
    const finals = new Map<string, Tensor[]>(stateNames.map((n) => [n, []]));
    // time-major [T, N, D]: scan runs over the leading axis
    let input = transpose(run < steps ? slice(x, [0, 0, 0], [batch, run, inputSize]) : x, [1, 0, 2]);
    // Given lengths always mean a masked graph (even when every length equals `run`), so a sequence run
    // alone with its length differentiates through exactly the graph it gets inside a padded batch.
    const maskAt = lengths ? stepMasks(lengths) : undefined;
    const timeMask = lengths ? reshape(lengthMask(lengths, run), [run, batch, 1]) : undefined;
    for (let k = 0; k < numLayers; k++) {
      const outputs: Tensor[] = [];
      // Padded steps are zeroed before the cell sees them, so garbage (even NaN) padding cannot reach the
      // parameters' gradients, whether the input work is hoisted out of the loop or not.
      const layerInput = timeMask ? where(timeMask, input, 0) : input;
      directions.forEach((direction, d) => {
        const index = k * numDirections + d;
        const state0 = Object.fromEntries(stateNames.map((n) => [n, pieces.get(n)?.[index] ?? template[n]!])) as S;
        const cellParams = params.layers[k]![direction] as P;
        const reverse = direction === 'reverse';
        const program = stepProgram(cell, programs, cellParams, state0, run, [batch, layerInput.shape[2]!], dtype);
        let visited = 0;
        const [final, ys] = scan(
          (state: S, xt: readonly Tensor[]) => {
            const { state: next, output } = program.step(cellParams, state, xt);
            if (!maskAt) return [next, output] as const;
            const t = reverse ? run - 1 - visited : visited; // scan visits the steps in this order
            visited++;
            return maskedStep(maskAt, t, state, next, output);
          },
          state0,
          program.stepInputs(cellParams, layerInput),
          { reverse },
        );
        if (ys.rank !== 3) {
          throw new ShapeError(`${name}: ${cellName}.step must return an output of shape [batch, features], got ${formatShape(ys.shape.slice(1))}`);
        }
        outputs.push(ys);
        for (const n of stateNames) finals.get(n)!.push(final[n]!);
      });
      input = outputs.length === 1 ? outputs[0]! : concat(outputs, 2);
      // PyTorch drops out every layer's output except the last's
      if (dropping && k < numLayers - 1) input = applyDropout(input, dropoutP, { key: foldIn(applyOptions.key!, k) });
    }
    let output = transpose(input, [1, 0, 2]);
    if (run < steps) output = concat([output, zeros([batch, steps - run, output.shape[2]!], dtype)], 1);
    const state = Object.fromEntries(stateNames.map((n) => [n, stack(finals.get(n)!, 0)])) as S;
    return { output, state };
  };

  const { toStateDict, fromStateDict } = recurrentStateDict(name, directions, init, checkParams);
  return { name, cell, inputSize, numLayers, bidirectional, numDirections, dropout: dropoutP, init, apply, toStateDict, fromStateDict };
}
