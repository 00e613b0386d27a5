/** trace and jit as users meet them: listings, static leaves, constants, errors, the cache, composition. */
import { describe, expect, it } from 'vitest';
import {
  add,
  ArgumentError,
  evaluate,
  gather,
  grad,
  jit,
  matmul,
  mul,
  ShapeError,
  sum,
  tanh,
  tensor,
  trace,
  valueAndGrad,
  zeros,
  type Tensor,
} from '@tapestry/core';

const x = tensor([[1, 2, 3]], { dtype: 'float64' });
const w = tensor([[1], [0.5], [-1]], { dtype: 'float64' });

describe('trace', () => {
  it('lists inputs by their path, constants by value, attributes and the result tree', () => {
    const g = trace((p: { w: Tensor }, xs: Tensor[]) => ({ y: tanh(add(matmul(xs[0]!, p.w), 1)), n: 3 }), { w }, [x]);
    expect(g.toString()).toBe(
      [
        'graph {',
        '  %0: f64[3,1] = input(args[0].w)',
        '  %1: f64[1,3] = input(args[1][0])',
        '  %2: f64[1,1] = matmul(%1, %0) {transA: false, transB: false}',
        '  %3: f64[] = const(1)',
        '  %4: f64[1,1] = add(%2, %3)',
        '  %5: f64[1,1] = tanh(%4)',
        '  return {y: %5, n: 3}',
        '}',
      ].join('\n'),
    );
    const dot = g.toDot();
    expect(dot).toMatch(/^digraph graph \{/);
    expect(dot).toContain('n1 -> n2;');
    expect(dot).toContain('penwidth=2.5'); // the result
  });

  it('reads no data: tracing a huge matmul is instant, and the values do not matter', () => {
    const big = zeros([4096, 4096]);
    const t0 = performance.now();
    const g = trace((a: Tensor) => matmul(a, a), big);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(g.nodes[1]!.shape).toEqual([4096, 4096]);
  });

  it('says that values cannot be read while tracing, and why', () => {
    const f = (v: Tensor) => (sum(v).item() > 0 ? v : mul(v, -1));
    expect(() => trace(f, x)).toThrow(ArgumentError);
    expect(() => trace(f, x)).toThrow(/item\(\): traced value read: f64\[\] .*control flow may depend on shapes, not on values/);
    expect(() => trace((v: Tensor) => v.toArray(), x)).toThrow(/toArray\(\): traced value read/);
  });

  it('rejects a traced value leaking out of its trace into eager code or another trace', () => {
    let leaked: Tensor | null = null;
    trace((v: Tensor) => (leaked = tanh(v)), x);
    expect(() => add(leaked!, 1)).toThrow(/traced value read/);
    expect(() => trace((v: Tensor) => add(v, leaked!), x)).toThrow(/another \(enclosing or finished\) trace/);
  });

  it('composes with differentiation: the graph holds the backward pass', () => {
    const loss = (v: Tensor) => sum(tanh(matmul(v, w)));
    const g = trace(grad(loss), x);
    expect(g.opCounts().matmul).toBeGreaterThanOrEqual(2); // forward, and the cotangent of x
    expect((evaluate(g, x) as Tensor).toArray()).toEqual(grad(loss)(x).toArray());
  });
});

describe('evaluate', () => {
  it('checks the arguments against the traced signature', () => {
    const g = trace((a: Tensor, k: number) => mul(a, k), x, 2);
    expect((evaluate(g, x, 2) as Tensor).toArray()).toEqual([[2, 4, 6]]);
    expect(() => evaluate(g, zeros([2, 3], 'float64'), 2)).toThrow(/argument args\[0\] must be f64\[1,3\], got f64\[2,3\]/);
    expect(() => evaluate(g, x, 3)).toThrow(/was 2 when traced but is 3 now/);
  });

  it('checks traced indices when it runs', () => {
    const table = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    const g = trace((t: Tensor, i: Tensor) => gather(t, i), table, tensor([0], { dtype: 'int32' }));
    expect((evaluate(g, table, tensor([1], { dtype: 'int32' })) as Tensor).toArray()).toEqual([[3, 4]]);
    expect(() => evaluate(g, table, tensor([2], { dtype: 'int32' }))).toThrow(ShapeError);
    expect(() => jit((t: Tensor, i: Tensor) => gather(t, i))(table, tensor([5], { dtype: 'int32' }))).toThrow(/index 5 .* out of range/);
  });
});

describe('jit', () => {
  it('caches by structure, shapes and dtypes, and traces again when they change', () => {
    let traces = 0;
    const f = jit((a: Tensor) => {
      traces++;
      return tanh(a);
    });
    f(x);
    f(tensor([[4, 5, 6]], { dtype: 'float64' }));
    expect(traces).toBe(1);
    f(zeros([2, 2], 'float64'));
    f(zeros([1, 3], 'float32'));
    expect(traces).toBe(3);
    expect(f.cacheSize).toBe(3);
  });

  it('returns fresh results each call (a kept result is never overwritten)', () => {
    const f = jit((a: Tensor) => mul(tanh(a), 2));
    const first = f(x);
    const kept = first.toArray();
    f(tensor([[9, 9, 9]], { dtype: 'float64' }));
    expect(first.toArray()).toEqual(kept);
  });

  it('runs f as it is under a differentiation, so gradients flow through a jitted function', () => {
    const inner = jit((v: Tensor) => sum(tanh(v)));
    expect(grad(inner)(x).toArray()).toEqual(grad((v: Tensor) => sum(tanh(v)))(x).toArray());
    const [value, g] = jit(valueAndGrad((v: Tensor) => inner(v)))(x);
    expect(value.item()).toBe(sum(tanh(x)).item());
    expect(g.toArray()).toEqual(grad((v: Tensor) => sum(tanh(v)))(x).toArray());
  });
});
