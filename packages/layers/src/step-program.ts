/**
 * Hoisting a cell's input work out of the time loop, for every cell alike. The cell's `step` is traced once
 * (core's public `trace`, on abstract values); the part of it that reads the input x and the parameters but
 * not the state, and that works row by row (each batch row of its result reads only that row of x), is then
 * run once on all T·N rows of the sequence, and each step runs only the rest of the traced step on its
 * rows of that result. For an LSTM that part is `x W_ihᵀ + b_ih`: one large matmul for the whole sequence
 * instead of T small ones, and one in the backward pass too. Both parts are run by core's `evaluate`, which
 * binds the same primitives as eager code, so the result is differentiable, traceable under `jit` and equal
 * to the plain loop's. A cell whose step does not fit (nothing row-wise to hoist, a traced step that differs
 * from the real one) simply runs step by step.
 */
import {
  evaluate,
  Graph,
  onesLike,
  PRIMITIVES,
  reshape,
  shapesEqual,
  stopGradient,
  Tensor,
  trace,
  treeFlatten,
  treeLeaves,
  treeMap,
  treeStructure,
  vjp,
  zeros,
} from '@tapestry/core';
import type { GraphLeaf, GraphNode, PrimitiveKind } from '@tapestry/core';
import type { Cell, CellState, CellStep } from './cell.js';

/** How one layer-direction runs its steps: the per-step inputs of all steps, and one step on its slice of them. */
export interface StepProgram<P, S extends CellState> {
  /** Whether input work was hoisted out of the loop (false: `step` is the cell's own step on x). */
  readonly hoisted: boolean;
  /** The per-step inputs of every step from the layer input `xs` [T, N, D]: tensors of shape [T, N, …]. */
  stepInputs(params: P, xs: Tensor): Tensor[];
  /** One step from its slices ([N, …], in the order of {@link StepProgram.stepInputs}) of the per-step inputs. */
  step(params: P, state: S, inputs: readonly Tensor[]): CellStep<S>;
}

/** A node's primitive kind, from core's primitive table (inputs and constants have none). */
function kindOf(n: GraphNode): PrimitiveKind | null {
  return n.op === 'input' || n.op === 'const' ? null : PRIMITIVES[n.op].kind;
}
// elementwise: an output element reads its operands at the same (broadcast) index. layout and reduction:
// output row b reads only input row b whenever input and output both keep the batch as axis 0; layout only copies.
const isElementwise = (n: GraphNode): boolean => kindOf(n) === 'elementwise';
const isRowPreserving = (n: GraphNode): boolean => kindOf(n) === 'layout' || kindOf(n) === 'reduction';
const isLayout = (n: GraphNode): boolean => kindOf(n) === 'layout';

type Role = 'free' | 'x' | 'state';

/** Analyses kept per layer (one per traced structure: shapes, dtype, number of steps). */
const MAX_PLANS = 64;

const sameInputs = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((id, i) => id === b[i]);
const shapeKey = (t: unknown) => (t instanceof Tensor ? `${t.dtype}[${t.shape.join(',')}]` : `s:${typeof t}`);

/** What tracing found for one traced structure of the step: the nodes to hoist, and the batch-T·N trace. */
interface Plan {
  /** The hoisted nodes the per-step part reads (its per-step inputs), in node order. */
  readonly frontier: readonly number[];
  /** The hoisted nodes and the parameter-only nodes they need, in node order. */
  readonly projected: readonly number[];
  /** The step traced at batch T·N: its nodes give the hoisted part's shapes and attributes. */
  readonly wide: Graph;
}

/** What {@link stepProgram} found per traced structure of a step (null: run the step as it is). */
export type StepProgramCache = Map<string, Plan | null>;

/**
 * The step program of `cell` for `params`, state `state0` ([N, …] leaves) and inputs [T, N, D] of `dtype`.
 * `cache` keeps one analysis per traced structure of the step (so per shapes and dtype).
 */
