import { ArgumentError, describeValue, DTypeError, formatShape, tensor, Tensor } from '@tapestry/core';
import { compareCodePoints } from './code-points.js';
import {
  ElementRangeError,
  isSafetensorsDType,
  READ_AS,
  readElements,
  SAFETENSORS_DTYPES,
  SAFETENSORS_DTYPE_SIZE,
  WRITE_AS,
  writeElements,
  type SafetensorsDType,
} from './safetensors-dtypes.js';

// The safetensors format (Hugging Face): an 8-byte little-endian u64 N, N bytes of UTF-8 JSON
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }, then the
// tensors' bytes, little-endian and row-major, offsets relative to the end of the header. The writer
// reproduces the reference library byte for byte (tensor order, compact JSON, space padding to a multiple
// of 8 so every tensor is aligned); the reader applies the reference library's checks. All byte access
// goes through DataView with explicit little-endian order, so big-endian hosts read and write the same
// bytes, and only Uint8Array, DataView and TextEncoder/TextDecoder are used, so it runs in browsers.

/** The largest header the reference library accepts (100 MB); larger lengths mean a corrupt file. */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** The contents of a safetensors file. */
export interface SafetensorsContents {
  /** The tensors by name, in the order of their data in the file. */
  tensors: Record<string, Tensor>;
  /** The file's `__metadata__` map, or undefined when the file has none. */
  metadata: Record<string, string> | undefined;
}

/**
 * Serialises tensors (and optional string metadata) to the safetensors format, exactly as the Python
 * `safetensors` library writes them: tensors ordered by dtype alignment (F64, then F32, then I32) and
 * then by name, compact JSON with `__metadata__` first (its keys sorted), the header padded with spaces
 * to a multiple of 8 bytes. float32 → `F32`, float64 → `F64`, int32 → `I32`. Loads in PyTorch with
 * `safetensors.torch.load_file`.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ 'linear.weight': w, 'linear.bias': b }, { format: 'pt' });
 * // Node: fs.writeFileSync('model.safetensors', bytes); browser: new Blob([bytes])
 * ```
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const fn = 'encodeSafetensors';
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors) || tensors instanceof Tensor) {
    throw new ArgumentError(`${fn}: tensors must be an object mapping names to Tensors, got ${describeValue(tensors)}`);
  }
  const entries = Object.entries(tensors);
  for (const [name, value] of entries) {
    if (name === METADATA_KEY) throw new ArgumentError(`${fn}: '${METADATA_KEY}' is reserved for metadata and cannot name a tensor`);
    if (!(value instanceof Tensor)) throw new ArgumentError(`${fn}: tensors[${JSON.stringify(name)}] must be a Tensor, got ${describeValue(value)}`);
  }
  let metadataEntries: [string, string][] | undefined;
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new ArgumentError(`${fn}: metadata must be an object of strings, got ${describeValue(metadata)}`);
    }
    metadataEntries = Object.entries(metadata).sort((a, b) => compareCodePoints(a[0], b[0]));
    for (const [key, value] of metadataEntries) {
      if (typeof value !== 'string') {
        throw new ArgumentError(
          `${fn}: metadata[${JSON.stringify(key)}] must be a string, got ${describeValue(value)} (safetensors metadata is string to string)`,
        );
      }
    }
  }

  // The reference writer sorts by descending alignment (its dtype enum order), then by name (UTF-8 bytes).
  const rank = (t: Tensor): number => SAFETENSORS_DTYPES.indexOf(WRITE_AS[t.dtype]);
  entries.sort(([na, a], [nb, b]) => rank(b) - rank(a) || compareCodePoints(na, nb));

  // Object keys are written by hand (never through JSON.stringify of an object), because JS would move
  // integer-like names such as "0" to the front and change the order.
  const parts: string[] = [];
  if (metadataEntries !== undefined) {
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${metadataEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.size * SAFETENSORS_DTYPE_SIZE[WRITE_AS[t.dtype]];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${WRITE_AS[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const [, t] of entries) {
    writeElements(t.dataSync(), view, position);
    position += t.size * SAFETENSORS_DTYPE_SIZE[WRITE_AS[t.dtype]];
  }
  return out;
}

interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function corrupt(message: string): ArgumentError {
  return new ArgumentError(`decodeSafetensors: ${message}`);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks one header entry's fields (not yet its place among the others). */
