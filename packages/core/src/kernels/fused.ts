/**
 * The fused elementwise kernel: interprets a small program (one instruction per group member) over the
 * group's output in chunks of a row. Values only the group reads live in chunk-sized registers; the
 * others are written straight into their buffers. No code is generated (no `new Function`), so it runs
 * under a strict Content-Security-Policy. Each instruction calls the same row functions as the eager kernels,
 * into registers of the member's dtype, so results round exactly as eager execution does.
 */
import type { FusedProgram, FusedRun } from '../backend/backend.js';
import type { DType, TensorData } from '../dtype.js';
import { planBroadcast, type BroadcastPlan } from './broadcast-plan.js';
import { cpuKernels, type Row1, type Row2, type Row3, type RowKernel } from './cpu-kernels.js';
import { CHUNK, type RegisterFile } from './registers.js';
import { directKernel, instanceOf, splatAddress, type DirectKernel, type SimdInstance } from './wasm/elementwise-wasm.js';
import { generateFusedKernel } from './wasm/fused-codegen.js';

interface Member {
  readonly arity: 1 | 2 | 3;
  readonly row: Row1 | Row2 | Row3;
  readonly operands: readonly number[];
  /** Where the member's value goes: its index among the stored outputs, or -1 for a register. */
  readonly output: number;
  readonly dtype: DType;
}

/**
 * How an operand walks the rows of a broadcast plan, when whole rows can be batched into one chunk:
 * `contiguous`, the next row of an array each row; `pitched`, rows a fixed distance apart that is not the
 * row length (a slice of a wider value read in place: a gate's 128 columns of each 512-column row);
 * `repeated`, one row (a bias [H] added to [N, H]) or one scalar for every row; `column`, one scalar per row
 * that varies along the rows (a [N, 1] maximum subtracted from [N, H] logits).
 */
type RowWalk = 'contiguous' | 'pitched' | 'repeated' | 'column';

/** Rows at least this long may batch with a `column` operand (expanding it costs a fill per row). */
const COLUMN_MIN_INNER = 16;

/** Each operand's {@link RowWalk}, or null where some operand walks the rows otherwise (or there is one row). */
function rowWalks({ outer, inner, rows, strides }: BroadcastPlan): RowWalk[] | null {
  if (outer < 2 || 2 * inner > CHUNK) return null;
  const walks: RowWalk[] = [];
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    if (isRepeated(row)) walks.push('repeated');
    else if (strides[k] === 1 && row.every((offset, r) => offset === row[0]! + r * inner)) walks.push('contiguous');
    else if (strides[k] === 1 && row.every((offset, r) => offset === row[0]! + r * (row[1]! - row[0]!))) walks.push('pitched');
    else if (strides[k] === 0 && inner >= COLUMN_MIN_INNER) walks.push('column');
    else return null;
  }
  return walks;
}

/**
 * How many whole rows of a broadcast plan one chunk can take (1: chunks are parts of one row). Rows batch
 * when every operand walks them in a {@link RowWalk}: then `k` consecutive rows are `k·inner` contiguous
 * elements of the output and of each contiguous operand; a repeated row is read from a register holding it
 * `k` times, a column from a register holding each row's scalar `inner` times; pitched rows are read in place
 * by the group's generated loop and gathered into a register otherwise. A bias add over rows of 512
 * then runs as a few calls of 4096 elements instead of a call per row, and rows shorter than the SIMD
 * kernels' minimum (a softmax over 65 classes) reach them at all. Where a multiple of rows makes whole
 * vectors of four (60 rows of 65, not 63) a chunk takes such a multiple: SIMD kernels write whole vectors, so a
 * chunk of 4095 elements would go through scratch and a copy, and past the generated loop of its group.
 */
export function rowsPerChunk(plan: BroadcastPlan): number {
  if (rowWalks(plan) === null) return 1;
  const fit = Math.floor(CHUNK / plan.inner);
  // rows per whole number of vectors: 4 for odd rows, 2 for rows of 2 mod 4, 1 for rows of whole vectors
  const vectorRows = plan.inner % 2 !== 0 ? 4 : plan.inner % 4 !== 0 ? 2 : 1;
  return Math.min(plan.outer, fit >= vectorRows ? fit - (fit % vectorRows) : fit);
}

/**
 * Plans the kernel of a fused group over the CPU kernels' row functions. External inputs broadcast to the
 * group's shape, each read through its view where the program gives one; stored members are written
 * straight into their storage, the others live in registers.
 */
