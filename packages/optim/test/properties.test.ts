/** Properties of the transformations (fast-check), on random trees of random shapes and values. */
import { add, cast, div } from '@tapestry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipByValue,
  clipGradNorm,
  globalNorm,
  guardFinite,
  identity,
  rmsprop,
  sgd,
  type GradientTransformation,
} from '@tapestry/optim';
import { problemArb, treeOf, treeShapesArb } from './arbitraries.js';
import { deeplyFrozen, snapshot } from './helpers.js';

const leaves = (tree: unknown): number[][] => snapshot(tree);

/** Every optimiser with random options (exercising each option the parity tests cover). */
const optimizerArb: fc.Arbitrary<[string, GradientTransformation]> = fc.oneof(
  fc
    .record({ momentum: fc.constantFrom(0, 0.9), nesterov: fc.boolean(), weightDecay: fc.constantFrom(0, 0.01) })
    .map((o) => ['sgd', sgd({ lr: 0.1, ...o, nesterov: o.nesterov && o.momentum > 0 })] as [string, GradientTransformation]),
  fc.record({ amsgrad: fc.boolean(), weightDecay: fc.constantFrom(0, 0.1) }).map((o) => ['adam', adam({ lr: 0.01, ...o })] as [string, GradientTransformation]),
  fc.record({ amsgrad: fc.boolean() }).map((o) => ['adamw', adamw({ lr: 0.01, ...o })] as [string, GradientTransformation]),
  fc
    .record({ centered: fc.boolean(), momentum: fc.constantFrom(0, 0.5), weightDecay: fc.constantFrom(0, 0.1) })
    .map((o) => ['rmsprop', rmsprop({ lr: 0.01, ...o })] as [string, GradientTransformation]),
  fc
    .record({ lrDecay: fc.constantFrom(0, 0.1), initialAccumulatorValue: fc.constantFrom(0, 0.5) })
    .map((o) => ['adagrad', adagrad({ lr: (k) => div(0.1, add(cast(k, 'float64'), 1)), ...o })] as [string, GradientTransformation]),
  fc.constant(['guarded clip chain', guardFinite(chain(clipByGlobalNorm(1), clipByValue(0.5), adam({ lr: 0.01 })))] as [string, GradientTransformation]),
);

describe('purity', () => {
  it('init, update and applyUpdates never mutate their inputs, and states and updates are frozen', () => {
    fc.assert(
      fc.property(problemArb(3), optimizerArb, ({ params, grads }, [, opt]) => {
        const before = { params: leaves(params), grads: grads.map(leaves), paramKeys: JSON.stringify(Object.keys(params)) };
        let state = opt.init(params);
        expect(deeplyFrozen(state)).toBe(true);
        let p: unknown = params;
        for (const g of grads) {
          const stateBefore = leaves(state);
          const pBefore = leaves(p);
          const { updates, state: next } = opt.update(g, state, p);
          expect(leaves(state)).toEqual(stateBefore);
          expect(deeplyFrozen(next)).toBe(true);
          expect(deeplyFrozen(updates)).toBe(true);
          const newP = applyUpdates(p, updates);
          expect(leaves(p)).toEqual(pBefore);
          expect(newP).not.toBe(p);
          p = newP;
          state = next;
        }
        expect(leaves(params)).toEqual(before.params);
        expect(grads.map(leaves)).toEqual(before.grads);
        expect(JSON.stringify(Object.keys(params))).toBe(before.paramKeys);
      }),
      { numRuns: 40 },
    );
  });

  it('applyUpdates is params + updates, leaf by leaf', () => {
    fc.assert(
      fc.property(problemArb(1), ({ params, grads }) => {
        const out = applyUpdates(params, grads[0]!) as Record<string, unknown>;
        const flatP = leaves(params);
        const flatU = leaves(grads[0]);
        expect(leaves(out)).toEqual(flatP.map((xs, i) => xs.map((x, j) => x + flatU[i]![j]!)));
      }),
      { numRuns: 30 },
    );
  });
});

