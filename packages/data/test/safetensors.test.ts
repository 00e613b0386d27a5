import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, tensor, Tensor } from '@tapestry/core';
import { decodeSafetensors, encodeSafetensors } from '@tapestry/data';
import fixtures from './fixtures/safetensors-fixtures.json';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A file from a header (object or raw JSON text) and data bytes, laid out by hand for corruption tests. */
function rawFile(header: unknown, data: Uint8Array | number[] = [], declaredLength?: number): Uint8Array {
  const json = typeof header === 'string' ? utf8(header) : utf8(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const numbers = (values: (number | string)[]) => values.map((v) => (typeof v === 'string' ? Number(v) : v));

describe('encodeSafetensors writes what the Python safetensors library writes', () => {
  // Byte vectors from the safetensors library's own serialisation tests (huggingface/safetensors,
  // safetensors/src/tensor.rs: test_serialization, test_serialization_forced_alignement, test_empty).
  it('one F32 tensor whose header is already a multiple of 8 bytes', () => {
    const bytes = encodeSafetensors({ 'attn.0': tensor(new Float32Array([0, 1, 2, 3, 4, 5]), { shape: [1, 2, 3] }) });
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64);
    expect(Array.from(bytes)).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...utf8(json), ...f32Bytes([0, 1, 2, 3, 4, 5])]);
    // the data as in the library's vector: 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, ...
    expect(Array.from(bytes.subarray(72, 84))).toEqual([0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64]);
  });

  it('pads the header with spaces to a multiple of 8', () => {
    const bytes = encodeSafetensors({ attn0: tensor(new Float32Array([0, 1, 2, 3, 4, 5]), { shape: [1, 1, 2, 3] }) });
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(Array.from(bytes)).toEqual([72, 0, 0, 0, 0, 0, 0, 0, ...utf8(json), 32, 32, 32, 32, 32, 32, 32, ...f32Bytes([0, 1, 2, 3, 4, 5])]);
  });

  it('writes an empty file and metadata first', () => {
    expect(Array.from(encodeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(encodeSafetensors({}, { framework: 'pt' }))).toEqual([
      40,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...utf8('{"__metadata__":{"framework":"pt"}}'),
      32,
      32,
      32,
      32,
      32,
    ]);
  });

  it('orders tensors by dtype alignment (F64, F32, I32) then by name, and reproduces the fixture byte for byte', () => {
    const bytes = encodeSafetensors({
      b: tensor(new Int32Array([1])),
      a: tensor(new Int32Array([2])),
      '0': tensor(new Float32Array([3])),
      z: tensor(new Float64Array([4])),
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd()).toBe(
      '{"z":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"0":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
        '"a":{"dtype":"I32","shape":[1],"data_offsets":[12,16]},"b":{"dtype":"I32","shape":[1],"data_offsets":[16,20]}}',
    );
    const c = fixtures.cases.find((x) => x.name === 'float-and-int')!;
    const tensors: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(c.tensors!)) {
      const values = numbers(t.values);
      const data = t.dtype === 'float32' ? Float32Array.from(values) : t.dtype === 'float64' ? Float64Array.from(values) : Int32Array.from(values);
      tensors[name] = tensor(data, { shape: t.shape });
    }
    expect(Array.from(encodeSafetensors(tensors, c.metadata as Record<string, string>))).toEqual(Array.from(fromBase64(c.base64)));
  });

  it('rejects bad arguments', () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(/'__metadata__' is reserved/);
    expect(() => encodeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow(/tensors\["w"\] must be a Tensor, got an array/);
    expect(() => encodeSafetensors({}, { epoch: 3 as unknown as string })).toThrow(/metadata\["epoch"\] must be a string, got 3/);
    expect(() => encodeSafetensors(tensor([1]) as unknown as Record<string, Tensor>)).toThrow(ArgumentError);
  });
});

