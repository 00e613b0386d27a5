/**
 * One WebAssembly function per fused elementwise group, generated when a plan is compiled: a single loop over
 * the chunk's vectors in which every member's value lives in a SIMD register, from the inputs' loads to the
 * stored members' stores. Run member by member instead, each member streams its chunk through memory (4096
 * elements, 16 KB, per value), and a backward LSTM cell of 23 members spends more time moving values between
 * L2 and the registers than computing them.
 *
 * Each member's expression is the text the elementwise kernels' module is built from (simd-wat.ts), so every
 * value has the bits the member-by-member kernels, and the JavaScript rows, give it. Float32 groups only (the
 * float64 transcendentals stay in JavaScript), and only where every member has such an expression; the group
 * runs member by member elsewhere, and for chunks that are not whole vectors.
 */
import type { FusedProgram } from '../../backend/backend.js';
import type { DType, TensorData } from '../../dtype.js';
import { ARGUMENTS, instanceOf, type SimdInstance } from './elementwise-wasm.js';
import { arithmetic, comparisons, f32, hoistConstants, transcendental, unary } from './simd-wat.js';
import { assembleFunction, type FunctionText } from './wat-assembler.js';

/** The scratch locals the expressions of simd-wat.ts use (`$x`, `$y` in, `$y` out, `$p` a parameter). */
const SCRATCH = ['$x', '$y', '$p', '$a', '$z', '$s', '$t', '$n', '$i', '$h', '$r', '$r2', '$z2'];

/** A fused group's generated kernel, ready to run on the arrays of one run. */
export interface GeneratedKernel {
  /**
   * Readies a run over the group's sources (inputs, or the registers standing for them) and stored members'
   * arrays; false where the kernel cannot run it (an array outside the memory of the SIMD instance holding
   * the others that has no staging register there, or the module not compiled yet).
   */
  prepare(sources: readonly TensorData[], stored: readonly TensorData[]): boolean;
  /** Runs the chunk of `n` elements at `at` (inputs at `inputOffsets`); false (nothing done) where `n` is not whole vectors (or rows). */
  call(at: number, n: number, inputOffsets: Int32Array): boolean;
}

/** The statements computing member `m` into the local `into` from its operands' values, or null where it has no SIMD text. */
function memberText(program: FusedProgram, m: number, value: (operand: number) => string, into: string): string | null {
  const ins = program.instructions[m]!;
  const dtypeOf = (operand: number): DType => (operand >= 0 ? program.inputs[operand]!.dtype : program.instructions[-operand - 1]!.dtype);
  const operands = ins.operands;
  const types = operands.map(dtypeOf);
  const op = ins.op;
  if (operands.length === 1 && types[0] === 'float32' && ins.dtype === 'float32') {
    const functions = transcendental();
    if (op in functions) return `(local.set $x ${value(operands[0]!)}) ${functions[op]} (local.set ${into} (local.get $y))`;
    const expression = unary[op];
    if (expression === undefined) return null;
    let parameter = '';
    if (op === 'leakyRelu') {
      const slope = (ins.attrs as { readonly slope: number }).slope;
      // the JavaScript multiplies by the double slope: float32 arithmetic only where it is a float32
      if (Math.fround(slope) !== slope) return null;
      parameter = `(local.set $p (f32x4.splat (f32.const ${f32(slope)})))`;
    }
    return `(local.set $x ${value(operands[0]!)}) ${parameter} (local.set ${into} ${expression('f32x4')})`;
  }
  if (operands.length === 2 && types[0] === 'float32' && types[1] === 'float32') {
    const [a, b] = [value(operands[0]!), value(operands[1]!)];
    if (op in arithmetic && ins.dtype === 'float32') return `(local.set $x ${a}) (local.set $y ${b}) (local.set ${into} ${arithmetic[op]!('f32x4')})`;
    // a comparison's value is the int32 0 or 1 the JavaScript writes
    if (op in comparisons && ins.dtype === 'int32') return `(local.set ${into} (v128.and (f32x4.${comparisons[op]} ${a} ${b}) (v128.const i32x4 1 1 1 1)))`;
    return null;
  }
  if (op === 'where' && types[1] === 'float32' && types[2] === 'float32' && ins.dtype === 'float32') {
    // `cond !== 0`: NaN counts as true and -0 as false, as `ne` has it
    const test = types[0] === 'int32' ? 'i32x4.ne' : types[0] === 'float32' ? 'f32x4.ne' : null;
    if (test === null) return null;
    const [c, a, b] = operands.map(value) as [string, string, string];
    return `(local.set ${into} (v128.bitselect ${a} ${b} (${test} ${c} (v128.const i64x2 0 0))))`;
  }
  return null;
}