describe('clipByGlobalNorm', () => {
  const maxNormArb = fc.double({ min: 1e-3, max: 100, noNaN: true });
  const scaleArb = fc.constantFrom(1e-3, 1, 10, 1e3);

  it('output norm is at most maxNorm (+1e-6 as PyTorch) and equals maxNorm·total/(total+1e-6) when clipping', () => {
    fc.assert(
      fc.property(
        treeShapesArb.chain((s) => scaleArb.chain((scale) => treeOf(s, scale))),
        maxNormArb,
        (grads, maxNorm) => {
          const t = clipByGlobalNorm(maxNorm);
          const { updates } = t.update(grads, t.init(grads));
          const total = globalNorm(grads).item();
          const out = globalNorm(updates).item();
          expect(out).toBeLessThanOrEqual(maxNorm + 1e-6);
          if (total + 1e-6 > maxNorm) {
            expect(Math.abs(out - (maxNorm * total) / (total + 1e-6))).toBeLessThanOrEqual(1e-12 * maxNorm);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves gradients whose norm is below maxNorm unchanged, bit for bit', () => {
    fc.assert(
      fc.property(
        treeShapesArb.chain((s) => treeOf(s, 1)),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (grads, extra) => {
          const maxNorm = globalNorm(grads).item() + 1e-6 + extra;
          const t = clipByGlobalNorm(maxNorm);
          expect(leaves(t.update(grads, t.init(grads)).updates)).toEqual(leaves(grads));
          expect(clipGradNorm(grads, maxNorm).totalNorm.item()).toBe(globalNorm(grads).item());
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the global norm is the norm of all leaves concatenated', () => {
    fc.assert(
      fc.property(
        treeShapesArb.chain((s) => treeOf(s)),
        (tree) => {
          const all = leaves(tree).flat();
          const expected = Math.sqrt(all.reduce((s, v) => s + v * v, 0));
          expect(Math.abs(globalNorm(tree).item() - expected)).toBeLessThanOrEqual(1e-12 * Math.max(expected, 1));
          const l1 = all.reduce((s, v) => s + Math.abs(v), 0);
          expect(Math.abs(globalNorm(tree, { normType: 1 }).item() - l1)).toBeLessThanOrEqual(1e-12 * Math.max(l1, 1));
          expect(globalNorm(tree, { normType: Infinity }).item()).toBe(Math.max(...all.map(Math.abs)));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('chain', () => {
  it('a chain of identities is the identity', () => {
    fc.assert(
      fc.property(problemArb(1), fc.integer({ min: 0, max: 4 }), ({ params, grads }, n) => {
        const t = chain(...Array.from({ length: n }, () => identity()));
        const { updates, state } = t.update(grads[0]!, t.init(params), params);
        expect(leaves(updates)).toEqual(leaves(grads[0]));
        expect(state).toHaveLength(n);
      }),
      { numRuns: 30 },
    );
  });

  it('wrapping an optimiser in identities changes nothing', () => {
    fc.assert(
      fc.property(problemArb(3), optimizerArb, ({ params, grads }, [, opt]) => {
        const wrapped = chain(identity(), opt, identity());
        let a = opt.init(params);
        let b = wrapped.init(params);
        for (const g of grads) {
          const ra = opt.update(g, a, params);
          const rb = wrapped.update(g, b, params);
          expect(leaves(rb.updates)).toEqual(leaves(ra.updates));
          a = ra.state;
          b = rb.state;
        }
      }),
      { numRuns: 30 },
    );
  });

  it('feeds each transformation the previous one’s updates', () => {
    fc.assert(
      fc.property(problemArb(2), ({ params, grads }) => {
        const a = clipByValue(0.5);
        const b = sgd({ lr: 0.1, momentum: 0.9 });
        const both = chain(a, b);
        let sb = b.init(params);
        let s = both.init(params);
        for (const g of grads) {
          const clipped = a.update(g, a.init(params)).updates;
          const rb = b.update(clipped, sb, params);
          const r = both.update(g, s, params);
          expect(leaves(r.updates)).toEqual(leaves(rb.updates));
          sb = rb.state;
          s = r.state;
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe('descent direction', () => {
  it('the first update of every optimiser points against the gradient, element by element', () => {
    fc.assert(
      fc.property(problemArb(1), ({ params, grads }) => {
        for (const opt of [
          sgd({ lr: 0.1 }),
          adam({ lr: 1e-3 }),
          adam({ lr: 1e-3, amsgrad: true }),
          rmsprop({ lr: 1e-3, centered: true }),
          adagrad({ lr: 1e-3 }),
        ]) {
          const { updates } = opt.update(grads[0]!, opt.init(params), params);
          const g = leaves(grads[0]).flat();
          leaves(updates)
            .flat()
            .forEach((u, i) => {
              // below ~1e-300 the product with the learning rate may underflow to zero
              if (Math.abs(g[i]!) > 1e-300) expect(Math.sign(u)).toBe(-Math.sign(g[i]!));
            });
        }
      }),
      { numRuns: 30 },
    );
  });
});