describe('round trips', () => {
  const dtype = fc.constantFrom('float32' as const, 'float64' as const, 'int32' as const);
  const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
  const anyTensor = fc.tuple(dtype, shape, fc.nat()).chain(([d, s, seed]) => {
    const size = s.reduce((a, b) => a * b, 1);
    const value = d === 'int32' ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) : d === 'float32' ? fc.float() : fc.double();
    return fc.array(value, { minLength: size, maxLength: size }).map((values) => {
      const data = d === 'int32' ? Int32Array.from(values) : d === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
      void seed;
      return tensor(data, { shape: s });
    });
  });
  const name = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('0', '10', '__proto__', 'constructor', 'émoji 🐋', 'a.b[0]'));

  it('decode(encode(x)) gives back every tensor bit for bit, and the metadata (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          name.filter((n) => n !== '__metadata__'),
          anyTensor,
          { maxKeys: 6 },
        ),
        fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }), { nil: undefined }),
        (tensors, metadata) => {
          const bytes = encodeSafetensors(tensors, metadata);
          const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(n % 8).toBe(0);
          const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
          for (const [key, info] of Object.entries(header)) {
            if (key === '__metadata__') continue;
            const {
              dtype: d,
              data_offsets: [begin],
            } = info as { dtype: string; data_offsets: [number, number] };
            // every tensor starts aligned to its element size within the file
            expect((8 + n + begin) % (d === 'F64' ? 8 : 4)).toBe(0);
          }
          const decoded = decodeSafetensors(bytes);
          expect(decoded.metadata).toEqual(metadata === undefined ? undefined : { ...metadata });
          expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
          for (const [key, t] of Object.entries(tensors)) {
            const back = decoded.tensors[key]!;
            expect(Object.prototype.hasOwnProperty.call(decoded.tensors, key)).toBe(true);
            expect(back.dtype).toBe(t.dtype);
            expect(back.shape).toEqual(t.shape);
            expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads a file lying at any offset of a larger buffer, without changing it', () => {
    const file = encodeSafetensors({ w: tensor(new Float64Array([1.5, -2.25, Math.PI])) });
    const buffer = new Uint8Array(file.length + 3);
    buffer.set(file, 3);
    const copy = buffer.slice();
    const { tensors } = decodeSafetensors(buffer.subarray(3));
    expect(Array.from(tensors.w!.dataSync())).toEqual([1.5, -2.25, Math.PI]);
    expect(buffer).toEqual(copy);
    expect(decodeSafetensors(file.buffer as ArrayBuffer).tensors.w!.shape).toEqual([3]);
  });

  it('writes and reads a 4-million-element float32 tensor quickly', () => {
    const data = new Float32Array(4_000_000).map((_, i) => Math.sin(i));
    const t0 = performance.now();
    const bytes = encodeSafetensors({ big: tensor(data, { shape: [2000, 2000] }) });
    const t1 = performance.now();
    const back = decodeSafetensors(bytes).tensors.big!;
    const t2 = performance.now();
    expect(back.shape).toEqual([2000, 2000]);
    const values = back.dataSync();
    let mismatches = 0;
    for (let i = 0; i < data.length; i++) if (values[i] !== data[i]) mismatches++;
    expect(mismatches).toBe(0);
    // Loose bounds (CI has 2 cores); typical figures are printed for the record.
    console.log(`safetensors 16 MB: encode ${(t1 - t0).toFixed(0)} ms, decode ${(t2 - t1).toFixed(0)} ms`);
    expect(t2 - t0).toBeLessThan(5000);
  });
});

describe('files written with PyTorch values (fixtures)', () => {
  for (const c of fixtures.cases) {
    it(c.name, () => {
      const bytes = fromBase64(c.base64);
      if ('error' in c && c.error !== undefined) {
        expect(() => decodeSafetensors(bytes)).toThrow(DTypeError);
        expect(() => decodeSafetensors(bytes)).toThrow(new RegExp(`tensor "${c.error}" \\((I64|U32)\\): element \\d+ = \\d+; \\w+ values must fit in int32`));
        return;
      }
      const { tensors, metadata } = decodeSafetensors(bytes);
      expect(metadata).toEqual(c.metadata ?? undefined);
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(c.tensors!).sort());
      for (const [name, t] of Object.entries(c.tensors!)) {
        expect(tensors[name]!.dtype, name).toBe(t.dtype);
        expect(tensors[name]!.shape, name).toEqual(t.shape);
        // toEqual distinguishes -0 from 0 and matches NaN with NaN
        expect(Array.from(tensors[name]!.dataSync()), name).toEqual(numbers(t.values));
      }
    });
  }

  it('F16: all 65536 bit patterns decode monotonically between the documented landmarks', () => {
    const bits = new Uint8Array(65536 * 2);
    const view = new DataView(bits.buffer);
    for (let h = 0; h < 65536; h++) view.setUint16(2 * h, h, true);
    const values = decodeSafetensors(rawFile({ h: { dtype: 'F16', shape: [65536], data_offsets: [0, bits.length] } }, bits)).tensors.h!.dataSync();
    expect(values[0x0001]).toBe(2 ** -24);
    expect(values[0x0400]).toBe(2 ** -14);
    expect(values[0x3c00]).toBe(1);
    expect(values[0x3555]).toBe(0.333251953125);
    expect(values[0x7bff]).toBe(65504);
    expect(values[0x7c00]).toBe(Infinity);
    expect(values[0xfc00]).toBe(-Infinity);
    expect(Object.is(values[0x8000], -0)).toBe(true);
    const wrong: number[] = [];
    for (let h = 1; h < 0x7c00; h++) if (!(values[h]! > values[h - 1]!) || values[h | 0x8000] !== -values[h]!) wrong.push(h);
    for (let h = 0x7c01; h < 0x8000; h++) if (!Number.isNaN(values[h]) || !Number.isNaN(values[h | 0x8000])) wrong.push(h);
    expect(wrong).toEqual([]);
  });
});