export function planFused(program: FusedProgram, registers: RegisterFile): FusedRun {
  const plan = planBroadcast(
    program.inputs.map((x) => x.shape),
    program.shape,
    program.views,
  );
  const { inner, rows, strides } = plan;
  const batch = rowsPerChunk(plan);
  const width = batch > 1 ? batch * inner : Math.min(inner, CHUNK);
  const counts: Partial<Record<DType, number>> = {};
  const nextRegister = (dtype: DType): TensorData => {
    const k = counts[dtype] ?? 0;
    counts[dtype] = k + 1;
    return registers.get(dtype, k).subarray(0, width);
  };
  let stored = 0;
  const members: Member[] = program.instructions.map((ins) => {
    const kernel = cpuKernels[ins.op] as RowKernel<typeof ins.op>;
    const output = { shape: program.shape, dtype: ins.dtype };
    return { arity: kernel.arity, row: kernel.row(ins.attrs as never, output), operands: ins.operands, output: ins.stored ? stored++ : -1, dtype: ins.dtype };
  });
  const own = members.map((m) => (m.output >= 0 ? null : nextRegister(m.dtype)));
  const walks = batch > 1 ? rowWalks(plan)! : null;
  // batched rows, member by member: an operand that repeats one row is read from a register holding it
  // `batch` times (filled once per run), a column from one holding each row's scalar `inner` times, and
  // pitched rows from one they are gathered into (both filled per chunk)
  const tiles = program.inputs.map((x, k) => (walks !== null && walks[k] === 'repeated' && strides[k] === 1 ? nextRegister(x.dtype) : null));
  const tileFrom = rows.map((row) => (row === null ? 0 : row[0]!));
  const columns = program.inputs.map((x, k) => (walks !== null && walks[k] === 'column' ? nextRegister(x.dtype) : null));
  const hasColumns = columns.some((c) => c !== null);
  const pitches = program.inputs.map((_, k) => (walks !== null && walks[k] === 'pitched' ? rows[k]![1]! - rows[k]![0]! : 0));
  const gathers = program.inputs.map((x, k) => (pitches[k] !== 0 ? nextRegister(x.dtype) : null));
  const hasGathers = gathers.some((g) => g !== null);
  // the generated loop reads pitched rows and repeated rows in place, row by row, where rows are whole vectors
  // (the distance from each input's row to its next: 0 for a repeated row); elsewhere it cannot read pitched rows
  const byRows = walks !== null && inner % 4 === 0 && (hasGathers || tiles.some((t) => t !== null));
  const rowPitches = byRows ? walks.map((w, k) => (w === 'pitched' ? pitches[k]! : w === 'repeated' ? 0 : inner)) : null;
  const repeatedRows = byRows ? tiles.flatMap((t, k) => (t === null ? [] : [k])) : [];
  // the stride each operand is read with: an expanded column varies along the chunk
  const readStrides = strides.map((s, k) => (columns[k] === null ? s : 1));
  const chunks = chunkTable(plan, batch, width);
  const inputCount = program.inputs.length;
  const count = members.length;
  const memberArrays: TensorData[] = new Array(count);
  // what the generated loop reads, and what the members one by one read (registers for the rows above)
  const sources: TensorData[] = new Array(inputCount);
  const memberSources: TensorData[] = new Array(inputCount);
  // Int32Array: offsets stay small integers, so the row loops index with integer arithmetic
  const inputOffsets = new Int32Array(inputCount);
  const direct = planDirect(program, readStrides);
  // registers through which the generated loop reads and writes arrays outside the plan's memory
  const staging = {
    inputs: program.inputs.map((x, k) => (readStrides[k] === 0 || tiles[k] !== null || columns[k] !== null || pitches[k] !== 0 ? null : nextRegister(x.dtype))),
    outputs: program.instructions.filter((ins) => ins.stored).map((ins) => nextRegister(ins.dtype)),
  };
  const generated =
    hasGathers && !byRows ? null : generateFusedKernel(program, readStrides, rowPitches === null ? undefined : { inner, pitches: rowPitches }, staging);
  // where the generated loop reads each repeated row this run: in place, or in its tile's first row
  const repeatedFrom = new Int32Array(inputCount);
  return (inputs, outputs) => {
    // the tiles are filled once per run: at once for a loop over whole chunks, else before the first chunk the
    // members compute (the loop by rows reads a row outside the plan's memory from its tile's first row)
    let tiled = !byRows && tiles.some((t) => t !== null);
    for (let k = 0; k < inputCount; k++) {
      const x = inputs[k] as TensorData;
      const tile = tiles[k]!;
      sources[k] = columns[k] ?? x;
      memberSources[k] = gathers[k] ?? tile ?? sources[k]!;
      if (tile === null || !byRows) continue;
      const inPlace = x.buffer === tile.buffer;
      repeatedFrom[k] = inPlace ? tileFrom[k]! : 0;
      if (inPlace) continue;
      sources[k] = tile;
      tile.set(x.subarray(tileFrom[k]!, tileFrom[k]! + inner), 0);
    }
    if (tiled) fillTiles(tiles, inputs as readonly TensorData[], tileFrom, inner, width);
    if (!byRows) for (let k = 0; k < inputCount; k++) if (tiles[k] !== null) sources[k] = tiles[k]!;
    for (let m = 0; m < count; m++) {
      const out = members[m]!.output;
      memberArrays[m] = out < 0 ? own[m]! : (outputs[out] as TensorData);
    }
    const { at: chunkAt, length: chunkLength, offsets } = chunks;
    const whole = generated?.prepare(sources, outputs as readonly TensorData[]) ?? false;
    // which members call their SIMD kernel directly: worked out for the first chunk the members compute
    let calls: readonly boolean[] | null | undefined;
    for (let c = 0; c < chunkAt.length; c++) {
      const at = chunkAt[c]!;
      const n = chunkLength[c]!;
      for (let k = 0; k < inputCount; k++) inputOffsets[k] = offsets[c * inputCount + k]!;
      if (hasColumns) fillColumns(columns, inputs as readonly TensorData[], rows, c * batch, n / inner, inner);
      // the whole group in one loop over the chunk where it can, else member by member
      if (whole) {
        for (const k of repeatedRows) inputOffsets[k] = repeatedFrom[k]!;
        if (generated!.call(at, n, inputOffsets)) continue;
        for (const k of repeatedRows) inputOffsets[k] = 0;
      }
      if (!tiled) {
        fillTiles(tiles, inputs as readonly TensorData[], tileFrom, inner, width);
        tiled = true;
      }
      if (hasGathers) gatherRows(gathers, inputs as readonly TensorData[], inputOffsets, pitches, n / inner, inner);
      calls ??= direct?.prepare(memberSources, memberArrays) ?? null;
      for (let m = 0; m < count; m++) {
        if (calls !== null && calls[m] && direct!.call(m, at, n, inputOffsets)) continue;
        const member = members[m]!;
        const o = member.operands;
        const dst = memberArrays[m]!;
        const dOff = member.output < 0 ? 0 : at;
        const a0 = o[0]!;
        const x0 = a0 >= 0 ? memberSources[a0]! : memberArrays[-a0 - 1]!;
        const o0 = a0 >= 0 ? inputOffsets[a0]! : memberOffset(members, a0, at);
        const s0 = a0 >= 0 ? readStrides[a0]! : 1;
        if (member.arity === 1) {
          (member.row as Row1)(x0, o0, s0, dst, dOff, n);
          continue;
        }
        const a1 = o[1]!;
        const x1 = a1 >= 0 ? memberSources[a1]! : memberArrays[-a1 - 1]!;
        const o1 = a1 >= 0 ? inputOffsets[a1]! : memberOffset(members, a1, at);
        const s1 = a1 >= 0 ? readStrides[a1]! : 1;
        if (member.arity === 2) {
          (member.row as Row2)(x0, o0, s0, x1, o1, s1, dst, dOff, n);
          continue;
        }
        const a2 = o[2]!;
        const x2 = a2 >= 0 ? memberSources[a2]! : memberArrays[-a2 - 1]!;
        const o2 = a2 >= 0 ? inputOffsets[a2]! : memberOffset(members, a2, at);
        (member.row as Row3)(x0, o0, s0, x1, o1, s1, x2, o2, a2 >= 0 ? readStrides[a2]! : 1, dst, dOff, n);
      }
    }
  };
}

