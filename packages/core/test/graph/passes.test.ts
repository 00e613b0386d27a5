/** Each graph pass: what it removes, merges or folds on small graphs, and that it preserves results. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  add,
  eliminateCommonSubexpressions,
  eliminateDeadCode,
  evaluate,
  exp,
  findFusionGroups,
  foldConstants,
  grad,
  hoistStepInvariant,
  matmul,
  mul,
  scalar,
  sigmoid,
  slice,
  sub,
  sum,
  tanh,
  tensor,
  trace,
  zeros,
  reshape,
  type Graph,
  type Tensor,
} from '@tapestry/core';
import { accumulatePads, accumulateProducts, broadcastTo, foldBroadcasts, log, max, sinkSlices } from '@tapestry/core';
import { closeEnough, programArb, programLoss, runProgram, valuesFor } from './programs.js';

const x3 = zeros([2, 3], 'float64');

function expectSameResults(a: Graph, b: Graph, args: unknown[], rel = 0): void {
  const ra = evaluate(a, ...args) as Tensor[] | Tensor;
  const rb = evaluate(b, ...args) as Tensor[] | Tensor;
  const la = Array.isArray(ra) ? ra : [ra];
  const lb = Array.isArray(rb) ? rb : [rb];
  expect(lb.length).toBe(la.length);
  la.forEach((t, i) => expect(closeEnough(lb[i]!, t, rel), `result ${i}`).toBeNull());
}

describe('dead-code elimination', () => {
  it('drops values no result needs, keeps inputs', () => {
    const g = trace(
      (x: Tensor, _unused: Tensor) => {
        exp(x);
        return tanh(x);
      },
      x3,
      x3,
    );
    const d = eliminateDeadCode(g);
    expect(g.opCounts().exp).toBe(1);
    expect(d.opCounts()).toEqual({ input: 2, tanh: 1 });
    expect(d.toString()).toContain('%2: f64[2,3] = tanh(%0)');
  });
});

describe('common-subexpression elimination', () => {
  it('merges repeated ops on the same inputs and equal small constants', () => {
    const g = trace((x: Tensor) => add(mul(tanh(x), sub(1, x)), mul(tanh(x), sub(1, x))), x3);
    expect(g.opCounts()).toMatchObject({ tanh: 2, sub: 2, mul: 2, const: 2 });
    const c = eliminateDeadCode(eliminateCommonSubexpressions(g));
    expect(c.opCounts()).toEqual({ input: 1, const: 1, tanh: 1, sub: 1, mul: 1, add: 1 });
  });

  it('keeps ops with different attributes apart', () => {
    const g = trace((x: Tensor) => [sum(x, 0), sum(x, 1)], x3);
    expect(eliminateCommonSubexpressions(g).opCounts().sum).toBe(2);
  });
});

describe('constant folding', () => {
  it('computes nodes whose inputs are all constants', () => {
    const g = trace((x: Tensor) => mul(x, add(scalar(1, 'float64'), exp(scalar(0, 'float64')))), x3);
    expect(g.opCounts()).toMatchObject({ add: 1, exp: 1 });
    const f = eliminateDeadCode(foldConstants(g));
    expect(f.opCounts()).toEqual({ input: 1, const: 1, mul: 1 });
    expect(f.toString()).toContain('const(2)');
    expectSameResults(g, f, [
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'float64' },
      ),
    ]);
  });
});

describe('fusion', () => {
  it('puts an LSTM cell update in one group, leaving the slices out', () => {
    const g = trace(
      (gates: Tensor, c: Tensor) => {
        const [i, f, gg, o] = [0, 1, 2, 3].map((k) => slice(gates, [0, 2 * k], [4, 2]));
        const c2 = add(mul(sigmoid(f!), c), mul(sigmoid(i!), tanh(gg!)));
        return [mul(sigmoid(o!), tanh(c2)), c2];
      },
      zeros([4, 8]),
      zeros([4, 2]),
    );
    const groups = findFusionGroups(g);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.members.map((m) => g.nodes[m]!.op).sort()).toEqual(['add', 'mul', 'mul', 'mul', 'sigmoid', 'sigmoid', 'sigmoid', 'tanh', 'tanh'].sort());
  });

  it('closes a group when a non-elementwise node reads it, and never mixes shapes', () => {
    const g = trace((x: Tensor) => {
      const a = tanh(exp(x)); // group 1
      const s = sum(a, 1, true); // reads the group: closes it
      return mul(add(a, s), 2); // [2,3]: a new group (a is read from outside now)
    }, x3);
    const groups = findFusionGroups(g);
    expect(groups.map((gr) => gr.members.map((m) => g.nodes[m]!.op))).toEqual([
      ['exp', 'tanh'],
      ['add', 'mul'],
    ]);
  });
});

describe('pad accumulation', () => {
  it('turns the summed gradients of per-step slices into one concat', () => {
    const T = 4;
    const loss = (xs: Tensor) => {
      let total = scalar(0, 'float64');
      for (let t = 0; t < T; t++) total = add(total, sum(tanh(reshape(slice(xs, [0, t], [2, 1]), [2]))));
      return total;
    };
    const xs = valuesFor([2, T], 3, 'float64');
    const g = eliminateDeadCode(trace(grad(loss), xs));
    expect(g.opCounts().pad).toBe(T);
    const a = eliminateDeadCode(accumulatePads(g));
    expect(a.opCounts().pad).toBeUndefined();
    expect(a.opCounts().concat).toBe(1);
    expectSameResults(g, a, [xs]);
  });

  it('fills gaps with zeros and leaves overlapping slabs alone', () => {
    const gapped = (xs: Tensor) => add(sum(tanh(slice(xs, [0, 0], [2, 1]))), sum(tanh(slice(xs, [0, 2], [2, 1]))));
    const xs = valuesFor([2, 4], 4, 'float64');
    const g = eliminateDeadCode(trace(grad(gapped), xs));
    const a = eliminateDeadCode(accumulatePads(g));
    expect(a.opCounts().concat).toBe(1);
    expectSameResults(g, a, [xs]);
    const overlapping = (v: Tensor) => add(sum(tanh(slice(v, [0, 0], [2, 2]))), sum(exp(slice(v, [0, 1], [2, 2]))));
    const o = eliminateDeadCode(trace(grad(overlapping), xs));
    expect(accumulatePads(o)).toBe(o);
  });

  it("makes each sum that reads a pad a concat of its own (a GRU's gate cotangents, shared by both projections)", () => {
    // r and z read column blocks of both a and b, so their cotangents' pads go into both gradients
    const gates = (a: Tensor, b: Tensor) => {
      const [ar, az, an] = [0, 2, 4].map((at) => slice(a, [0, at], [3, 2]));
      const [br, bz, bn] = [0, 2, 4].map((at) => slice(b, [0, at], [3, 2]));
      const r = sigmoid(add(ar!, br!));
      const z = sigmoid(add(az!, bz!));
      return sum(mul(z, tanh(add(an!, mul(r, bn!)))));
    };
    const args = [valuesFor([3, 6], 5, 'float64'), valuesFor([3, 6], 6, 'float64')];
    const g = eliminateCommonSubexpressions(eliminateDeadCode(trace(grad(gates, [0, 1]), ...args)));
    expect(g.opCounts().pad).toBe(4); // the r and z pads shared by both sums
    const a = eliminateDeadCode(accumulatePads(g));
    expect(a.opCounts().pad).toBeUndefined();
    expect(a.opCounts().concat).toBe(2);
    expectSameResults(g, a, args);
  });
});

describe('broadcast folding', () => {
  const count = (g: Graph) => g.nodes.filter((n) => n.op === 'broadcastTo').length;

  it("folds a reduction's broadcast cotangent into the elementwise nodes that read it (a log-softmax's gradient)", () => {
    const logSoftmaxLoss = (x: Tensor) => {
      const shifted = sub(x, max(x, [1], true));
      return sum(mul(sub(shifted, log(sum(exp(shifted), [1], true))), tensor([[1, 0, 0, 0, 2]], { dtype: 'float64' })));
    };
    const x = tensor(
      [
        [0.5, -1, 2, 0.25, 1],
        [3, 0, -2, 1, 0.5],
      ],
      { dtype: 'float64' },
    );
    const g = eliminateDeadCode(trace(grad(logSoftmaxLoss), x));
    expect(count(g)).toBeGreaterThan(0);
    const folded = eliminateDeadCode(foldBroadcasts(g));
    expect(count(folded)).toBeLessThan(count(g));
    expectSameResults(g, folded, [x]);
  });

  it('keeps a broadcast that a reader needs for its shape, that a non-elementwise node reads, or that is returned', () => {
    const f = (x: Tensor, y: Tensor, z: Tensor) => {
      const wide = broadcastTo(x, [2, 3]); // exp would shrink to [2, 1]
      const square = broadcastTo(y, [3, 3]); // matmul reads it
      return [
        add(exp(wide), wide),
        add(matmul(square, square), square),
        broadcastTo(x, [2, 4]), // a result
        mul(broadcastTo(y, [2, 3]), z), // the one that folds
      ];
    };
    const args = [
      tensor([[1], [2]], { dtype: 'float64' }),
      tensor([[1, 2, 3]], { dtype: 'float64' }),
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'float64' },
      ),
    ];
    const g = eliminateCommonSubexpressions(trace(f, ...args));
    const folded = eliminateDeadCode(foldBroadcasts(g));
    expect(count(g)).toBe(4);
    expect(count(folded)).toBe(3);
    expectSameResults(g, folded, args);
  });
});

describe('slice sinking', () => {
  const shapesOf = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).map((n) => n.shape.join('x'));
  // an LSTM step's gates: one [2, 8] sum of the recurrent product, a bias and a projection, cut four ways
  const lstmGates = (h: Tensor, w: Tensor, b: Tensor, gi: Tensor) => {
    const gates = add(add(matmul(h, w), b), gi);
    const [i, f, g, o] = [0, 2, 4, 6].map((at) => slice(gates, [0, at], [2, 2]));
    const c = add(mul(sigmoid(f!), tanh(g!)), sigmoid(i!));
    return mul(sigmoid(o!), tanh(c));
  };
  const lstmArgs = [valuesFor([2, 3], 1, 'float64'), valuesFor([3, 8], 2, 'float64'), valuesFor([8], 3, 'float64')];

  it("computes an LSTM's gate pre-activations slice by slice, through both adds, with the same bits", () => {
    // the projection's part for this step is itself a slice: slices of it compose into slices of the projection
    const f = (h: Tensor, w: Tensor, b: Tensor, proj: Tensor) => lstmGates(h, w, b, slice(proj, [0, 24], [2, 8]));
    const args = [...lstmArgs.slice(0, 3), valuesFor([2, 40], 4, 'float64')];
    const g = eliminateDeadCode(trace(f, ...args));
    expect(shapesOf(g, 'add')).toContain('2x8');
    const sunk = eliminateDeadCode(sinkSlices(g));
    // no [2, 8] sum: eight [2, 2] adds (and the cell's own), reading slices of the product, the bias and the projection
    expect(shapesOf(sunk, 'add')).not.toContain('2x8');
    expect(shapesOf(sunk, 'add').filter((s) => s === '2x2')).toHaveLength(9);
    const sources = sunk.nodes.filter((n) => n.op === 'slice').map((n) => sunk.nodes[n.inputs[0]!]!.shape.join('x'));
    expect(sources.sort()).toEqual([...new Array<string>(4).fill('2x40'), ...new Array<string>(4).fill('2x8'), ...new Array<string>(4).fill('8')]);
    expectSameResults(g, sunk, args);
  });

  it('keeps slices that overlap, that a non-elementwise node reads, or that are returned, and values read whole too', () => {
    const f = (h: Tensor, w: Tensor, b: Tensor) => {
      const a = add(matmul(h, w), b);
      const overlapping = add(slice(exp(a), [0, 0], [2, 4]), slice(exp(a), [0, 2], [2, 4]));
      const product = matmul(slice(tanh(a), [0, 0], [2, 3]), w);
      const returned = slice(sigmoid(a), [0, 0], [2, 4]);
      const whole = add(sum(mul(a, a)), sum(slice(a, [0, 4], [2, 4])));
      return [overlapping, product, returned, whole];
    };
    const args = lstmArgs;
    const g = eliminateCommonSubexpressions(eliminateDeadCode(trace(f, ...args)));
    expect(sinkSlices(g)).toBe(g);
  });

  it('sinks disjoint slices that leave elements out, and slices of broadcast operands along the axes they vary on', () => {
    const f = (x: Tensor, row: Tensor, column: Tensor) => {
      const y = mul(add(x, row), column); // [4, 6] from [4, 6], [6] and [4, 1]
      return [tanh(slice(y, [0, 0], [2, 3])), exp(slice(y, [2, 4], [2, 2]))];
    };
    const args = [valuesFor([4, 6], 5, 'float64'), valuesFor([6], 6, 'float64'), valuesFor([4, 1], 7, 'float64')];
    const g = eliminateDeadCode(trace(f, ...args));
    const sunk = eliminateDeadCode(sinkSlices(g));
    expect(shapesOf(sunk, 'mul')).toEqual(['2x3', '2x2']);
    expect(shapesOf(sunk, 'slice').sort()).toEqual(['2x1', '2x1', '2x2', '2x3', '2', '3'].sort());
    expectSameResults(g, sunk, args);
  });
});

describe('product accumulation', () => {
  it("turns a shared weight's per-step gradient terms into one product over stacked operands", () => {
    const T = 4;
    const loss = (w: Tensor, xs: Tensor) => {
      let total = scalar(0, 'float64');
      for (let t = 0; t < T; t++) total = add(total, sum(tanh(matmul(reshape(slice(xs, [t, 0, 0], [1, 2, 3]), [2, 3]), w))));
      return total;
    };
    const w = valuesFor([3, 5], 1, 'float64');
    const xs = valuesFor([T, 2, 3], 2, 'float64');
    const g = eliminateDeadCode(trace(grad(loss), w, xs));
    expect(g.opCounts().matmul).toBe(2 * T); // T forward products and T terms of dW
    const a = eliminateDeadCode(accumulateProducts(g));
    expect(a.opCounts().matmul).toBe(T + 1);
    const product = a.nodes.find((n) => n.op === 'matmul' && n.shape.join() === '3,5')!;
    expect(a.nodes[product.inputs[0]!]!.shape).toEqual([2 * T, 3]); // the stacked x_t
    expectSameResults(g, a, [w, xs], 1e-12);
  });
});

describe('every pass preserves results on random programs and their gradients', () => {
  const passes: [string, (g: Graph) => Graph][] = [
    ['dead code', eliminateDeadCode],
    ['cse', eliminateCommonSubexpressions],
    ['constant folding', foldConstants],
    ['pad accumulation', accumulatePads],
    ['product accumulation', accumulateProducts],
    ['hoisting', hoistStepInvariant],
    ['broadcast folding', foldBroadcasts],
    ['slice sinking', sinkSlices],
  ];
  for (const [name, pass] of passes) {
    it(name, () => {
      fc.assert(
        fc.property(programArb, ({ shapes, program, seed }) => {
          const args = [valuesFor(shapes[0]!, seed, 'float64'), valuesFor(shapes[1]!, seed + 1, 'float64')];
          const values = trace((x: Tensor, y: Tensor) => runProgram(program, [x, y]), ...args);
          expectSameResults(values, pass(values), args, 1e-12);
          const grads = trace(
            grad((x: Tensor, y: Tensor) => programLoss(program, [x, y]), [0, 1]),
            ...args,
          );
          expectSameResults(grads, pass(grads), args, 1e-12);
        }),
        { numRuns: 25 },
      );
    });
  }
});

describe('hoisting', () => {
  it('needs a shared weight: step products with different weights stay', () => {
    const xs = zeros([2, 3, 4], 'float64');
    const w = zeros([4, 5], 'float64');
    const step = (x: Tensor, t: number) => reshape(slice(x, [0, t, 0], [2, 1, 4]), [2, 4]);
    const g = trace((x: Tensor, a: Tensor, b: Tensor) => [matmul(step(x, 0), a), matmul(step(x, 1), b)], xs, w, w);
    expect(hoistStepInvariant(g)).toBe(g);
  });
});