function parseEntry(name: string, info: unknown): TensorEntry {
  const label = `tensor ${JSON.stringify(name)}`;
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    throw corrupt(`${label}: the header entry must be an object { dtype, shape, data_offsets }, got ${describeValue(info)}`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isSafetensorsDType(dtype)) {
    throw corrupt(`${label}: unknown dtype ${describeValue(dtype)} (the format defines ${SAFETENSORS_DTYPES.join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    throw corrupt(`${label}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize) || offsets[0] > offsets[1]) {
    throw corrupt(`${label}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
  }
  const elements = shape.reduce((a: number, b: number) => a * b, 1);
  const expected = elements * SAFETENSORS_DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(expected) || expected !== offsets[1] - offsets[0]) {
    throw corrupt(
      `${label}: data_offsets [${offsets[0]}, ${offsets[1]}] span ${offsets[1] - offsets[0]} bytes but ${dtype} ` +
        `${formatShape(shape)} needs ${expected} (${elements} elements × ${SAFETENSORS_DTYPE_SIZE[dtype]} bytes)`,
    );
  }
  return { name, dtype, shape, begin: offsets[0], end: offsets[1] };
}

/**
 * Parses a safetensors file into tensors and metadata. F32/F64/I32 load as float32/float64/int32;
 * F16 and BF16 widen exactly to float32; BOOL, U8, I8, I16, U16 widen to int32; U32, I64 and U64 load as
 * int32 when every value fits (else an error naming the tensor and element); F8 formats are refused.
 *
 * Everything is checked before anything is returned, as the reference library does, and a bad file is an
 * `ArgumentError` saying what is wrong: shorter than 8 bytes, a header length beyond the file, a header
 * that is not UTF-8 JSON of the right shape, an unknown or unsupported dtype, data offsets that disagree
 * with dtype × shape, overlap, leave gaps, or do not end exactly at the end of the file.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 * tensors['linear.weight'].shape; // e.g. [10, 20]
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsContents {
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new ArgumentError(`decodeSafetensors: bytes must be a Uint8Array or an ArrayBuffer, got ${describeValue(bytes)}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 8) throw corrupt(`the input has ${data.length} bytes, fewer than the 8-byte header length: truncated or not a safetensors file`);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(`the header length ${declared} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes: corrupt or not a safetensors file`);
  }
  const headerLength = Number(declared);
  if (8 + headerLength > data.length) {
    throw corrupt(`the header length ${headerLength} runs past the end of the input (${data.length} bytes): the file is truncated`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(8, 8 + headerLength));
  } catch {
    throw corrupt('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw corrupt(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw corrupt(`the header must be a JSON object, got ${describeValue(header)}`);
  }

  let metadata: Record<string, string> | undefined;
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name !== METADATA_KEY) {
      entries.push(parseEntry(name, info));
      continue;
    }
    // The reference library reads a null __metadata__ as absent.
    if (info === null) continue;
    if (typeof info !== 'object' || Array.isArray(info) || !Object.values(info).every((v) => typeof v === 'string')) {
      throw corrupt(`${METADATA_KEY} must be an object of strings, got ${JSON.stringify(info)}`);
    }
    metadata = Object.fromEntries(Object.entries(info as Record<string, string>));
  }

  // Tensors must tile the data section exactly: sorted by offsets, each starting where the last ended.
  const dataStart = 8 + headerLength;
  const dataLength = data.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: TensorEntry | undefined;
  for (const entry of entries) {
    const label = `tensor ${JSON.stringify(entry.name)} [${entry.begin}, ${entry.end})`;
    if (entry.begin < cursor) {
      throw corrupt(`${label} overlaps tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end})`);
    }
    if (entry.begin > cursor) throw corrupt(`bytes [${cursor}, ${entry.begin}) of the data are not covered by any tensor (before ${label})`);
    if (entry.end > dataLength) throw corrupt(`${label} runs past the end of the data (${dataLength} bytes): the file is truncated`);
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== dataLength) {
    throw corrupt(`the data has ${dataLength} bytes but the tensors cover ${cursor}: the file is truncated or has trailing bytes`);
  }
  for (const entry of entries) {
    if (READ_AS[entry.dtype] === undefined) {
      throw new DTypeError(
        `decodeSafetensors: tensor ${JSON.stringify(entry.name)} has dtype ${entry.dtype}, which tapestry cannot hold exactly ` +
          `(readable: ${SAFETENSORS_DTYPES.filter((d) => READ_AS[d] !== undefined).join(', ')}); convert it before saving`,
      );
    }
  }

  // Convert everything first and build the result last, so a failure never leaves a partial result.
  const loaded = entries.map((entry): [string, Tensor] => {
    const count = (entry.end - entry.begin) / SAFETENSORS_DTYPE_SIZE[entry.dtype];
    let values;
    try {
      values = readElements(view, dataStart + entry.begin, count, entry.dtype);
    } catch (error) {
      if (!(error instanceof ElementRangeError)) throw error;
      const reason = entry.dtype === 'BOOL' ? 'BOOL elements must be 0 or 1' : `${entry.dtype} values must fit in int32 to load`;
      throw new DTypeError(`decodeSafetensors: tensor ${JSON.stringify(entry.name)} (${entry.dtype}): ${error.message}; ${reason}`);
    }
    return [entry.name, tensor(values, { shape: entry.shape })];
  });
  // fromEntries defines own properties, so even a tensor named "__proto__" comes back as a plain entry.
  return { tensors: Object.fromEntries(loaded), metadata };
}
