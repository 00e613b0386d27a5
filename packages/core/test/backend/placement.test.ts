/**
 * The backend interface seen from above: a second backend (here the CPU's kernels behind storage that cannot
 * be read synchronously, as a GPU's) runs every op, gradient and jitted plan without anything above the
 * kernels knowing, and mixing backends is an error that names both.
 */
import { describe, expect, it } from 'vitest';
import { add, cpu, deviceGet, devicePut, grad, jit, matmul, mul, sum, tanh, tensor, valueAndGrad, type Backend, type Tensor } from '@tapestry/core';

const elsewhere: Backend = {
  ...cpu,
  name: 'elsewhere',
  dtypes: ['float32', 'int32'],
  hostView: undefined,
  fromHost: (data) => data.slice(),
  toHost: async (storage) => (storage as Float32Array).slice(),
};

describe('placement on a second backend', () => {
  const x = tensor([
    [0.5, -1],
    [2, 0.25],
  ]);
  const w = tensor([[0.1], [0.2]]);
  const f = (w: Tensor, x: Tensor) => sum(tanh(matmul(x, w)));

  it('runs ops where their inputs live and reads them back asynchronously', async () => {
    const [xd, wd] = devicePut([x, w], elsewhere);
    const y = f(wd, xd);
    expect(y.backend).toBe(elsewhere);
    expect(() => y.item()).toThrow(/lives on elsewhere.*await x\.data\(\)/);
    expect(Array.from(await y.data())).toEqual(Array.from(f(w, x).dataSync()));
    const back = await deviceGet({ y });
    expect(back.y.backend).toBe(cpu);
    expect(back.y.item()).toBe(f(w, x).item());
  });

  it('differentiates and jits on that backend, with the CPU numbers', async () => {
    const [xd, wd] = devicePut([x, w], elsewhere);
    const g = grad(f)(wd, xd);
    expect(g.backend).toBe(elsewhere);
    expect(Array.from(await g.data())).toEqual(Array.from(grad(f)(w, x).dataSync()));
    const step = jit((w: Tensor, x: Tensor) => valueAndGrad(f)(w, x));
    const [value, dw] = step(wd, xd) as [Tensor, Tensor];
    expect(value.backend).toBe(elsewhere);
    expect(Array.from(await dw.data())).toEqual(Array.from(grad(f)(w, x).dataSync()));
    // literals join the backend of the tensor they combine with
    expect(Array.from(await mul(wd, 2).data())).toEqual([0.2, 0.4].map(Math.fround));
  });

  it('refuses to mix backends, naming both and the fix', () => {
    const wd = devicePut(w, elsewhere);
    expect(() => add(w, wd)).toThrow(/add: inputs live on two backends: input 0 \[2, 1\] on cpu and input 1 \[2, 1\] on elsewhere; move one with devicePut/);
    expect(() => jit(f)(wd, x)).toThrow(/jit: arguments live on two backends: args\[0\] on elsewhere and args\[1\] on cpu/);
  });

  it('refuses dtypes the backend cannot hold, and moves between devices only through the host', () => {
    expect(() => devicePut(tensor([1], { dtype: 'float64' }), elsewhere)).toThrow(/float64, which elsewhere cannot hold.*cast\(x, 'float32'\)/);
    const other: Backend = { ...elsewhere, name: 'other' };
    expect(() => devicePut(devicePut(w, elsewhere), other)).toThrow(/lives on elsewhere; bring it back with await deviceGet/);
  });
});
