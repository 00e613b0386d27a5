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
  ShapeError,
  splitKey,
} from '@tapestry/core';
import type { DType, Key, Tensor } from '@tapestry/core';
import { uniform, type Initializer } from './init.js';
import { readStateDict, type StateDict, type StateDictInput } from './state-dict.js';

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** Whether to add a bias (default true). */
  readonly bias?: boolean;
  /** Parameter dtype (default `'float32'`). */
  readonly dtype?: DType;
  /** Weight initialiser (default PyTorch's U(-1/√inFeatures, 1/√inFeatures)). */
  readonly weightInit?: Initializer;
  /** Bias initialiser (default PyTorch's U(-1/√inFeatures, 1/√inFeatures)). */
  readonly biasInit?: Initializer;
}

/** Parameters of a {@link linear} layer, in PyTorch's layout. */
export interface LinearParams {
  /** [outFeatures, inFeatures]. */
  readonly weight: Tensor;
  /** [outFeatures] (absent with `bias: false`). */
  readonly bias?: Tensor;
}

/** A linear layer definition: `init` makes the parameters, `apply` computes `x Wᵀ + b`. */
export interface LinearLayer {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** Creates `{ weight, bias }`. */
  init(key: Key): LinearParams;
  /** `x Wᵀ + b` over the last axis: x [..., inFeatures] → [..., outFeatures]. */
  apply(params: LinearParams, x: Tensor): Tensor;
  /** `{ weight, bias }` under PyTorch's names (which are the same). */
  toStateDict(params: LinearParams): StateDict;
  /** The inverse of `toStateDict`, checking names and shapes. */
  fromStateDict(dict: StateDictInput): LinearParams;
}

/**
 * PyTorch's `nn.Linear`: y = x Wᵀ + b over the last axis of x, with W [outFeatures, inFeatures] and
 * PyTorch's default initialisation (weight and bias ~ U(-1/√inFeatures, 1/√inFeatures)).
 * @example
 * ```ts
 * const head = linear({ inFeatures: 128, outFeatures: 65 });
 * const logits = head.apply(head.init(randomKey(1)), output); // output [N, T, 128] → [N, T, 65]
 * ```
 */
export function linear(options: LinearOptions): LinearLayer {
  expectKnownOptions('linear', options, ['inFeatures', 'outFeatures', 'bias', 'dtype', 'weightInit', 'biasInit']);
  const inFeatures = expectPositiveInteger('linear', 'inFeatures', options?.inFeatures);
  const outFeatures = expectPositiveInteger('linear', 'outFeatures', options.outFeatures);
  const hasBias = expectOptionalBoolean('linear', 'bias', options.bias) ?? true;
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`linear: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  // kaiming_uniform_(a=√5) on the weight reduces to this bound; the bias uses the same one
  const bound = 1 / Math.sqrt(inFeatures);
  const weightInit = options.weightInit ?? uniform(-bound, bound);
  const biasInit = options.biasInit ?? uniform(-bound, bound);

  const expected = [{ name: 'weight', shape: [outFeatures, inFeatures], dtype }, ...(hasBias ? [{ name: 'bias', shape: [outFeatures], dtype }] : [])];
  return {
    inFeatures,
    outFeatures,
    init: (key) => {
      const [kw, kb] = splitKey(key, 2) as [Key, Key];
      const weight = weightInit(kw, [outFeatures, inFeatures], dtype);
      return Object.freeze(hasBias ? { weight, bias: biasInit(kb, [outFeatures], dtype) } : { weight });
    },
    apply: (params, x) => {
      expectFloatTensor('linear', 'x', x);
      if (!params || !params.weight) throw new ArgumentError('linear: params must be { weight, bias? } as linear(...).init returns');
      if (x.rank === 0 || x.shape[x.rank - 1] !== inFeatures) {
        throw new ShapeError(`linear: x must be [..., inFeatures] = [..., ${inFeatures}], got ${formatShape(x.shape)}`);
      }
      if (x.dtype !== params.weight.dtype) {
        throw new DTypeError(`linear: x has dtype ${x.dtype} but the weight is ${params.weight.dtype}; cast x with cast(x, '${params.weight.dtype}')`);
      }
      const y = matmul(x, params.weight, { transposeB: true });
      return params.bias ? add(y, params.bias) : y;
    },
    toStateDict: (params) => {
      const dict: Record<string, Tensor> = { weight: params.weight };
      if (params.bias) dict.bias = params.bias;
      return Object.freeze(dict);
    },
    fromStateDict: (dict) => {
      const [weight, bias] = readStateDict('linear.fromStateDict', expected, dict);
      return Object.freeze(bias ? { weight: weight!, bias } : { weight: weight! });
    },
  };
}
