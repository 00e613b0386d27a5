/**
 * The declarative graph a trace produces: nodes in execution order (each an op on earlier nodes), the
 * argument leaves it reads and the result leaves it returns. A graph is a plain value: printed with
 * `toString`, drawn with `toDot`, rewritten by the compiler's passes and run by `evaluate` or `jit`.
 */
import type { AttrsOf, PrimitiveName } from '../binding/primitive.js';
import { DTYPE_ABBREVIATION, type DType } from '../dtype.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { TreeDef } from '../tree/tree.js';

/** What every node has: its id, the nodes it reads, and its value's type. */
export interface NodeBase {
  /** The node's id: its index in {@link Graph.nodes}, printed as `%id`. */
  readonly id: number;
  /** The ids of the nodes it reads, in the primitive's argument order. */
  readonly inputs: readonly number[];
  /** The shape of the value. */
  readonly shape: Shape;
  /** The dtype of the value. */
  readonly dtype: DType;
}

/**
 * A primitive applied to earlier nodes. Typed per primitive: once `node.op === 'slice'` is checked,
 * `node.attrs` is slice's attributes.
 */
export type PrimitiveNode<P extends PrimitiveName = PrimitiveName> = {
  [Q in P]: NodeBase & {
    /** The primitive's name (`matmul`, `tanh`, …). */
    readonly op: Q;
    /** The primitive's attributes (axes, flags, shapes), as the op passed them. */
    readonly attrs: AttrsOf<Q>;
  };
}[P];

/** An argument leaf of the traced function. */
export interface InputNode extends NodeBase {
  /** Always `input`. */
  readonly op: 'input';
  /** None. */
  readonly attrs: undefined;
  /** The path of its leaf in the argument list (`args[0].w`). */
  readonly path: string;
}

/** A concrete value the traced function created or closed over. */
export interface ConstNode extends NodeBase {
  /** Always `const`. */
  readonly op: 'const';
  /** None. */
  readonly attrs: undefined;
  /** The value. */
  readonly value: Tensor;
}

/** One node: an input, a constant, or a primitive applied to earlier nodes. */
export type GraphNode = PrimitiveNode | InputNode | ConstNode;

/** A leaf of the arguments or of the result that is not a tensor: fixed when traced. */
export interface StaticLeaf {
  /** The value (a number, a string, a key, …). */
  readonly static: unknown;
}

/** A leaf of a graph's arguments or result: a node id for a tensor, or a static value. */
export type GraphLeaf = number | StaticLeaf;

/** What a node is before it gets its id (see {@link GraphBuilder.add}). */
export type NodeSpec = GraphNode extends infer N ? (N extends GraphNode ? Omit<N, 'id'> : never) : never;

/** Builds a graph node by node; ids are given in order. */
export class GraphBuilder {
  /** The nodes so far. */
  readonly nodes: GraphNode[] = [];

  /** Appends a node and returns its id. */
  add(spec: NodeSpec): number {
    const id = this.nodes.length;
    this.nodes.push({ ...spec, id } as GraphNode);
    return id;
  }
}

/**
 * A traced program. Nodes are in execution order; `inputLeaves` and `outputLeaves` are the leaves of the
 * argument list and of the result in tree order, and `inputDef` / `outputDef` their tree structures.
 * @example
 * ```ts
 * const g = trace((x: Tensor, w: Tensor) => tanh(matmul(x, w)), zeros([2, 3]), zeros([3, 4]));
 * console.log(g.toString());
 * // graph {
 * //   %0: f32[2,3] = input(args[0])
 * //   %1: f32[3,4] = input(args[1])
 * //   %2: f32[2,4] = matmul(%0, %1) {transA: false, transB: false}
 * //   %3: f32[2,4] = tanh(%2)
 * //   return %3
 * // }
 * ```
 */