/** The chunks a fused kernel runs: where each starts in the output, how long it is, and each input's offset. */
interface ChunkTable {
  readonly at: Int32Array;
  readonly length: Int32Array;
  /** Chunk c's offset of input k at `c · inputs + k`. */
  readonly offsets: Int32Array;
}

/**
 * The chunks of `width` elements: parts of one row each, or with `batch` > 1 (see {@link rowsPerChunk}) runs
 * of `batch` whole rows, in which a contiguous or pitched operand is read from the chunk's first row, a
 * repeated row or a column from its register (offset 0) and a scalar from its one place.
 */
function chunkTable({ outer, inner, rows, strides }: BroadcastPlan, batch: number, width: number): ChunkTable {
  const inputs = rows.length;
  const perRow = batch > 1 || width === 0 ? 0 : Math.ceil(inner / width);
  const total = batch > 1 ? Math.ceil(outer / batch) : outer * perRow;
  const at = new Int32Array(total);
  const length = new Int32Array(total);
  const offsets = new Int32Array(total * inputs);
  let c = 0;
  if (batch > 1) {
    for (let r = 0; r < outer; r += batch, c++) {
      at[c] = r * inner;
      length[c] = Math.min(batch, outer - r) * inner;
      for (let k = 0; k < inputs; k++) {
        const row = rows[k]!;
        // contiguous or pitched: the chunk's first row; a repeated row or a column: its register; a scalar: its one place
        offsets[c * inputs + k] = isRepeated(row) ? (strides[k] === 1 ? 0 : row[0]!) : strides[k] === 1 ? row[r]! : 0;
      }
    }
  } else {
    for (let r = 0; r < outer; r++) {
      for (let start = 0; start < inner; start += width, c++) {
        at[c] = r * inner + start;
        length[c] = Math.min(width, inner - start);
        for (let k = 0; k < inputs; k++) offsets[c * inputs + k] = (rows[k] === null ? 0 : rows[k]![r]!) + start * strides[k]!;
      }
    }
  }
  return { at, length, offsets };
}