export function stepProgram<P, S extends CellState>(
  cell: Cell<P, S>,
  cache: StepProgramCache,
  params: P,
  state0: S,
  steps: number,
  xShape: readonly [number, number],
  dtype: Tensor['dtype'],
): StepProgram<P, S> {
  const plain: StepProgram<P, S> = {
    hoisted: false,
    stepInputs: (_params, xs) => [xs],
    step: (p, s, [x]) => cell.step(p, s, x!),
  };
  if (steps < 2) return plain;
  const [batch, features] = xShape;
  // Traced afresh on every call: constants the step closes over are read now, never from an older call.
  let closesOverTracked = false;
  let narrow: Graph;
  try {
    narrow = trace(
      (p: P, s: S, x: Tensor) => {
        const result = cell.step(p, s, x);
        // Fresh trace inputs are on no tape: a tracked result comes from a tensor the step closes over that an
        // enclosing grad differentiates, and evaluating the traced graph would lose that gradient.
        closesOverTracked = treeLeaves(result).some((l) => l instanceof Tensor && stopGradient(l) !== l);
        return result;
      },
      params,
      state0,
      zeros([batch, features], dtype),
    );
  } catch {
    return plain; // the real step will run, and throw its own error if it has one
  }
  if (closesOverTracked) return plain;
  const key = `${steps}|${signature(narrow)}`;
  let plan = cache.get(key);
  if (plan === undefined) {
    plan = analyse(cell, narrow, params, state0, steps, batch, features, dtype);
    // many lengths or batch sizes (a padded data set) must not grow the cache without end: drop the oldest
    if (cache.size >= MAX_PLANS) cache.delete(cache.keys().next().value!);
    cache.set(key, plan);
  }
  return plan === null ? plain : hoistedProgram(narrow, plan, params, state0, steps, batch);
}

/** A string that changes whenever anything the analysis reads changes (ops, wiring, attributes, shapes). */
function signature(g: Graph): string {
  const attr = (v: unknown): string => {
    if (v instanceof Tensor) return shapeKey(v);
    if (Array.isArray(v)) return `[${v.map(attr).join(',')}]`;
    if (v !== null && typeof v === 'object')
      return `{${Object.keys(v)
        .map((k) => `${k}:${attr((v as Record<string, unknown>)[k])}`)
        .join(',')}}`;
    return String(v);
  };
  const nodes = g.nodes.map((n) => `${n.op}(${n.inputs.join(',')})${n.dtype}[${n.shape.join(',')}]${attr(n.attrs)}`);
  const leaves = (ls: readonly GraphLeaf[]) => ls.map((l) => (typeof l === 'number' ? l : 's')).join(',');
  return `${nodes.join(';')}|${leaves(g.inputLeaves)}|${leaves(g.outputLeaves)}|${JSON.stringify(g.outputDef)}`;
}

/** Decides what to hoist for one traced structure, or null when the step should run as it is. */
function analyse<P, S extends CellState>(
  cell: Cell<P, S>,
  narrow: Graph,
  params: P,
  state0: S,
  steps: number,
  batch: number,
  features: number,
  dtype: Tensor['dtype'],
): Plan | null {
  const roles = nodeRoles(narrow, params, state0);
  const wideBatch = steps * batch;
  let wide: Graph;
  try {
    const wideState = treeMap((l: unknown) => (l instanceof Tensor ? zeros([wideBatch, ...l.shape.slice(1)], l.dtype) : l), state0) as S;
    wide = trace((p: P, s: S, x: Tensor) => cell.step(p, s, x), params, wideState, zeros([wideBatch, features], dtype));
  } catch {
    return null;
  }
  // The two traces must be the same program at two batch sizes.
  if (wide.nodes.length !== narrow.nodes.length) return null;
  for (const n of narrow.nodes) {
    const w = wide.nodes[n.id]!;
    if (w.op !== n.op || w.dtype !== n.dtype || !sameInputs(w.inputs, n.inputs)) return null;
  }
  const batched = (id: number) => {
    const [a, b] = [narrow.nodes[id]!.shape, wide.nodes[id]!.shape];
    return a.length > 0 && a[0] === batch && b[0] === wideBatch && shapesEqual(a.slice(1), b.slice(1));
  };
  const unbatched = (id: number) => roles[id] === 'free' && shapesEqual(narrow.nodes[id]!.shape, wide.nodes[id]!.shape);
  const rowWise = new Set<number>();
  for (const n of narrow.nodes) {
    if (roles[n.id] !== 'x') continue;
    if (n.op === 'input') {
      if (batched(n.id)) rowWise.add(n.id);
      continue;
    }
    if (!batched(n.id)) continue;
    const rank = n.shape.length;
    const inR = (id: number) => rowWise.has(id) && batched(id);
    let ok = false;
    if (isElementwise(n)) {
      ok = n.inputs.every((id) => {
        const s = narrow.nodes[id]!.shape;
        return roles[id] === 'x' ? inR(id) && s.length === rank : unbatched(id) && (s.length < rank || s[0] === 1);
      });
    } else if (isRowPreserving(n)) {
      ok = n.inputs.every(inR);
    } else if (n.op === 'matmul' && n.inputs.length === 2 && rank === 2) {
      const [a, b] = n.inputs as [number, number];
      ok = inR(a) && narrow.nodes[a]!.shape.length === 2 && unbatched(b) && narrow.nodes[b]!.shape.length === 2;
    }
    if (ok) rowWise.add(n.id);
  }
  // A copy at the end of the hoisted part (the GRU's split of x W_ihᵀ + b_ih into gates) stays in the step:
  // hoisted, it would copy the whole sequence only for each step to copy its rows out again.
  const consumers = new Map<number, number[]>();
  for (const n of narrow.nodes) for (const id of n.inputs) consumers.set(id, [...(consumers.get(id) ?? []), n.id]);
  const outputIds = new Set(narrow.outputLeaves.filter((l): l is number => typeof l === 'number'));
  for (let i = narrow.nodes.length - 1; i >= 0; i--) {
    const n = narrow.nodes[i]!;
    if (rowWise.has(n.id) && isLayout(n) && !outputIds.has(n.id) && !(consumers.get(n.id) ?? []).some((c) => rowWise.has(c))) rowWise.delete(n.id);
  }
  // The frontier: hoisted values that the per-step part or the result reads.
  const frontier = new Set<number>();
  for (const n of narrow.nodes) {
    if (rowWise.has(n.id) || roles[n.id] === 'free') continue;
    for (const id of n.inputs) if (rowWise.has(id)) frontier.add(id);
  }
  for (const l of narrow.outputLeaves) if (typeof l === 'number' && rowWise.has(l)) frontier.add(l);
  // Worth it only when some real work moves out of the loop.
  const projected = closure(narrow, [...frontier], (id) => rowWise.has(id) || roles[id] === 'free');
  if (!projected.some((id) => rowWise.has(id) && narrow.nodes[id]!.op !== 'input' && narrow.nodes[id]!.op !== 'reshape')) return null;
  if (projected.some((id) => roles[id] === 'free' && !unbatched(id))) return null;
  if (!differentiatesAlike(cell, narrow, params, state0, batch, features, dtype)) return null;
  return { frontier: [...frontier].sort((a, b) => a - b), projected, wide };
}

