/**
 * The editor's starting point: a cell with a single update gate (a "minimal gated unit"). The source is the
 * body of a function of `hiddenSize` and `dtype` that returns the cell; every export of @tapestry/core is
 * in scope by name. Kept apart from the compiler so the page can show it without loading the library.
 */
export const DEFAULT_CELL_SOURCE = `// Every @tapestry/core export is in scope (matmul, sigmoid, tanh, add, mul, sub, ...).
// Return a cell for hiddenSize units: init, initialState and step.
const H = hiddenSize;
const bound = 1 / Math.sqrt(H);
const u = (key, shape) => uniform(key, shape, { dtype, low: -bound, high: bound });
return {
  name: 'minimalGatedUnit',
  outputSize: H,
  init(key, inputSize) {
    const [k1, k2, k3, k4] = splitKey(key, 4);
    return { wf: u(k1, [inputSize, H]), uf: u(k2, [H, H]), bf: zeros([H], dtype),
             wh: u(k3, [inputSize, H]), uh: u(k4, [H, H]), bh: zeros([H], dtype) };
  },
  initialState(batch, dtype) {
    return { h: zeros([batch, H], dtype) };
  },
  step(p, { h }, x) {
    // f = σ(x Wf + h Uf + bf);  h̃ = tanh(x Wh + (f ⊙ h) Uh + bh);  h' = (1 − f) ⊙ h + f ⊙ h̃
    const f = sigmoid(add(add(matmul(x, p.wf), matmul(h, p.uf)), p.bf));
    const candidate = tanh(add(add(matmul(x, p.wh), matmul(mul(f, h), p.uh)), p.bh));
    const next = add(mul(sub(1, f), h), mul(f, candidate));
    return { state: { h: next }, output: next };
  },
};
`;
