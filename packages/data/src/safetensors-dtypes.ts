import type { DType, TensorData } from '@tapestry/core';

// The safetensors element types and how each becomes a tapestry dtype on reading. tapestry holds
// float32, float64 and int32; narrower types widen exactly (F16 and BF16 values are all float32
// values; every 8- and 16-bit integer is an int32), and 64-bit or unsigned 32-bit integers are read only
// when every value fits in int32. The 8-bit float formats have no exact meaning we could check, so they
// are refused.

/** Every element type the safetensors format defines, in the reference library's (alignment) order. */
export const SAFETENSORS_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;

/** A safetensors element type name, as written in a file's header. */
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The tapestry dtype each readable safetensors dtype is read as (absent: refused). */
export const READ_AS: Readonly<Partial<Record<SafetensorsDType, DType>>> = {
  BOOL: 'int32',
  U8: 'int32',
  I8: 'int32',
  I16: 'int32',
  U16: 'int32',
  U32: 'int32',
  I32: 'int32',
  I64: 'int32',
  U64: 'int32',
  F16: 'float32',
  BF16: 'float32',
  F32: 'float32',
  F64: 'float64',
};

/** The safetensors dtype each tapestry dtype is written as. */
export const WRITE_AS: Readonly<Record<DType, SafetensorsDType>> = { float32: 'F32', float64: 'F64', int32: 'I32' };

/** Whether `value` is a dtype name the format defines. */
export function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(value);
}

/** IEEE 754 binary16 bits to the number they encode (exact). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** bfloat16 bits to the number they encode: bfloat16 is the top half of a float32. */
function bfloat16ToNumber(bits: number, scratch: DataView): number {
  scratch.setUint32(0, bits << 16, true);
  return scratch.getFloat32(0, true);
}

/** Thrown by {@link readElements} when a stored integer does not fit in int32 or a BOOL byte is not 0/1. */
export class ElementRangeError extends Error {
  /** The element's index in the tensor. */
  readonly index: number;
  /** The offending value, as text (64-bit values may not fit a number). */
  readonly value: string;
  constructor(index: number, value: string) {
    super(`element ${index} = ${value}`);
    this.index = index;
    this.value = value;
  }
}

/**
 * Reads `count` little-endian elements of `dtype` starting at `byteOffset` of `view` into new storage of
 * the dtype given by {@link READ_AS}. Reads go through DataView with explicit byte order, so the result
 * is right on big-endian hosts too.
 */
export function readElements(view: DataView, byteOffset: number, count: number, dtype: SafetensorsDType): TensorData {
  const size = SAFETENSORS_DTYPE_SIZE[dtype];
  const at = (i: number): number => byteOffset + i * size;
  const int32 = (read: (i: number) => number | bigint): Int32Array => {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = read(i);
      if (v < -0x80000000 || v > 0x7fffffff) throw new ElementRangeError(i, String(v));
      out[i] = Number(v);
    }
    return out;
  };
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at(i), true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at(i), true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(at(i), true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) out[i] = bfloat16ToNumber(view.getUint16(at(i), true), scratch);
      return out;
    }
    case 'I32':
      return int32((i) => view.getInt32(at(i), true));
    case 'U32':
      return int32((i) => view.getUint32(at(i), true));
    case 'I64':
      return int32((i) => view.getBigInt64(at(i), true));
    case 'U64':
      return int32((i) => view.getBigUint64(at(i), true));
    case 'I16':
      return int32((i) => view.getInt16(at(i), true));
    case 'U16':
      return int32((i) => view.getUint16(at(i), true));
    case 'I8':
      return int32((i) => view.getInt8(at(i)));
    case 'U8':
      return int32((i) => view.getUint8(at(i)));
    case 'BOOL':
      return int32((i) => {
        const b = view.getUint8(at(i));
        if (b > 1) throw new ElementRangeError(i, `byte ${b}`);
        return b;
      });
    default:
      // Callers check READ_AS first; reaching here is a bug in this module.
      throw new Error(`internal: readElements has no reader for ${dtype}`);
  }
}

/** Writes the elements of `data` little-endian into `out` at `byteOffset` (for any host byte order). */
export function writeElements(data: TensorData, out: DataView, byteOffset: number): void {
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) out.setFloat32(byteOffset + 4 * i, data[i]!, true);
  else if (data instanceof Float64Array) for (let i = 0; i < data.length; i++) out.setFloat64(byteOffset + 8 * i, data[i]!, true);
  else for (let i = 0; i < data.length; i++) out.setInt32(byteOffset + 4 * i, data[i]!, true);
}
