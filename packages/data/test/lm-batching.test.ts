import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, reshape, ShapeError, tensor, transpose } from '@tapestry/core';
import { batchify, bpttWindows, countBpttWindows, getBatch, splitByPosition, Vocabulary } from '@tapestry/data';
import fixture from './fixtures/lm-batching-fixture.json';

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('batchify', () => {
  it('lays out N contiguous streams batch-first and drops the remainder (PyTorch batchify, transposed)', () => {
    // PyTorch: torch.arange(26).narrow(0, 0, 24).view(4, -1).t() is [6, 4] with column b = 6b … 6b+5.
    const source = batchify(range(26), 4);
    expect(source.dtype).toBe('int32');
    expect(source.shape).toEqual([4, 6]);
    expect(source.toArray()).toEqual([
      [0, 1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10, 11],
      [12, 13, 14, 15, 16, 17],
      [18, 19, 20, 21, 22, 23],
    ]);
  });

  it('accepts number arrays and 1-D int32 tensors, and never touches the input', () => {
    const ids = [5, 6, 7, 8];
    expect(batchify(ids, 2).toArray()).toEqual([
      [5, 6],
      [7, 8],
    ]);
    expect(batchify(tensor(new Int32Array(ids)), 1).toArray()).toEqual([[5, 6, 7, 8]]);
    expect(ids).toEqual([5, 6, 7, 8]);
  });

  it('rejects bad input', () => {
    expect(() => batchify(range(3), 4)).toThrow(/3 ids cannot fill 4 streams/);
    expect(() => batchify(range(3), 0)).toThrow(/batchSize must be an integer ≥ 1, got 0/);
    expect(() => batchify(tensor([1, 2]), 1)).toThrow(DTypeError);
    expect(() => batchify([1.5], 1)).toThrow(/ids\[0\] = 1.5 is not an int32 integer/);
  });
});

describe('getBatch', () => {
  const source = batchify(range(20), 2); // [[0..9], [10..19]]

  it('returns inputs and next-step targets of length min(seqLen, T - 1 - i)', () => {
    const a = getBatch(source, 0, 4);
    expect(a.inputs.toArray()).toEqual([
      [0, 1, 2, 3],
      [10, 11, 12, 13],
    ]);
    expect(a.targets.toArray()).toEqual([
      [1, 2, 3, 4],
      [11, 12, 13, 14],
    ]);
    const last = getBatch(source, 8, 4);
    expect(last.inputs.toArray()).toEqual([[8], [18]]);
    expect(last.targets.toArray()).toEqual([[9], [19]]);
    expect(last.targets.dtype).toBe('int32');
  });

  it('rejects starts without a target and sources that are not [N, T] int32', () => {
    expect(() => getBatch(source, 9, 4)).toThrow(/i must be an integer in \[0, 8\] for a source of 10 steps/);
    expect(() => getBatch(source, -1, 4)).toThrow(ArgumentError);
    expect(() => getBatch(tensor(range(4)), 0, 2)).toThrow(ShapeError);
    expect(() => getBatch(source, 0, 0)).toThrow(/seqLen must be an integer ≥ 1/);
  });
});