/** Whether a row table starts every row at one place (the operand repeats one row, or one scalar, along the rows). */
function isRepeated(row: Int32Array): boolean {
  return row.every((offset) => offset === row[0]);
}

/** Where member `-(operand + 1)`'s current chunk starts: 0 in its register, `at` in its storage. */
function memberOffset(members: readonly Member[], operand: number, at: number): number {
  return members[-operand - 1]!.output < 0 ? 0 : at;
}

/** Expands each column operand's scalars for rows `first` to `first + count` into its register, `inner` each. */
function fillColumns(
  columns: readonly (TensorData | null)[],
  inputs: readonly TensorData[],
  rows: readonly (Int32Array | null)[],
  first: number,
  count: number,
  inner: number,
): void {
  for (let k = 0; k < columns.length; k++) {
    const column = columns[k];
    if (column === null || column === undefined) continue;
    const x = inputs[k]!;
    const row = rows[k]!;
    for (let q = 0; q < count; q++) column.fill(x[row[first + q]!]!, q * inner, (q + 1) * inner);
  }
}

/** Fills each tile register with its operand's repeated row (from `tileFrom[k]`), as many times as it holds: one copy, then doubling. */
function fillTiles(tiles: readonly (TensorData | null)[], inputs: readonly TensorData[], tileFrom: readonly number[], inner: number, width: number): void {
  for (let k = 0; k < tiles.length; k++) {
    const tile = tiles[k];
    if (tile === null || tile === undefined) continue;
    tile.set(inputs[k]!.subarray(tileFrom[k]!, tileFrom[k]! + inner), 0);
    for (let have = inner; have < width; have *= 2) tile.copyWithin(have, 0, Math.min(have, width - have));
  }
}

/**
 * Gathers the `count` rows of `inner` elements of each pitched operand that a chunk reads (the first at its
 * offset, the others `pitches[k]` apart) into its register, where the members read them from offset 0.
 */
function gatherRows(
  gathers: readonly (TensorData | null)[],
  inputs: readonly TensorData[],
  inputOffsets: Int32Array,
  pitches: readonly number[],
  count: number,
  inner: number,
): void {
  for (let k = 0; k < gathers.length; k++) {
    const gather = gathers[k];
    if (gather === null || gather === undefined) continue;
    const x = inputs[k]!;
    const first = inputOffsets[k]!;
    for (let q = 0; q < count; q++) gather.set(x.subarray(first + q * pitches[k]!, first + q * pitches[k]! + inner), q * inner);
    inputOffsets[k] = 0;
  }
}

/**
 * The members of a fused group that call their SIMD kernel directly (see {@link DirectKernel}): for each
 * run, {@link DirectPlan.prepare} finds the instance whose memory holds the group's arrays and which members
 * have every array there; {@link DirectPlan.call} then runs such a member on a chunk with one call into
 * WebAssembly. The kernels are those `binaryRange` and its kin would call, so the results are the same bits.
 */
interface DirectPlan {
  /** Which members run directly this run (null: none), given the group's sources and member arrays. */
  prepare(sources: readonly TensorData[], memberArrays: readonly TensorData[]): readonly boolean[] | null;
  /** Runs member m on the chunk of `n` elements at `at`; false (nothing done) where `n` is not whole vectors. */
  call(m: number, at: number, n: number, inputOffsets: Int32Array): boolean;
}

