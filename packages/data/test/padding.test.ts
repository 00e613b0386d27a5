import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, foldIn, randomKey } from '@tapestry/core';
import { batchIndices, classificationBatches, padSequences, permutation } from '@tapestry/data';

describe('padSequences', () => {
  it('pads at the end to the longest length and reports lengths', () => {
    const { ids, lengths } = padSequences([[5, 6, 7], [8], []], { padId: 0 });
    expect(ids.dtype).toBe('int32');
    expect(ids.toArray()).toEqual([
      [5, 6, 7],
      [8, 0, 0],
      [0, 0, 0],
    ]);
    expect(Array.from(lengths)).toEqual([3, 1, 0]);
  });

  it('truncates to maxLength from the end (post) or the start (pre)', () => {
    const seqs = [new Int32Array([1, 2, 3, 4]), new Int32Array([5])];
    expect(padSequences(seqs, { padId: 9, maxLength: 2 }).ids.toArray()).toEqual([
      [1, 2],
      [5, 9],
    ]);
    const pre = padSequences(seqs, { padId: 9, maxLength: 3, truncate: 'pre' });
    expect(pre.ids.toArray()).toEqual([
      [2, 3, 4],
      [5, 9, 9],
    ]);
    expect(Array.from(pre.lengths)).toEqual([3, 1]);
    expect(Array.from(seqs[0]!)).toEqual([1, 2, 3, 4]);
  });

  it('puts every id at its place and padding exactly after each length (property)', () => {
    const seq = fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(seq, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 5 }),
        fc.option(fc.integer({ min: 1, max: 15 }), { nil: undefined }),
        fc.constantFrom('pre' as const, 'post' as const),
        (seqs, padId, maxLength, truncate) => {
          const { ids, lengths } = padSequences(seqs, { padId, maxLength, truncate });
          const steps = maxLength ?? Math.max(...seqs.map((s) => s.length));
          expect(ids.shape).toEqual([seqs.length, steps]);
          const rows = ids.toArray() as number[][];
          seqs.forEach((s, n) => {
            const length = Math.min(s.length, steps);
            expect(lengths[n]).toBe(length);
            const kept = truncate === 'pre' ? s.slice(s.length - length) : s.slice(0, length);
            expect(rows[n]!.slice(0, length)).toEqual(kept);
            expect(rows[n]!.slice(length)).toEqual(new Array(steps - length).fill(padId));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects bad ids and options', () => {
    expect(() => padSequences([[1, -2]], { padId: 0 })).toThrow(/seqs\[0\]\[1\] = -2 is not a non-negative int32 id/);
    expect(() => padSequences([[1]], { padId: -1 })).toThrow(/options.padId must be a non-negative int32 id/);
    expect(() => padSequences([[1]], { padId: 0, maxLength: 0 })).toThrow(/options.maxLength must be an integer ≥ 1/);
    expect(() => padSequences([[1]], { padId: 0, truncate: 'middle' as 'pre' })).toThrow(ArgumentError);
    expect(() => padSequences(['ab' as unknown as number[]], { padId: 0 })).toThrow(/seqs\[0\] must be a number array or an Int32Array/);
  });
});

describe('permutation and batchIndices', () => {
  it('is a permutation, reproducible from the key, different for other keys (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.nat(), (n, seed) => {
        const p = permutation(randomKey(seed), n);
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(Array.from(permutation(randomKey(seed), n))).toEqual(Array.from(p));
      }),
      { numRuns: 100 },
    );
    expect(Array.from(permutation(randomKey(1), 50))).not.toEqual(Array.from(permutation(randomKey(2), 50)));
  });

  it('puts each element in each position about equally often', () => {
    // 4000 permutations of 4: each of the 16 (element, position) cells expects 1000 (sd ≈ 27).
    const counts = new Array(16).fill(0);
    const key = randomKey(123);
    for (let r = 0; r < 4000; r++) permutation(foldIn(key, r), 4).forEach((v, pos) => counts[v * 4 + pos]++);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(5 * 27);
  });

  it('splits indices into batches, in order without a key, shuffled with one', () => {
    expect(batchIndices(5, 2).map((b) => Array.from(b))).toEqual([[0, 1], [2, 3], [4]]);
    expect(batchIndices(5, 2, { dropLast: true }).map((b) => Array.from(b))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const shuffled = batchIndices(10, 3, { key: randomKey(5) });
    expect(shuffled.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(shuffled.flatMap((b) => Array.from(b)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => batchIndices(5, 0)).toThrow(/batchSize must be an integer ≥ 1/);
  });
});

describe('classificationBatches', () => {
  it('pads each shuffled batch and carries its labels and indices', () => {
    const seqs = [[1], [2, 2], [3, 3, 3], [4, 4, 4, 4], [5, 5, 5, 5, 5]];
    const labels = [0, 1, 0, 1, 0];
    const batches = classificationBatches(seqs, labels, { batchSize: 2, padId: 0, key: randomKey(3) });
    expect(batches.map((b) => b.indices.length)).toEqual([2, 2, 1]);
    for (const { ids, lengths, labels: y, indices } of batches) {
      expect(y.dtype).toBe('int32');
      expect(y.toArray()).toEqual(Array.from(indices, (i) => labels[i]));
      expect(Array.from(lengths)).toEqual(Array.from(indices, (i) => seqs[i]!.length));
      expect(ids.shape).toEqual([indices.length, Math.max(...lengths)]);
      (ids.toArray() as number[][]).forEach((row, r) => expect(row.slice(0, lengths[r])).toEqual(seqs[indices[r]!]));
    }
    expect(() => classificationBatches(seqs, [0], { batchSize: 2, padId: 0 })).toThrow(/5 sequences but 1 labels/);
  });
});