describe('bpttWindows', () => {
  it('visits every step of every stream exactly once per epoch, in order, targets shifted by one (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 40 }), (length, batchSize, seqLen) => {
        fc.pre(Math.floor(length / batchSize) >= 1);
        const source = batchify(range(length), batchSize);
        const steps = source.shape[1]!;
        const inputs: number[][] = Array.from({ length: batchSize }, () => []);
        const targets: number[][] = Array.from({ length: batchSize }, () => []);
        let count = 0;
        let expectedStart = 0;
        for (const w of bpttWindows(source, seqLen)) {
          expect(w.start).toBe(expectedStart);
          expect(w.inputs.shape).toEqual(w.targets.shape);
          expect(w.inputs.shape[1]).toBe(Math.min(seqLen, steps - 1 - w.start));
          (w.inputs.toArray() as number[][]).forEach((row, b) => inputs[b]!.push(...row));
          (w.targets.toArray() as number[][]).forEach((row, b) => targets[b]!.push(...row));
          expectedStart += seqLen;
          count++;
        }
        expect(count).toBe(countBpttWindows(steps, seqLen));
        for (let b = 0; b < batchSize; b++) {
          // Stream b is ids [b·T, (b+1)·T): inputs cover its first T−1 steps, targets its last T−1.
          const stream = Array.from({ length: steps }, (_, t) => b * steps + t);
          expect(inputs[b]).toEqual(stream.slice(0, -1));
          expect(targets[b]).toEqual(stream.slice(1));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('every character of a text is a target exactly once per epoch, after its predecessor as input', () => {
    const text = 'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money';
    const vocab = Vocabulary.fromCharacters(text);
    const source = batchify(vocab.encode(text), 3);
    const steps = source.shape[1]!;
    const seen: string[] = ['', '', ''];
    for (const { inputs, targets } of bpttWindows(source, 8)) {
      const x = inputs.toArray() as number[][];
      const y = targets.toArray() as number[][];
      for (let b = 0; b < 3; b++) {
        seen[b] += vocab.decode(y[b]!);
        // the input at step t is the target of step t − 1 within the window
        expect(x[b]!.slice(1)).toEqual(y[b]!.slice(0, -1));
      }
    }
    const chars = [...text];
    for (let b = 0; b < 3; b++) expect(seen[b]).toBe(chars.slice(b * steps + 1, (b + 1) * steps).join(''));
  });

  it('checks its arguments when called, not when iterated', () => {
    expect(() => bpttWindows(tensor([[1, 2]]), 2)).toThrow(DTypeError);
    expect(() => bpttWindows(batchify(range(4), 1), 0)).toThrow(ArgumentError);
    expect([...bpttWindows(batchify(range(4), 4), 3)]).toEqual([]); // T = 1: no window has a target
  });
});

describe('splitByPosition', () => {
  it('splits 90/5/5 by default at floor boundaries, the last part taking the rest', () => {
    const [train, valid, test] = splitByPosition(range(1001));
    expect([train!.length, valid!.length, test!.length]).toEqual([900, 50, 51]);
    expect(train![899]).toBe(899);
    expect(valid![0]).toBe(900);
    expect(test![50]).toBe(1000);
  });

  it('works on strings and arrays and keeps every element once, in order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 50 }), (weights, text) => {
        const total = weights.reduce((a, b) => a + b, 0);
        const fractions = weights.map((w) => w / total);
        const parts = splitByPosition(text, fractions);
        expect(parts.length).toBe(weights.length);
        expect(parts.join('')).toBe(text);
        let cumulative = 0;
        parts.slice(0, -1).forEach((part, k) => {
          cumulative += fractions[k]!;
          expect(part.length).toBeLessThanOrEqual(Math.ceil(fractions[k]! * text.length) + 1);
          expect(parts.slice(0, k + 1).join('').length).toBe(Math.min(text.length, Math.floor(cumulative * text.length)));
        });
      }),
    );
  });

  it('rejects fractions that are not positive or do not sum to 1', () => {
    expect(() => splitByPosition([1, 2, 3], [0.5, 0.6])).toThrow(/fractions must sum to 1/);
    expect(() => splitByPosition([1, 2, 3], [1.5, -0.5])).toThrow(/fractions\[1\] must be a positive number/);
    expect(() => splitByPosition([1, 2, 3], [])).toThrow(ArgumentError);
  });
});

describe('parity with PyTorch examples/word_language_model', () => {
  it.each(fixture.cases.map((c) => [`${c.ids.length} ids, batch ${c.batchSize}, bptt ${c.bptt}`, c] as const))('%s', (_, c) => {
    const source = batchify(c.ids, c.batchSize);
    // PyTorch's source is [T, N]; ours is its transpose.
    expect(transpose(source).toArray()).toEqual(c.source);
    const windows = [...bpttWindows(source, c.bptt)];
    expect(windows.map((w) => w.start)).toEqual(c.windows.map((w) => w.i));
    windows.forEach((w, k) => {
      expect(transpose(w.inputs).toArray()).toEqual(c.windows[k]!.data);
      // PyTorch flattens the time-major targets: flatten the transpose of ours.
      expect(reshape(transpose(w.targets), [-1]).toArray()).toEqual(c.windows[k]!.target);
    });
  });
});
