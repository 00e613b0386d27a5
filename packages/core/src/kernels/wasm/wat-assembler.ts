/**
 * A small assembler for the WebAssembly text that compiled plans generate at run time (one SIMD loop per fused
 * elementwise group, see fused-codegen.ts): a module importing one memory and exporting one function, whose
 * body is folded S-expressions over the instructions of {@link OPCODES}. Browsers have no WebAssembly text
 * parser and the build's wabt is far too large to ship, while the subset a loop over vectors needs is a table
 * of opcodes and a few immediates. The tests hold every opcode to wabt's encoding.
 */

/** A function's signature and text: `(param …)` types, `(local …)` types by name, and the body. */
export interface FunctionText {
  /** The exported name. */
  readonly name: string;
  /** Parameter names, all i32. */
  readonly params: readonly string[];
  /** Locals by name with their types. */
  readonly locals: readonly (readonly [string, 'i32' | 'v128'])[];
  /** Folded instructions, one after another. */
  readonly body: string;
}

/** Instructions without the SIMD prefix: opcode and the immediates they take. */
const PLAIN: Readonly<Record<string, number>> = {
  'local.get': 0x20,
  'local.set': 0x21,
  'local.tee': 0x22,
  'i32.load': 0x28,
  'i32.const': 0x41,
  'f32.const': 0x43,
  'f64.const': 0x44,
  'i32.eqz': 0x45,
  'i32.lt_u': 0x49,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.shl': 0x74,
};

/**
 * SIMD instructions (after the 0xfd prefix), as the final SIMD proposal numbers them: the loads and stores,
 * constants and splats, and the lane-wise operations of f32x4, f64x2 and i32x4 that the elementwise
 * functions use.
 */
export const OPCODES: Readonly<Record<string, number>> = {
  'v128.load': 0x00,
  'v128.load32_splat': 0x09,
  'v128.load64_splat': 0x0a,
  'v128.store': 0x0b,
  'v128.const': 0x0c,
  'i32x4.splat': 0x11,
  'f32x4.splat': 0x13,
  'f64x2.splat': 0x14,
  'i32x4.eq': 0x37,
  'i32x4.ne': 0x38,
  'f32x4.eq': 0x41,
  'f32x4.ne': 0x42,
  'f32x4.lt': 0x43,
  'f32x4.gt': 0x44,
  'f32x4.le': 0x45,
  'f32x4.ge': 0x46,
  'f64x2.eq': 0x47,
  'f64x2.ne': 0x48,
  'f64x2.lt': 0x49,
  'f64x2.gt': 0x4a,
  'f64x2.le': 0x4b,
  'f64x2.ge': 0x4c,
  'v128.not': 0x4d,
  'v128.and': 0x4e,
  'v128.andnot': 0x4f,
  'v128.or': 0x50,
  'v128.xor': 0x51,
  'v128.bitselect': 0x52,
  'f32x4.floor': 0x68,
  'f64x2.floor': 0x75,
  'i32x4.shl': 0xab,
  'i32x4.shr_s': 0xac,
  'i32x4.shr_u': 0xad,
  'i32x4.add': 0xae,
  'i32x4.sub': 0xb1,
  'i32x4.mul': 0xb5,
  'f32x4.abs': 0xe0,
  'f32x4.neg': 0xe1,
  'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4,
  'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6,
  'f32x4.div': 0xe7,
  'f32x4.min': 0xe8,
  'f32x4.max': 0xe9,
  'f32x4.pmin': 0xea,
  'f32x4.pmax': 0xeb,
  'f64x2.abs': 0xec,
  'f64x2.neg': 0xed,
  'f64x2.sqrt': 0xef,
  'f64x2.add': 0xf0,
  'f64x2.sub': 0xf1,
  'f64x2.mul': 0xf2,
  'f64x2.div': 0xf3,
  'f64x2.min': 0xf4,
  'f64x2.max': 0xf5,
  'f64x2.pmin': 0xf6,
  'f64x2.pmax': 0xf7,
};

/** The natural alignment (log2 of bytes) of the memory instructions, their default `align`. */
const NATURAL_ALIGN: Readonly<Record<string, number>> = {
  'i32.load': 2,
  'v128.load': 4,
  'v128.load32_splat': 2,
  'v128.load64_splat': 3,
  'v128.store': 4,
};