describe('corrupt or truncated files are rejected with a clear error', () => {
  const valid = encodeSafetensors({ a: tensor(new Float32Array([1, 2])), b: tensor(new Int32Array([3])) }, { k: 'v' });
  const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', new Uint8Array(5), /has 5 bytes, fewer than the 8-byte header length/],
    ['header length past the end', rawFile({}, [], 100), /header length 100 runs past the end of the input \(10 bytes\)/],
    [
      'absurd header length',
      (() => {
        const f = rawFile({});
        new DataView(f.buffer).setBigUint64(0, 2n ** 63n, true);
        return f;
      })(),
      /exceeds the format's limit/,
    ],
    ['header not UTF-8', rawFile('{"a":1}').map((b, i) => (i === 9 ? 0xff : b)), /not valid UTF-8/],
    ['header not JSON', rawFile('{"a":'), /not valid JSON/],
    ['header an array', rawFile('[]'), /header must be a JSON object, got an array/],
    ['unknown dtype', rawFile({ w: entry('F128', [1], [0, 16]) }, new Uint8Array(16)), /tensor "w": unknown dtype "F128"/],
    ['bad shape', rawFile({ w: entry('F32', [-1], [0, 4]) }, new Uint8Array(4)), /tensor "w": shape must be an array of non-negative integers, got \[-1\]/],
    ['bad offsets', rawFile({ w: entry('F32', [1], [4, 0]) }, new Uint8Array(4)), /data_offsets must be \[begin, end\] with 0 ≤ begin ≤ end, got \[4,0\]/],
    ['size not dtype × shape', rawFile({ w: entry('F32', [3], [0, 8]) }, new Uint8Array(8)), /span 8 bytes but F32 \[3\] needs 12 \(3 elements × 4 bytes\)/],
    ['overlap', rawFile({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }, new Uint8Array(8)), /tensor "b" \[4, 8\) overlaps tensor "a" \[0, 8\)/],
    [
      'gap',
      rawFile({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }, new Uint8Array(12)),
      /bytes \[4, 8\) of the data are not covered by any tensor/,
    ],
    [
      'out of range',
      rawFile({ a: entry('F32', [2], [0, 8]) }, new Uint8Array(4)),
      /tensor "a" \[0, 8\) runs past the end of the data \(4 bytes\): the file is truncated/,
    ],
    ['trailing bytes', rawFile({ a: entry('F32', [1], [0, 4]) }, new Uint8Array(6)), /the data has 6 bytes but the tensors cover 4/],
    ['bad metadata', rawFile({ __metadata__: { epoch: 3 } }), /__metadata__ must be an object of strings, got \{"epoch":3\}/],
    ['truncated valid file', valid.subarray(0, valid.length - 1), /tensors cover 12|runs past the end of the data/],
  ];
  it.each(cases)('%s', (_, bytes, message) => {
    expect(() => decodeSafetensors(bytes)).toThrow(ArgumentError);
    expect(() => decodeSafetensors(bytes)).toThrow(message);
  });

  it('refuses dtypes it cannot hold, naming the tensor', () => {
    const file = rawFile({ q: entry('F8_E4M3', [2], [0, 2]) }, new Uint8Array(2));
    expect(() => decodeSafetensors(file)).toThrow(DTypeError);
    expect(() => decodeSafetensors(file)).toThrow(/tensor "q" has dtype F8_E4M3, which tapestry cannot hold exactly/);
    expect(() => decodeSafetensors(rawFile({ m: entry('BOOL', [2], [0, 2]) }, [1, 2]))).toThrow(
      /tensor "m" \(BOOL\): element 1 = byte 2; BOOL elements must be 0 or 1/,
    );
  });

  it('accepts a null __metadata__ and unknown extra fields, as the reference reader does', () => {
    const file = rawFile({ __metadata__: null, w: { ...entry('F32', [1], [0, 4]), extra: true } }, f32Bytes([7]));
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toBeUndefined();
    expect(tensors.w!.toArray()).toEqual([7]);
  });

  it('every truncation of a valid file throws an ArgumentError (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (n) => {
        expect(() => decodeSafetensors(valid.slice(0, n))).toThrow(ArgumentError);
      }),
    );
  });

  it("a corrupted byte either still decodes or throws one of tapestry's errors, never anything else (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bytes = valid.slice();
        bytes[at] = value;
        try {
          decodeSafetensors(bytes);
        } catch (error) {
          expect(error instanceof ArgumentError || error instanceof DTypeError, String(error)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
