/** The public argument checks: what passes (returned unchanged), and the exact message of what does not. */
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  describeValue,
  DTypeError,
  expectBoolean,
  expectFinite,
  expectFloatTensor,
  expectInteger,
  expectKnownOptions,
  expectNonNegative,
  expectOptionalBoolean,
  expectPositive,
  expectPositiveInteger,
  expectProbability,
  expectTensor,
  expectUnitInterval,
  formatShape,
  shapesEqual,
  tensor,
} from '@tapestry/core';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('argument checks', () => {
  it('describe values and shapes for messages', () => {
    expect([null, [1], new Float32Array(2), 'abc', {}, () => 1, 3, NaN, undefined].map(describeValue)).toEqual([
      'null',
      'an array',
      'a Float32Array',
      '"abc"',
      'an object',
      'a function',
      '3',
      'NaN',
      'undefined',
    ]);
    expect(describeValue('x'.repeat(50))).toBe(JSON.stringify(`${'x'.repeat(40)}…`));
    expect(formatShape([])).toBe('[]');
    expect(formatShape([2, 3])).toBe('[2, 3]');
    expect(shapesEqual([2, 3], [2, 3])).toBe(true);
    expect(shapesEqual([2, 3], [3, 2])).toBe(false);
    expect(shapesEqual([2], [2, 1])).toBe(false);
  });

  it('tensors: any dtype, or float only', () => {
    const x = tensor([1, 2]);
    const ids = tensor([1, 2], { dtype: 'int32' });
    expect(expectTensor('f', 'x', ids)).toBe(ids);
    expect(expectFloatTensor('f', 'x', x)).toBe(x);
    expect(thrown(() => expectTensor('f', 'x', [1, 2])).message).toBe('f: x must be a Tensor, got an array (wrap it with tensor(...))');
    expect(thrown(() => expectTensor('f', 'x', null)).message).toBe('f: x must be a Tensor, got null');
    const e = thrown(() => expectFloatTensor('f', 'x', ids));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toBe('f: x must be float32 or float64, got int32 [2] (use cast())');
  });

  it('integers', () => {
    expect(expectInteger('f', 'n', -3)).toBe(-3);
    expect(expectInteger('f', 'n', 0, 0)).toBe(0);
    expect(thrown(() => expectInteger('f', 'n', -1, 0)).message).toBe('f: n must be an integer ≥ 0, got -1');
    expect(thrown(() => expectInteger('f', 'n', 1.5)).message).toBe('f: n must be an integer, got 1.5');
    expect(thrown(() => expectInteger('f', 'n', 2 ** 60)).message).toBe(`f: n must be an integer, got ${2 ** 60}`);
    expect(expectPositiveInteger('f', 'n', 1)).toBe(1);
    for (const bad of [0, 2.5, '3', NaN]) {
      expect(thrown(() => expectPositiveInteger('f', 'n', bad)).message).toBe(`f: n must be a positive integer, got ${String(bad)}`);
    }
  });

  it('numbers: finite, non-negative, positive, [0, 1), [0, 1]', () => {
    expect(expectFinite('f', 'a', -1.5)).toBe(-1.5);
    for (const bad of [NaN, Infinity, '1']) expect(thrown(() => expectFinite('f', 'a', bad)).message).toBe(`f: a must be a finite number, got ${String(bad)}`);
    expect(expectNonNegative('f', 'a', 0)).toBe(0);
    expect(thrown(() => expectNonNegative('f', 'a', -1)).message).toBe('f: a must be >= 0, got -1');
    expect(thrown(() => expectNonNegative('f', 'a', NaN)).message).toBe('f: a must be a finite number, got NaN');
    expect(expectPositive('f', 'a', 1e-9)).toBe(1e-9);
    expect(thrown(() => expectPositive('f', 'a', 0)).message).toBe('f: a must be > 0, got 0');
    expect(expectUnitInterval('f', 'beta', 0)).toBe(0);
    expect(thrown(() => expectUnitInterval('f', 'beta', 1)).message).toBe('f: beta must be in [0, 1), got 1');
    expect(expectProbability('f', 'p', 1)).toBe(1);
    for (const bad of [-0.1, 1.1, NaN, '0.5']) {
      expect(thrown(() => expectProbability('f', 'p', bad)).message).toBe(`f: p must be a probability in [0, 1], got ${String(bad)}`);
    }
  });

  it('booleans and option keys', () => {
    expect(expectBoolean('f', 'flag', false)).toBe(false);
    expect(thrown(() => expectBoolean('f', 'flag', 'no')).message).toBe('f: flag must be true or false, got "no"');
    expect(thrown(() => expectBoolean('f', 'flag', undefined)).message).toBe('f: flag must be true or false, got undefined');
    expect(expectOptionalBoolean('f', 'flag', undefined)).toBeUndefined();
    expect(thrown(() => expectOptionalBoolean('f', 'flag', 1)).message).toBe('f: flag must be true or false, got 1');
    expect(() => expectKnownOptions('f', { bias: true }, ['bias', 'dtype'])).not.toThrow();
    expect(() => expectKnownOptions('f', undefined, ['bias'])).not.toThrow();
    const e = thrown(() => expectKnownOptions('f', { biass: true }, ['bias', 'dtype']));
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toBe('f: unknown option "biass" (the options are bias, dtype)');
  });
});