/** Each node's dependence: on the state (directly or not), else on x, else on parameters and constants only. */
function nodeRoles(g: Graph, params: unknown, state: unknown): Role[] {
  const nParams = treeFlatten(params)[0].length;
  const nState = treeFlatten(state)[0].length;
  const roles: Role[] = new Array(g.nodes.length).fill('free');
  g.inputLeaves.forEach((l, i) => {
    if (typeof l === 'number') roles[l] = i < nParams ? 'free' : i < nParams + nState ? 'state' : 'x';
  });
  for (const n of g.nodes) {
    if (n.op === 'input' || n.op === 'const') continue;
    const rs = n.inputs.map((id) => roles[id]);
    roles[n.id] = rs.includes('state') ? 'state' : rs.includes('x') ? 'x' : 'free';
  }
  return roles;
}

/** The nodes `targets` need, following inputs while `inside` holds, in node order (targets included). */
function closure(g: Graph, targets: readonly number[], inside: (id: number) => boolean): number[] {
  const seen = new Set<number>();
  const stack = [...targets];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (inside(id)) for (const i of g.nodes[id]!.inputs) stack.push(i);
  }
  return [...seen].filter(inside).sort((a, b) => a - b);
}

/**
 * Whether evaluating the traced step differentiates exactly like the step itself. A trace keeps the ops, not
 * what a tape sees: `stopGradient` or `customVjp` inside a step leave no node. Tracing both backward passes
 * and comparing them node for node finds such a step, which then runs as it is.
 */
function differentiatesAlike<P, S extends CellState>(
  cell: Cell<P, S>,
  narrow: Graph,
  params: P,
  state0: S,
  batch: number,
  features: number,
  dtype: Tensor['dtype'],
): boolean {
  const backward = (f: (p: P, s: S, x: Tensor) => unknown) => (p: P, s: S, x: Tensor) => {
    const [y, pullback] = vjp(f, p, s, x);
    return pullback(treeMap((l: unknown) => (l instanceof Tensor ? onesLike(l) : l), y));
  };
  try {
    const x = zeros([batch, features], dtype);
    const real = trace(
      backward((p, s, xt) => cell.step(p, s, xt)),
      params,
      state0,
      x,
    );
    const replayed = trace(
      backward((p, s, xt) => evaluate(narrow, p, s, xt)),
      params,
      state0,
      x,
    );
    return sameGraph(real, replayed);
  } catch {
    return false;
  }
}

function sameGraph(a: Graph, b: Graph): boolean {
  if (a.nodes.length !== b.nodes.length || !sameLeaves(a.outputLeaves, b.outputLeaves)) return false;
  return a.nodes.every((n, i) => {
    const m = b.nodes[i]!;
    if (n.op !== m.op || n.dtype !== m.dtype || !shapesEqual(n.shape, m.shape) || !sameInputs(n.inputs, m.inputs)) return false;
    if (n.op === 'const') return m.op === 'const' && sameValue(n.value, m.value);
    return sameAttrs(n.attrs, m.attrs);
  });
}