/**
 * How a generated kernel walks a chunk of whole rows when some input is read row by row from a larger value
 * (a slice read in place): `vectorsPerRow` vectors per row, and after each row every input's address moves on
 * by `skips[k]` more bytes (the gap to its next row; 0 for the inputs read contiguously).
 */
export interface PitchedRows {
  readonly vectorsPerRow: number;
  readonly skips: readonly number[];
}

/**
 * The text of a group's function `run(args, count)`: `args` points at the inputs' addresses, then the stored
 * members' (an i32 each); inputs read with stride 0 (`splat`) are one element, splatted before the loop;
 * `count` ≥ 1 vectors, or with `rows` that many rows of `rows.vectorsPerRow` vectors. Null where some member
 * has no SIMD text. @internal
 */
export function fusedKernelText(program: FusedProgram, splat: readonly boolean[], rows?: PitchedRows): FunctionText | null {
  const inputs = program.inputs.map((_, k) => k);
  const stored = program.instructions.flatMap((ins, m) => (ins.stored ? [m] : []));
  // Several vectors per iteration where the members are long (transcendentals). An exponential is a chain of
  // some 25 dependent operations; a sigmoid of one vector per iteration ran at 8 ns a vector, of four
  // independent vectors interleaved member by member at 5 ns, and a chain of five transcendentals went from
  // 81 to 30 ns a vector: the out-of-order window does not reach far enough into the next iteration to
  // overlap the chains by itself. Interleaving multiplies the vector registers in use, though, and x64 has 16:
  // an LSTM cell (13 inputs, 17 members) runs best with two (46 → 38 µs) and slower with four (55 µs), as V8
  // spills. Rows that the chosen count does not divide take two, or one.
  const order = emissionOrder(program);
  const preferred = vectorsPerIteration(program);
  const perIteration = rows === undefined || rows.vectorsPerRow % preferred === 0 ? preferred : rows.vectorsPerRow % 2 === 0 ? Math.min(preferred, 2) : 1;
  const bodies: { members: string[]; stores: string[] }[] = [];
  for (let j = 0; j < perIteration; j++) {
    const body = vectorBody(program, order, splat, stored, j);
    if (body === null) return null;
    bodies.push(body);
  }
  const advance = (bytes: number): string[] => [
    ...inputs.filter((k) => !splat[k]).map((k) => `(local.set $ptr${k} (i32.add (local.get $ptr${k}) (i32.const ${bytes})))`),
    ...stored.map((m) => `(local.set $out${m} (i32.add (local.get $out${m}) (i32.const ${bytes})))`),
  ];
  const countDown = (by: number): string => `(local.set $count (i32.sub (local.get $count) (i32.const ${by})))`;
  const singleLoop = `(loop $vectors ${bodies[0]!.members.join(' ')} ${bodies[0]!.stores.join(' ')} ${advance(16).join(' ')}
    ${countDown(1)}
    (br_if $vectors (local.get $count)))`;
  // member by member, each for every vector of the iteration; outside rows, the vectors left over (fewer
  // than an iteration's) then go one at a time
  const interleavedLoop = (): string => {
    const members = order.flatMap((_, at) => bodies.map((b) => b.members[at]!));
    const loop = `(loop $interleaved ${members.join(' ')} ${bodies.flatMap((b) => b.stores).join(' ')} ${advance(16 * perIteration).join(' ')}
      ${countDown(perIteration)}
      (br_if $interleaved (i32.lt_u (i32.const ${perIteration - 1}) (local.get $count))))`;
    return rows === undefined
      ? `(block $tooFew (br_if $tooFew (i32.lt_u (local.get $count) (i32.const ${perIteration}))) ${loop})
    (block $none (br_if $none (i32.eqz (local.get $count))) ${singleLoop})`
      : loop;
  };
  const vectors = perIteration === 1 ? singleLoop : interleavedLoop();
  const addresses = [
    ...inputs.map((k, slot) => `(local.set $ptr${k} (i32.load offset=${4 * slot} (local.get $args)))`),
    ...stored.map((m, slot) => `(local.set $out${m} (i32.load offset=${4 * (inputs.length + slot)} (local.get $args)))`),
  ];
  const splats = inputs.filter((k) => splat[k]).map((k) => `(local.set $in${k} (v128.load32_splat (local.get $ptr${k})))`);
  // by rows: `count` rows, each a loop of vectorsPerRow vectors, then the row-read inputs skip to their next row
  const skips = rows === undefined ? [] : inputs.filter((k) => !splat[k] && rows.skips[k] !== 0);
  const loop =
    rows === undefined
      ? vectors
      : `(local.set $rows (local.get $count))
    (loop $rowLoop (local.set $count (i32.const ${rows.vectorsPerRow})) ${vectors}
      ${skips.map((k) => `(local.set $ptr${k} (i32.add (local.get $ptr${k}) (i32.const ${rows.skips[k]})))`).join(' ')}
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $rowLoop (local.get $rows)))`;
  // vector constants read from locals set once, before the loop (see hoistConstants)
  const { body, setUp, locals: constants } = hoistConstants(loop);
  // the locals of the j-th vector of an iteration (splatted inputs are shared)
  const vectorLocals = (j: number): [string, 'v128'][] => [
    ...inputs.filter((k) => j === 0 || !splat[k]).map((k): [string, 'v128'] => [`$in${k}${suffixOf(j)}`, 'v128']),
    ...program.instructions.map((_, m): [string, 'v128'] => [`$v${m}${suffixOf(j)}`, 'v128']),
    ...SCRATCH.map((l): [string, 'v128'] => [`${l}${suffixOf(j)}`, 'v128']),
  ];
  return {
    name: 'run',
    params: ['$args', '$count'],
    locals: [
      ...(rows === undefined ? [] : [['$rows', 'i32'] as [string, 'i32']]),
      ...inputs.map((k): [string, 'i32'] => [`$ptr${k}`, 'i32']),
      ...stored.map((m): [string, 'i32'] => [`$out${m}`, 'i32']),
      ...bodies.flatMap((_, j) => vectorLocals(j)),
      ...constants.map((l): [string, 'v128'] => [l, 'v128']),
    ],
    body: `${addresses.join(' ')} ${splats.join(' ')} ${setUp} ${body}`,
  };
}

