/**
 * A maxout layer (Goodfellow et al., 2013): an affine map to `outFeatures · pieces` features followed by
 * core's `maxout`, so each output is the maximum of `pieces` learned linear functions of the input — a
 * learned, piecewise-linear convex activation.
 */
import {
  add,
  ArgumentError,
  DTypeError,
  expectFloatTensor,
  expectKnownOptions,
  expectOptionalBoolean,
  expectPositiveInteger,
  formatShape,
  matmul,
  maxout,
  ShapeError,
  splitKey,
} from '@tapestry/core';
import type { DType, Key, Tensor } from '@tapestry/core';
import { uniform, type Initializer } from './init.js';
import type { LinearParams } from './linear.js';
import { readStateDict, type StateDict, type StateDictInput } from './state-dict.js';

/** Options of {@link maxoutLinear}. */
export interface MaxoutLinearOptions {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features (maxout units). */
  readonly outFeatures: number;
  /** Linear pieces per unit, k ≥ 1 (the paper's k; 2–5 is usual). */
  readonly pieces: number;
  /** Whether the affine map has a bias (default true). */
  readonly bias?: boolean;
  /** Parameter dtype (default `'float32'`). */
  readonly dtype?: DType;
  /** Weight initialiser (default PyTorch's `nn.Linear` one, U(-1/√inFeatures, 1/√inFeatures)). */
  readonly weightInit?: Initializer;
  /** Bias initialiser (default U(-1/√inFeatures, 1/√inFeatures)). */
  readonly biasInit?: Initializer;
}

/** A maxout layer definition: `init` makes the parameters, `apply` computes `maxout(x Wᵀ + b, pieces)`. */
export interface MaxoutLinearLayer {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features (maxout units). */
  readonly outFeatures: number;
  /** Linear pieces per unit. */
  readonly pieces: number;
  /**
   * Creates `{ weight, bias }` with weight [outFeatures · pieces, inFeatures]: rows `j·pieces … j·pieces +
   * pieces − 1` are the pieces of unit `j`.
   */
  init(key: Key): LinearParams;
  /** x [..., inFeatures] → [..., outFeatures]: the maximum over each unit's pieces of `x Wᵀ + b`. */
  apply(params: LinearParams, x: Tensor): Tensor;
  /**
   * `{ weight, bias }` under PyTorch's names: the parameters of an `nn.Linear(inFeatures,
   * outFeatures * pieces)` whose output, viewed as [..., outFeatures, pieces] and maxed over the last axis,
   * is this layer's output.
   */
  toStateDict(params: LinearParams): StateDict;
  /** The inverse of `toStateDict`, checking names and shapes. */
  fromStateDict(dict: StateDictInput): LinearParams;
}

/**
 * A maxout layer: `y_j = max_k (x W_{j,k}ᵀ + b_{j,k})` for `k = 1 … pieces`, computed as a linear map to
 * `outFeatures · pieces` features (PyTorch's `nn.Linear` layout and initialisation) followed by
 * core's `maxout` over groups of `pieces` consecutive features.
 * @example
 * ```ts
 * const layer = maxoutLinear({ inFeatures: 64, outFeatures: 32, pieces: 3 });
 * const params = layer.init(randomKey(0));  // weight [96, 64], bias [96]
 * const y = layer.apply(params, x);         // x [N, 64] → y [N, 32]
 * ```
 */
export function maxoutLinear(options: MaxoutLinearOptions): MaxoutLinearLayer {
  const name = 'maxoutLinear';
  expectKnownOptions(name, options, ['inFeatures', 'outFeatures', 'pieces', 'bias', 'dtype', 'weightInit', 'biasInit']);
  const inFeatures = expectPositiveInteger(name, 'inFeatures', options?.inFeatures);
  const outFeatures = expectPositiveInteger(name, 'outFeatures', options.outFeatures);
  const pieces = expectPositiveInteger(name, 'pieces', options.pieces);
  const hasBias = expectOptionalBoolean(name, 'bias', options.bias) ?? true;
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`${name}: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  const rows = outFeatures * pieces;
  // the bound of nn.Linear(inFeatures, rows): it depends on the fan-in only
  const bound = 1 / Math.sqrt(inFeatures);
  const weightInit = options.weightInit ?? uniform(-bound, bound);
  const biasInit = options.biasInit ?? uniform(-bound, bound);
  const expected = [{ name: 'weight', shape: [rows, inFeatures], dtype }, ...(hasBias ? [{ name: 'bias', shape: [rows], dtype }] : [])];
  return {
    inFeatures,
    outFeatures,
    pieces,
    init: (key) => {
      const [kw, kb] = splitKey(key, 2) as [Key, Key];
      const weight = weightInit(kw, [rows, inFeatures], dtype);
      return Object.freeze(hasBias ? { weight, bias: biasInit(kb, [rows], dtype) } : { weight });
    },
    apply: (params, x) => {
      expectFloatTensor(name, 'x', x);
      if (!params || !params.weight) throw new ArgumentError(`${name}: params must be { weight, bias? } as ${name}(...).init returns`);
      if (params.weight.rank !== 2 || params.weight.shape[0] !== rows || params.weight.shape[1] !== inFeatures) {
        throw new ShapeError(
          `${name}: params.weight must be [outFeatures · pieces, inFeatures] = [${rows}, ${inFeatures}], got ${formatShape(params.weight.shape)}`,
        );
      }
      if (x.rank === 0 || x.shape[x.rank - 1] !== inFeatures) {
        throw new ShapeError(`${name}: x must be [..., inFeatures] = [..., ${inFeatures}], got ${formatShape(x.shape)}`);
      }
      if (x.dtype !== params.weight.dtype) {
        throw new DTypeError(`${name}: x has dtype ${x.dtype} but the weight is ${params.weight.dtype}; cast x with cast(x, '${params.weight.dtype}')`);
      }
      const z = matmul(x, params.weight, { transposeB: true });
      return maxout(params.bias ? add(z, params.bias) : z, pieces, -1);
    },
    toStateDict: (params) => {
      const dict: Record<string, Tensor> = { weight: params.weight };
      if (params.bias) dict.bias = params.bias;
      return Object.freeze(dict);
    },
    fromStateDict: (dict) => {
      const [weight, bias] = readStateDict(`${name}.fromStateDict`, expected, dict);
      return Object.freeze(bias ? { weight: weight!, bias } : { weight: weight! });
    },
  };
}
