import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editDistance, errorRates } from '../src/edit-distance.js';

const seq = fc.array(fc.constantFrom('AA', 'B', 'K', 'S', 'T'), { maxLength: 9 });

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance([...'kitten'], [...'sitting'])).toBe(3);
    expect(editDistance([...'flaw'], [...'lawn'])).toBe(2);
    expect(editDistance(['K', 'AE', 'T'], ['K', 'AE', 'T'])).toBe(0);
    expect(editDistance([], ['K', 'AE', 'T'])).toBe(3);
    expect(editDistance(['K', 'AE', 'T'], [])).toBe(3);
    expect(editDistance(['HH', 'AH', 'L', 'OW'], ['HH', 'EH', 'L', 'OW', 'W'])).toBe(2);
  });

  it('is a metric bounded by the lengths', () => {
    fc.assert(
      fc.property(seq, seq, seq, (a, b, c) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(d === 0).toBe(a.join() === b.join());
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(editDistance(a, c)).toBeLessThanOrEqual(d + editDistance(b, c));
      }),
    );
  });

  it('agrees with a brute-force recursion on short sequences', () => {
    const slow = (a: readonly string[], b: readonly string[]): number =>
      a.length === 0
        ? b.length
        : b.length === 0
          ? a.length
          : Math.min(slow(a.slice(1), b) + 1, slow(a, b.slice(1)) + 1, slow(a.slice(1), b.slice(1)) + (a[0] === b[0] ? 0 : 1));
    const short = fc.array(fc.constantFrom('AA', 'B', 'K'), { maxLength: 5 });
    fc.assert(
      fc.property(short, short, (a, b) => {
        expect(editDistance(a, b)).toBe(slow(a, b));
      }),
    );
  });
});

describe('errorRates', () => {
  it('is total edits over total reference phonemes, and exact-match word accuracy', () => {
    const refs = [['K', 'AE', 'T'], ['D', 'AO', 'G', 'Z'], ['AH']];
    const hyps = [
      ['K', 'AE', 'T'],
      ['D', 'AA', 'G'],
      ['AH', 'AH'],
    ];
    const r = errorRates(refs, hyps);
    expect(r.per).toBeCloseTo((0 + 2 + 1) / (3 + 4 + 1), 12); // corpus-level, not the mean of per-word rates
    expect(r.wordAccuracy).toBeCloseTo(1 / 3, 12);
    expect(r.words).toBe(3);
  });

  it('counts an empty prediction as deleting every phoneme, and rejects mismatched lists', () => {
    expect(errorRates([['K', 'AE', 'T']], [[]]).per).toBe(1);
    expect(() => errorRates([['K']], [])).toThrow(/1 references but 0 hypotheses/);
  });
});