/** The suffix of the locals of the `j`-th vector of an iteration. */
const suffixOf = (j: number): string => (j === 0 ? '' : `_${j}`);

/**
 * How many vectors a group's loop interleaves per iteration (see {@link fusedKernelText}): one without
 * transcendentals (a few operations per member, bound by loads and stores), else four for a small group (an
 * activation, a softmax's exponential) and two for a larger one, whose inputs and values, four times over,
 * would not fit the registers.
 */
function vectorsPerIteration(program: FusedProgram): number {
  const transcendentals = transcendental();
  if (!program.instructions.some((ins) => ins.op in transcendentals)) return 1;
  return program.inputs.length + program.instructions.length <= 8 ? 4 : 2;
}

/**
 * The order the loop computes a group's members in: each stored member, in turn, after what it reads that is
 * not computed yet, depth first and operands in order (any member nothing stored reads comes last). A value
 * is then computed just before its use: an LSTM cell written gate by gate (the four gates' sums first, then
 * their activations) keeps four sums live across the activations, this order one gate's at a time (the cell
 * alone: 37.8 → 37.2 µs; little, but it costs nothing).
 */
function emissionOrder(program: FusedProgram): number[] {
  const order: number[] = [];
  const emitted = new Array<boolean>(program.instructions.length).fill(false);
  const visit = (m: number): void => {
    if (emitted[m]) return;
    emitted[m] = true;
    for (const o of program.instructions[m]!.operands) if (o < 0) visit(-o - 1);
    order.push(m);
  };
  program.instructions.forEach((ins, m) => ins.stored && visit(m));
  program.instructions.forEach((_, m) => visit(m));
  return order;
}

/**
 * The statements of the `j`-th vector of an iteration (16·j bytes on), members in `order`: per member, the
 * loads of the inputs it reads first and its own statements; and the stores of the stored members. Every
 * local of a vector after the first is renamed (`$v3` → `$v3_1`); splatted inputs are shared.
 */