type DirectCall = (...addresses: number[]) => void;

/** Plans the direct calls of a group's members, or null where no member has a direct kernel. */
function planDirect(program: FusedProgram, readStrides: readonly number[]): DirectPlan | null {
  const { instructions, inputs } = program;
  const dtypeOf = (operand: number): DType => (operand >= 0 ? inputs[operand]!.dtype : instructions[-operand - 1]!.dtype);
  const kernels: (DirectKernel | null)[] = instructions.map((ins) => directKernel(ins.op, ins.attrs, ins.dtype, ins.operands.map(dtypeOf)));
  if (kernels.every((k) => k === null)) return null;
  const count = instructions.length;
  const bytes = (dtype: DType): number => (dtype === 'float64' ? 8 : 4);
  const outputBytes = instructions.map((ins) => bytes(ins.dtype));
  let instance: SimdInstance | null = null;
  let functions: (DirectCall | null)[] = [];
  const runs = new Array<boolean>(count).fill(false);
  let sources: readonly TensorData[] = [];
  let arrays: readonly TensorData[] = [];
  const addresses: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

  /** Whether an operand's array lies in the instance's memory (a splatted scalar is copied, so it may lie anywhere). */
  const inMemory = (operand: number, buffer: ArrayBufferLike): boolean =>
    operand >= 0 ? readStrides[operand] === 0 || sources[operand]!.buffer === buffer : arrays[-operand - 1]!.buffer === buffer;

  return {
    prepare(groupSources, memberArrays) {
      sources = groupSources;
      arrays = memberArrays;
      // the instance whose memory holds the registers (or the first stored member that lies in one)
      let found: SimdInstance | null = null;
      for (let m = 0; m < count && found === null; m++) found = instanceOf(memberArrays[m]!.buffer);
      if (found === null) return null;
      if (found !== instance) {
        instance = found;
        functions = kernels.map((k) => (k === null ? null : (found.exports[k.name] as DirectCall)));
      }
      let any = false;
      for (let m = 0; m < count; m++) {
        const ins = instructions[m]!;
        runs[m] = kernels[m] !== null && memberArrays[m]!.buffer === found.buffer && ins.operands.every((o) => inMemory(o, found.buffer));
        any ||= runs[m]!;
      }
      return any ? runs : null;
    },
    call(m, at, n, inputOffsets) {
      const kernel = kernels[m]!;
      if (n % kernel.lanes !== 0) return false;
      const memory = instance!;
      const ins = instructions[m]!;
      const operands = ins.operands;
      for (let p = 0; p < operands.length; p++) {
        const operand = operands[p]!;
        if (operand < 0) {
          const j = -operand - 1;
          // a register holds the chunk from its start, a stored member at the chunk's place
          addresses[2 * p] = arrays[j]!.byteOffset + (instructions[j]!.stored ? at * outputBytes[j]! : 0);
          addresses[2 * p + 1] = kernel.steps[p]!;
        } else if (readStrides[operand] === 0) {
          // a scalar (per chunk): splatted across one vector, read with step 0
          const x = sources[operand]!;
          const view = x instanceof Float64Array ? memory.f64 : x instanceof Int32Array ? memory.i32 : memory.f32;
          const first = splatAddress(p) / x.BYTES_PER_ELEMENT;
          view.fill(x[inputOffsets[operand]!]!, first, first + 16 / x.BYTES_PER_ELEMENT);
          addresses[2 * p] = splatAddress(p);
          addresses[2 * p + 1] = 0;
        } else {
          const x = sources[operand]!;
          addresses[2 * p] = x.byteOffset + inputOffsets[operand]! * x.BYTES_PER_ELEMENT;
          addresses[2 * p + 1] = kernel.steps[p]!;
        }
      }
      const out = arrays[m]!.byteOffset + (ins.stored ? at * outputBytes[m]! : 0);
      const end = out + (n / kernel.lanes) * kernel.outputStep;
      const f = functions[m]!;
      if (kernel.arity === 1) f(addresses[0]!, addresses[1]!, out, end, kernel.p0);
      else if (kernel.arity === 2) f(addresses[0]!, addresses[1]!, addresses[2]!, addresses[3]!, out, end);
      else f(addresses[0]!, addresses[1]!, addresses[2]!, addresses[3]!, addresses[4]!, addresses[5]!, out, end);
      return true;
    },
  };
}