export class Graph {
  constructor(
    /** The nodes in execution order (node `i` has id `i`). */
    readonly nodes: readonly GraphNode[],
    /** The leaves of the argument list, in tree order. */
    readonly inputLeaves: readonly GraphLeaf[],
    /** The structure of the argument list (an array, one entry per argument). */
    readonly inputDef: TreeDef,
    /** The leaves of the result, in tree order. */
    readonly outputLeaves: readonly GraphLeaf[],
    /** The structure of the result. */
    readonly outputDef: TreeDef,
  ) {}

  /** The ids of the input nodes, in argument order. */
  get inputs(): number[] {
    return this.inputLeaves.filter((l): l is number => typeof l === 'number');
  }

  /** The node ids the result reads (static leaves left out). */
  get outputs(): number[] {
    return this.outputLeaves.filter((l): l is number => typeof l === 'number');
  }

  /** How many nodes apply each op, e.g. `{ matmul: 4, tanh: 2, input: 3 }`. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    return counts;
  }

  /** The readable listing: one line per node (`%7: f32[32,512] = matmul(%3, %5) {…}`) and the result. */
  toString(): string {
    const lines = ['graph {'];
    for (const n of this.nodes) lines.push(`  ${formatNode(n)}`);
    lines.push(`  return ${formatTree(this.outputDef, this.outputLeaves)}`);
    lines.push('}');
    return lines.join('\n');
  }

  /** The graph in Graphviz's dot language (`dot -Tsvg`): inputs as ellipses, constants as boxes, results bold. */
  toDot(): string {
    const outputs = new Set(this.outputs);
    const lines = ['digraph graph {', '  rankdir=TB;', '  node [fontname="monospace", fontsize=10];'];
    for (const n of this.nodes) {
      const label = `%${n.id} ${n.op === 'input' ? `input ${n.path}` : n.op}\\n${typeName(n)}`;
      const shape = n.op === 'input' ? 'ellipse' : n.op === 'const' ? 'box' : 'box, style=rounded';
      const bold = outputs.has(n.id) ? ', penwidth=2.5' : '';
      lines.push(`  n${n.id} [label="${label.replace(/"/g, '\\"')}", shape=${shape}${bold}];`);
    }
    for (const n of this.nodes) n.inputs.forEach((i) => lines.push(`  n${i} -> n${n.id};`));
    lines.push('}');
    return lines.join('\n');
  }
}

/** `f32[32,512]`: the dtype and shape of a node as listings print it. */
export function typeName(n: { readonly dtype: DType; readonly shape: Shape }): string {
  return `${DTYPE_ABBREVIATION[n.dtype]}[${n.shape.join(',')}]`;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function formatAttr(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v)) return `[${v.map(formatAttr).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${k}: ${formatAttr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

function formatConst(value: Tensor): string {
  if (value.size > 8 || value.backend.hostView === undefined) return `const(${value.size} values)`;
  const data = value.dataSync();
  return `const(${Array.from(data, formatNumber).join(', ')})`;
}

function formatNode(n: GraphNode): string {
  const lhs = `%${n.id}: ${typeName(n)} = `;
  if (n.op === 'input') return `${lhs}input(${n.path})`;
  if (n.op === 'const') return lhs + formatConst(n.value);
  const attrs = n.attrs === undefined ? '' : formatAttr(n.attrs);
  return `${lhs}${n.op}(${n.inputs.map((i) => `%${i}`).join(', ')})${attrs === '' || attrs === '{}' ? '' : ` ${attrs}`}`;
}

/** Prints a result tree with `%id` for node leaves. */
function formatTree(def: TreeDef, leaves: readonly GraphLeaf[]): string {
  let next = 0;
  const leaf = (l: GraphLeaf): string => (typeof l === 'number' ? `%${l}` : (JSON.stringify(l.static) ?? String(l.static)));
  const walk = (d: TreeDef): string => {
    switch (d.kind) {
      case 'leaf':
        return leaf(leaves[next++]!);
      case 'none':
        return String(d.value);
      case 'array':
        return `[${d.children.map(walk).join(', ')}]`;
      case 'object':
        return `{${d.keys.map((k, i) => `${k}: ${walk(d.children[i]!)}`).join(', ')}}`;
    }
  };
  return walk(def);
}