function vectorBody(
  program: FusedProgram,
  order: readonly number[],
  splat: readonly boolean[],
  stored: readonly number[],
  j: number,
): { members: string[]; stores: string[] } | null {
  const suffix = suffixOf(j);
  const offset = j === 0 ? '' : ` offset=${16 * j}`;
  const input = (k: number): string => `$in${k}${splat[k] ? '' : suffix}`;
  const value = (operand: number): string => (operand >= 0 ? `(local.get ${input(operand)})` : `(local.get $v${-operand - 1}${suffix})`);
  const scratch = new RegExp(`\\((local\\.(?:get|set)) (${SCRATCH.map((l) => l.replace('$', '\\$')).join('|')})(?=[\\s)])`, 'g');
  // each input loaded just before the first member that reads it: loaded at the top, every input would be
  // live across the members before its use, and with a dozen inputs V8 spills them to the stack
  const loaded = splat.slice();
  const members: string[] = [];
  for (const m of order) {
    const text = memberText(program, m, value, `$v${m}${suffix}`);
    if (text === null) return null;
    const loads: string[] = [];
    for (const k of program.instructions[m]!.operands) {
      if (k < 0 || loaded[k]) continue;
      loaded[k] = true;
      loads.push(`(local.set ${input(k)} (v128.load${offset} (local.get $ptr${k})))`);
    }
    members.push([...loads, suffix === '' ? text : text.replace(scratch, (_, access: string, local: string) => `(${access} ${local}${suffix}`)].join(' '));
  }
  const stores = stored.map((m) => `(v128.store${offset} (local.get $out${m}) (local.get $v${m}${suffix}))`);
  return { members, stores };
}

type Run = (args: number, count: number) => void;

/**
 * Generates and compiles the kernel of a fused group whose inputs are read with `readStrides` (0: one element
 * per chunk, splatted; 1: along the chunk), or by rows of `rowPitches.inner` elements, input k's rows lying
 * `rowPitches.pitches[k]` elements apart (`inner`: contiguous; 0: one row read again); null where WebAssembly is
 * missing or refuses the module, some member has no SIMD text, or rows are not whole vectors. A module too
 * large for a browser's synchronous compile is compiled asynchronously, and the group runs member by member
 * until it is ready.
 *
 * The loop reads and writes the memory of one SIMD instance. An array outside it (a jitted function's
 * argument or result, such as an optimiser's parameters and state) is copied, chunk by chunk, into its
 * `staging` register (chunk-sized, in the instance's memory) before the loop, or out of it after: memcpy-speed
 * copies, where the members one by one would each make a pass over the chunk in JavaScript.
 */