function sameLeaves(a: readonly GraphLeaf[], b: readonly GraphLeaf[]): boolean {
  return a.length === b.length && a.every((l, i) => (typeof l === 'number' ? l === b[i] : typeof b[i] !== 'number'));
}

function sameValue(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || !shapesEqual(a.shape, b.shape)) return false;
  if (a.storage === b.storage) return true;
  const [x, y] = [a.dataSync(), b.dataSync()];
  return x.every((v, i) => Object.is(v, y[i]));
}

function sameAttrs(a: unknown, b: unknown): boolean {
  if (a instanceof Tensor || b instanceof Tensor) return a instanceof Tensor && b instanceof Tensor && sameValue(a, b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => sameAttrs(v, b[i]));
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameAttrs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return Object.is(a, b);
}

/** Renumbers `ids` of `source` into a graph of their own; `inputs` become its input nodes, in that order. */
function subgraph(
  source: Graph,
  constants: Graph,
  inputs: readonly number[],
  ids: readonly number[],
  outputLeaves: readonly GraphLeaf[],
  outputDef: Graph['outputDef'],
): Graph {
  const index = new Map<number, number>();
  const nodes: GraphNode[] = [];
  const push = (n: GraphNode, node: GraphNode) => {
    index.set(n.id, nodes.length);
    nodes.push(node);
  };
  for (const id of inputs) {
    const n = source.nodes[id]!;
    push(n, { id: nodes.length, op: 'input', inputs: [], attrs: undefined, shape: n.shape, dtype: n.dtype, path: n.op === 'input' ? n.path : `%${id}` });
  }
  for (const id of ids) {
    if (index.has(id)) continue;
    const n = source.nodes[id]!;
    const renumbered = n.inputs.map((i) => index.get(i)!);
    // constants come from this call's trace: a step may close over tensors that change between calls
    const own = constants.nodes[id]!;
    push(n, n.op === 'const' && own.op === 'const' ? { ...n, id: nodes.length, value: own.value } : { ...n, id: nodes.length, inputs: renumbered });
  }
  const leaves = outputLeaves.map((l) => (typeof l === 'number' ? index.get(l)! : l));
  const inputLeaves = inputs.map((id) => index.get(id)!);
  return new Graph(nodes, inputLeaves, treeStructure(inputs.map(() => 0)), leaves, outputDef);
}

function hoistedProgram<P, S extends CellState>(narrow: Graph, plan: Plan, params: P, state0: S, steps: number, batch: number): StepProgram<P, S> {
  const { frontier, projected, wide } = plan;
  const nParams = treeFlatten(params)[0].length;
  const nState = treeFlatten(state0)[0].length;
  const inputIds = narrow.inputLeaves.filter((l): l is number => typeof l === 'number');
  const tensorInputs = (leaves: readonly unknown[]) => leaves.filter((l): l is Tensor => l instanceof Tensor);
  const paramIds = narrow.inputLeaves.slice(0, nParams).filter((l): l is number => typeof l === 'number');
  const stateIds = narrow.inputLeaves.slice(nParams, nParams + nState).filter((l): l is number => typeof l === 'number');
  const xId = inputIds[inputIds.length - 1]!;
  const frontierSet = new Set(frontier);

  // the hoisted part, from the batch-T·N trace: parameters and the whole input in, the frontier out
  const projection = subgraph(wide, narrow, [...paramIds, xId], projected, frontier, treeStructure(frontier.map(() => 0)));
  // the per-step part: parameters, state and the step's rows of the frontier in, the step's result out
  const outputs = narrow.outputLeaves.filter((l): l is number => typeof l === 'number');
  const perStep = closure(narrow, outputs, (id) => !frontierSet.has(id) && narrow.nodes[id]!.op !== 'input');
  const remainder = subgraph(narrow, narrow, [...paramIds, ...stateIds, ...frontier], perStep, narrow.outputLeaves, narrow.outputDef);

  return {
    hoisted: true,
    stepInputs: (p, xs) => {
      const [t, n, d] = xs.shape as [number, number, number];
      const values = evaluate(projection, ...tensorInputs(treeLeaves(p)), reshape(xs, [t * n, d])) as Tensor[];
      return values.map((v) => reshape(v, [steps, batch, ...v.shape.slice(1)]));
    },
    step: (p, s, slices) => evaluate(remainder, ...tensorInputs(treeLeaves(p)), ...tensorInputs(treeLeaves(s)), ...slices) as CellStep<S>,
  };
}
