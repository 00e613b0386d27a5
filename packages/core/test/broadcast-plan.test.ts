/**
 * The broadcast plan of the elementwise kernels: for every element of the output, each operand's row table
 * and inner stride must point at the element broadcasting gives it, in its own storage or, for an operand read
 * through a strided layout (a slice read in place), in the storage it is a slice of.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planBroadcast } from '../src/kernels/broadcast-plan.js';
import { stridesOf, type Shape } from '../src/shape.js';
import { broadcastableTo, RUNS, shapeArb } from './arbitraries.js';
import type { StridedLayout } from '@tapestry/core';

/** The storage index of the operand element that output element `index` (a multi-index) reads. */
function expectedOffset(shape: Shape, outShape: Shape, index: readonly number[], layout: StridedLayout | null): number {
  const strides = layout?.strides ?? stridesOf(shape);
  const lead = outShape.length - shape.length;
  let offset = layout?.offset ?? 0;
  shape.forEach((d, a) => (offset += d === 1 ? 0 : index[a + lead]! * strides[a]!));
  return offset;
}

/** Every multi-index of `shape`, in row-major order. */
function indices(shape: Shape): number[][] {
  let all: number[][] = [[]];
  for (const d of shape) all = all.flatMap((prefix) => Array.from({ length: d }, (_, i) => [...prefix, i]));
  return all;
}

/** A layout for `shape` as a block of a larger row-major value: each axis up to 2 longer, the block anywhere in it. */
function layoutArb(shape: Shape): fc.Arbitrary<StridedLayout | null> {
  const host = fc.tuple(
    ...shape.map((d) => fc.integer({ min: 0, max: 2 }).chain((extra) => fc.tuple(fc.constant(d + extra), fc.integer({ min: 0, max: extra })))),
  );
  return fc.option(
    host.map((axes) => {
      const strides = stridesOf(axes.map(([size]) => size));
      return { offset: axes.reduce((sum, [, begin], a) => sum + begin * strides[a]!, 0), strides };
    }),
  );
}

const caseArb = shapeArb(0, 3).chain((out) =>
  fc
    .array(broadcastableTo(out), { minLength: 1, maxLength: 3 })
    .chain((shapes) => fc.tuple(fc.constant(out), fc.constant(shapes), fc.tuple(...shapes.map(layoutArb)))),
);

describe('broadcast plan', () => {
  it('points every operand at the element broadcasting gives it, through strided layouts too', () => {
    fc.assert(
      fc.property(caseArb, ([outShape, shapes, layouts]) => {
        const { outer, inner, rows, strides } = planBroadcast(shapes, outShape, layouts);
        const all = indices(outShape);
        expect(outer * inner).toBe(all.length);
        all.forEach((index, flat) => {
          const [r, j] = [Math.floor(flat / inner), flat % inner];
          shapes.forEach((shape, k) => {
            const got = (rows[k] === null ? 0 : rows[k]![r]!) + j * strides[k]!;
            expect(got, `operand ${k} ${JSON.stringify(shape)} at [${index.join(', ')}]`).toBe(expectedOffset(shape, outShape, index, layouts[k]!));
          });
        });
      }),
      { numRuns: 10 * RUNS },
    );
  });

  it("walks an LSTM gate's block of a [32, 512] value as rows of 128, 512 apart, and its bias as one repeated row", () => {
    const gate = { offset: 128, strides: [512, 1] };
    const bias = { offset: 128, strides: [1] };
    const { outer, inner, rows, strides } = planBroadcast([[32, 128], [128], [32, 128]], [32, 128], [gate, bias, null]);
    expect([outer, inner, strides]).toEqual([32, 128, [1, 1, 1]]);
    expect(Array.from(rows[0]!.slice(0, 3))).toEqual([128, 640, 1152]);
    expect(new Set(rows[1]!)).toEqual(new Set([128]));
    expect(Array.from(rows[2]!.slice(0, 3))).toEqual([0, 128, 256]);
  });
});