export function generateFusedKernel(
  program: FusedProgram,
  readStrides: readonly number[],
  rowPitches?: { readonly inner: number; readonly pitches: readonly number[] },
  staging?: { readonly inputs: readonly (TensorData | null)[]; readonly outputs: readonly (TensorData | null)[] },
): GeneratedKernel | null {
  if (typeof WebAssembly !== 'object') return null;
  const splat = readStrides.map((s) => s === 0);
  const inner = rowPitches?.inner ?? 0;
  if (rowPitches !== undefined && (inner % 4 !== 0 || inner === 0)) return null;
  const rows = rowPitches === undefined ? undefined : { vectorsPerRow: inner / 4, skips: rowPitches.pitches.map((p) => 4 * (p - inner)) };
  const text = fusedKernelText(program, splat, rows);
  const storedCount = program.instructions.filter((ins) => ins.stored).length;
  // the addresses, then each splatted input's element
  const argumentBytes = 4 * (program.inputs.length + storedCount) + 4 * program.inputs.length;
  if (text === null || argumentBytes > ARGUMENTS.bytes) return null;
  let module: WebAssembly.Module | null = null;
  const bytes = assembleFunction(text);
  try {
    module = new WebAssembly.Module(bytes);
  } catch {
    // a browser's main thread refuses synchronous compiles of modules over 4 KB: compile asynchronously
    // (a Content-Security-Policy refuses that too, and the group keeps running member by member)
    WebAssembly.compile?.(bytes).then(
      (compiled) => (module = compiled),
      () => undefined,
    );
  }
  const inputCount = program.inputs.length;
  const instances = new WeakMap<WebAssembly.Memory, Run>();
  let instance: SimdInstance | null = null;
  let run: Run | null = null;
  let sources: readonly TensorData[] = [];
  let outputs: readonly TensorData[] = [];
  const scalarsAt = ARGUMENTS.at + 4 * (inputCount + storedCount);
  // which inputs and outputs go through their staging registers this run
  const stagedIn = new Array<boolean>(inputCount).fill(false);
  const stagedOut = new Array<boolean>(storedCount).fill(false);
  const stagingIn = staging?.inputs ?? [];
  const stagingOut = staging?.outputs ?? [];
  // an input read row by row from a wider value cannot be copied as one run of the chunk
  const stageable = (k: number): boolean => stagingIn[k] != null && (rowPitches === undefined || rowPitches.pitches[k] === inner);

  // the arrays of the last run prepared, and the answer: a plan's steps mostly see the same ones every run
  const lastSources: TensorData[] = [];
  const lastStored: TensorData[] = [];
  let lastAnswer = false;
  const prepareAnew = (groupSources: readonly TensorData[], stored: readonly TensorData[]): boolean => {
    lastSources.length = 0;
    lastStored.length = 0;
    lastSources.push(...groupSources);
    lastStored.push(...stored);
    lastAnswer = prepare(groupSources, stored);
    return lastAnswer;
  };
  const unchanged = (groupSources: readonly TensorData[], stored: readonly TensorData[]): boolean => {
    if (lastSources.length !== groupSources.length || lastStored.length !== stored.length) return false;
    for (let k = 0; k < groupSources.length; k++) if (groupSources[k] !== lastSources[k]) return false;
    for (let s = 0; s < stored.length; s++) if (stored[s] !== lastStored[s]) return false;
    return true;
  };
  const prepare = (groupSources: readonly TensorData[], stored: readonly TensorData[]): boolean => {
    let found: SimdInstance | null = null;
    for (let s = 0; s < stored.length && found === null; s++) found = instanceOf(stored[s]!.buffer);
    for (let k = 0; k < inputCount && found === null; k++) if (!splat[k]) found = instanceOf(groupSources[k]!.buffer);
    for (let s = 0; s < stagingOut.length && found === null; s++) if (stagingOut[s] != null) found = instanceOf(stagingOut[s]!.buffer);
    for (let k = 0; k < stagingIn.length && found === null; k++) if (stagingIn[k] != null) found = instanceOf(stagingIn[k]!.buffer);
    if (found === null) return false;
    for (let s = 0; s < storedCount; s++) {
      stagedOut[s] = stored[s]!.buffer !== found.buffer;
      if (stagedOut[s] && stagingOut[s]?.buffer !== found.buffer) return false;
    }
    for (let k = 0; k < inputCount; k++) {
      stagedIn[k] = !splat[k] && groupSources[k]!.buffer !== found.buffer;
      if (stagedIn[k] && !(stageable(k) && stagingIn[k]!.buffer === found.buffer)) return false;
    }
    if (found !== instance) {
      let fn = instances.get(found.memory);
      if (fn === undefined) {
        fn = new WebAssembly.Instance(module!, { env: { memory: found.memory } }).exports.run as Run;
        instances.set(found.memory, fn);
      }
      instance = found;
      run = fn;
    }
    sources = groupSources;
    outputs = stored;
    return true;
  };

  return {
    prepare(groupSources, stored) {
      if (module === null) return false;
      if (!unchanged(groupSources, stored)) return prepareAnew(groupSources, stored);
      sources = groupSources;
      outputs = stored;
      return lastAnswer;
    },
    call(at, n, inputOffsets) {
      if (n % 4 !== 0 || n === 0 || (rows !== undefined && n % inner !== 0)) return false;
      const { i32, f32: floats } = instance!;
      const args = ARGUMENTS.at >> 2;
      for (let k = 0; k < inputCount; k++) {
        const x = sources[k]!;
        if (splat[k]) {
          // the element, copied beside the addresses (its array may lie outside the memory)
          const slot = (scalarsAt >> 2) + k;
          if (x instanceof Int32Array) i32[slot] = x[inputOffsets[k]!]!;
          else floats[slot] = x[inputOffsets[k]!]!;
          i32[args + k] = 4 * slot;
        } else if (stagedIn[k]) {
          const register = stagingIn[k]!;
          register.set(x.subarray(inputOffsets[k]!, inputOffsets[k]! + n) as never);
          i32[args + k] = register.byteOffset;
        } else i32[args + k] = x.byteOffset + 4 * inputOffsets[k]!;
      }
      for (let s = 0; s < storedCount; s++) i32[args + inputCount + s] = stagedOut[s] ? stagingOut[s]!.byteOffset : outputs[s]!.byteOffset + 4 * at;
      run!(ARGUMENTS.at, rows === undefined ? n >> 2 : n / inner);
      for (let s = 0; s < storedCount; s++) if (stagedOut[s]) outputs[s]!.set(stagingOut[s]!.subarray(0, n) as never, at);
      return true;
    },
  };
}
