import { tensor, type Tensor } from '@tapestry/core';
import fc from 'fast-check';

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const valueArb = (scale: number) => fc.double({ min: -scale, max: scale, noNaN: true, noDefaultInfinity: true });

/** A float64 tensor of a random shape (rank 0–3) with values in [−scale, scale]. */
function tensorOfShape(shape: readonly number[], scale = 10): fc.Arbitrary<Tensor> {
  const size = shape.reduce((a, b) => a * b, 1);
  return fc.array(valueArb(scale), { minLength: size, maxLength: size }).map((v) => tensor(Float64Array.from(v), { shape: [...shape] }));
}

/** Leaf shapes of a two-level tree: `{ k0: T, k1: [T, T], … }`. */
export const treeShapesArb = fc.array(fc.array(shapeArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 });

/** A tree of float64 tensors with the given leaf shapes. */
export function treeOf(shapes: readonly (readonly (readonly number[])[])[], scale = 10): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(...shapes.map((group) => fc.tuple(...group.map((s) => tensorOfShape(s, scale))))).map((groups) => {
    const tree: Record<string, unknown> = {};
    groups.forEach((g, i) => (tree[`k${i}`] = g.length === 1 ? g[0] : [...g]));
    return tree;
  });
}

/** Params and `steps` gradient trees of one random structure. */
export function problemArb(steps: number, scale = 10) {
  return treeShapesArb.chain((shapes) =>
    fc.record({
      params: treeOf(shapes, scale),
      grads: fc.array(treeOf(shapes, scale), { minLength: steps, maxLength: steps }),
    }),
  );
}