type Node = string | Node[];

/** Parses S-expressions: atoms and parenthesised lists (`;;` comments skipped). */
function parse(text: string): Node[] {
  const tokens = text.replace(/;;[^\n]*/g, ' ').match(/\(|\)|[^\s()]+/g) ?? [];
  const stack: Node[][] = [[]];
  for (const token of tokens) {
    if (token === '(') stack.push([]);
    else if (token === ')') {
      const list = stack.pop()!;
      if (stack.length === 0) throw new Error('wat-assembler: unbalanced ")"');
      stack[stack.length - 1]!.push(list);
    } else stack[stack.length - 1]!.push(token);
  }
  if (stack.length !== 1) throw new Error('wat-assembler: unbalanced "("');
  return stack[0]!;
}

/** Unsigned LEB128. */
function uleb(value: number, out: number[]): void {
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(value: number, out: number[]): void {
  value |= 0;
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** A number literal: decimal, hexadecimal integer, or hexadecimal float (`-0x1.8p-3`). */
function parseNumber(text: string): number {
  const match = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i.exec(text);
  if (match === null) {
    const value = Number(text);
    if (Number.isNaN(value)) throw new Error(`wat-assembler: not a number: ${text}`);
    return value;
  }
  const [, sign, whole, fraction = '', exponent] = match;
  if (exponent === undefined && fraction === '') return (sign === '-' ? -1 : 1) * Number(`0x${whole}`);
  // the significand's digits as an integer (exact: the literals have at most 53 bits), scaled by a power of two
  const digits = `${whole}${fraction}`.replace(/^0+/, '') || '0';
  const significand = Number(BigInt(`0x${digits}`));
  const value = significand * 2 ** (Number(exponent ?? 0) - 4 * fraction.length);
  return sign === '-' ? -value : value;
}

/** The little-endian bytes of `count` lanes of `bytes` each, from integer or float literals. */
function laneBytes(shape: string, lanes: readonly string[]): number[] {
  const view = new DataView(new ArrayBuffer(16));
  const count: Record<string, number> = { i32x4: 4, i64x2: 2, f32x4: 4, f64x2: 2 };
  if (count[shape] !== lanes.length) throw new Error(`wat-assembler: v128.const ${shape} takes ${count[shape]} lanes, got ${lanes.length}`);
  lanes.forEach((lane, i) => {
    if (shape === 'i32x4') view.setUint32(4 * i, parseNumber(lane) >>> 0, true);
    else if (shape === 'i64x2') view.setBigInt64(8 * i, BigInt.asIntN(64, BigInt(lane)), true);
    else if (shape === 'f32x4') view.setFloat32(4 * i, parseNumber(lane), true);
    else view.setFloat64(8 * i, parseNumber(lane), true);
  });
  return [...new Uint8Array(view.buffer)];
}

/** Encodes one function body's instructions. */
class BodyEncoder {
  readonly out: number[] = [];
  private readonly labels: string[] = [];

  constructor(private readonly locals: ReadonlyMap<string, number>) {}

  instructions(nodes: readonly Node[]): void {
    for (const node of nodes) {
      if (typeof node === 'string') throw new Error(`wat-assembler: expected a folded instruction, got ${node}`);
      this.instruction(node);
    }
  }

  private local(name: Node | undefined): number {
    const index = typeof name === 'string' ? this.locals.get(name) : undefined;
    if (index === undefined) throw new Error(`wat-assembler: unknown local ${String(name)}`);
    return index;
  }

  private instruction([op, ...rest]: Node[]): void {
    if (typeof op !== 'string') throw new Error('wat-assembler: an instruction must start with its name');
    const out = this.out;
    if (op === 'loop' || op === 'block') {
      const label = rest[0];
      if (typeof label !== 'string' || !label.startsWith('$')) throw new Error(`wat-assembler: a ${op} needs a $label`);
      // br_if to a loop's label goes back to its start, to a block's label past its end
      out.push(op === 'loop' ? 0x03 : 0x02, 0x40);
      this.labels.push(label);
      this.instructions(rest.slice(1));
      this.labels.pop();
      out.push(0x0b);
      return;
    }
    if (op === 'br_if') {
      const depth = this.labels.length - 1 - this.labels.lastIndexOf(rest[0] as string);
      if (depth >= this.labels.length) throw new Error(`wat-assembler: unknown label ${String(rest[0])}`);
      this.instructions(rest.slice(1));
      out.push(0x0d);
      uleb(depth, out);
      return;
    }
    // immediates are the leading atoms; the operands (folded instructions) follow them
    const immediates = rest.filter((n): n is string => typeof n === 'string');
    this.instructions(rest.filter((n): n is Node[] => typeof n !== 'string'));
    if (op === 'local.get' || op === 'local.set' || op === 'local.tee') {
      out.push(PLAIN[op]!);
      uleb(this.local(immediates[0]), out);
    } else if (op === 'i32.const') {
      out.push(PLAIN[op]!);
      sleb(parseNumber(immediates[0]!), out);
    } else if (op === 'f32.const' || op === 'f64.const') {
      const view = new DataView(new ArrayBuffer(8));
      if (op === 'f32.const') view.setFloat32(0, parseNumber(immediates[0]!), true);
      else view.setFloat64(0, parseNumber(immediates[0]!), true);
      out.push(PLAIN[op]!, ...new Uint8Array(view.buffer, 0, op === 'f32.const' ? 4 : 8));
    } else if (op === 'v128.const') {
      out.push(0xfd);
      uleb(OPCODES[op]!, out);
      out.push(...laneBytes(immediates[0]!, immediates.slice(1)));
    } else if (op in PLAIN || op in OPCODES) {
      if (op in PLAIN) out.push(PLAIN[op]!);
      else {
        out.push(0xfd);
        uleb(OPCODES[op]!, out);
      }
      if (op in NATURAL_ALIGN) {
        let offset = 0;
        let align = NATURAL_ALIGN[op]!;
        for (const immediate of immediates) {
          const [key, value] = immediate.split('=');
          if (key === 'offset') offset = parseNumber(value!);
          else if (key === 'align') align = Math.log2(parseNumber(value!));
          else throw new Error(`wat-assembler: unknown memory immediate ${immediate}`);
        }
        uleb(align, out);
        uleb(offset, out);
      } else if (immediates.length > 0) throw new Error(`wat-assembler: ${op} takes no immediates, got ${immediates.join(' ')}`);
    } else throw new Error(`wat-assembler: unknown instruction ${op}`);
  }
}

/** A section: its id and its contents, prefixed by their size. */
function section(id: number, contents: readonly number[], out: number[]): void {
  out.push(id);
  uleb(contents.length, out);
  out.push(...contents);
}

/** A name: its UTF-8 bytes (ASCII here), prefixed by their length. */
function name(text: string, out: number[]): void {
  uleb(text.length, out);
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

const VALTYPE = { i32: 0x7f, v128: 0x7b } as const;

/**
 * The binary module of one function over an imported memory (`env.memory`, at least a page), exported under
 * its name. The module is validated by the engine when it is compiled.
 */
export function assembleFunction(fn: FunctionText): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const type: number[] = [1, 0x60];
  uleb(fn.params.length, type);
  for (let i = 0; i < fn.params.length; i++) type.push(VALTYPE.i32);
  type.push(0);
  section(1, type, out);
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, 0x00, 0x01);
  section(2, imports, out);
  section(3, [1, 0], out);
  const exports: number[] = [1];
  name(fn.name, exports);
  exports.push(0x00, 0x00);
  section(7, exports, out);

  const indices = new Map<string, number>();
  fn.params.forEach((p) => indices.set(p, indices.size));
  fn.locals.forEach(([l]) => indices.set(l, indices.size));
  const code: number[] = [];
  // locals as runs of one type
  const runs: [number, number][] = [];
  for (const [, t] of fn.locals) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === VALTYPE[t]) last[0]++;
    else runs.push([1, VALTYPE[t]]);
  }
  uleb(runs.length, code);
  for (const [count, t] of runs) {
    uleb(count, code);
    code.push(t);
  }
  const body = new BodyEncoder(indices);
  body.instructions(parse(fn.body));
  code.push(...body.out, 0x0b);
  const codeSection: number[] = [1];
  uleb(code.length, codeSection);
  codeSection.push(...code);
  section(10, codeSection, out);
  return Uint8Array.from(out);
}
