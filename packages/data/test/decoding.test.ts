import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add, ArgumentError, randomKey, ShapeError, tensor, Tensor } from '@tapestry/core';
import { beamSearch, generate, reorderState, type DecodeStep } from '@tapestry/data';

// A hand-made bigram "model": next-token probabilities depend only on the last token.
const BOS = 0;
const A = 1;
const B = 2;
const EOS = 3;
const TABLE = [
  [0, 0.6, 0.4, 0], // after BOS: A is likelier …
  [0, 0.3, 0.3, 0.4], // after A: ending is only 0.4
  [0, 0.05, 0.05, 0.9], // after B: ending is 0.9, so B EOS (0.36) beats A EOS (0.24)
  [0.25, 0.25, 0.25, 0.25],
];

/** A stateless step reading the last token; logits are log-probabilities in float64. */
function tableStep(table: number[][]): DecodeStep<null> {
  return (tokens, state) => {
    const rows = Array.from(tokens.dataSync(), (t) => table[t]!.map(Math.log));
    return { logits: tensor(rows, { dtype: 'float64' }), state };
  };
}

/** The same model carrying a state (the running sum of the prefix) along axis 1, checked at every step. */
function statefulStep(table: number[][]): DecodeStep<{ sum: Tensor }> {
  return (tokens, state, prefix) => {
    const batch = tokens.shape[0]!;
    expect(state.sum.shape).toEqual([1, batch]);
    const rows = prefix.toArray() as number[][];
    // reorderState must have kept each hypothesis's state with its prefix
    expect(Array.from(state.sum.dataSync())).toEqual(rows.map((r) => r.slice(0, -1).reduce((a, b) => a + b, 0)));
    const next = add(state.sum, tensor(Int32Array.from(tokens.dataSync()), { shape: [1, batch] }));
    return { logits: tableStep(table)(tokens, null, prefix).logits, state: { sum: next } };
  };
}

/** Every complete sequence (ending with EOS within maxLength, or cut at maxLength) with its log-probability. */
function enumerate(table: number[][], maxLength: number): { tokens: number[]; score: number; finished: boolean }[] {
  const out: { tokens: number[]; score: number; finished: boolean }[] = [];
  const walk = (tokens: number[], last: number, score: number) => {
    for (let v = 0; v < table.length; v++) {
      const p = table[last]![v]!;
      if (p === 0) continue;
      const next = [...tokens, v];
      const s = score + Math.log(p);
      if (v === EOS) out.push({ tokens: next, score: s, finished: true });
      else if (next.length === maxLength) out.push({ tokens: next, score: s, finished: false });
      else walk(next, v, s);
    }
  };
  walk([], BOS, 0);
  return out;
}

describe('beamSearch', () => {
  it('finds the most probable sequence where greedy decoding does not', () => {
    const greedy = beamSearch({ step: tableStep(TABLE), initialState: null, startToken: BOS, endToken: EOS, beamWidth: 1, maxLength: 5 });
    expect(Array.from(greedy[0]!.tokens)).toEqual([A, EOS]);
    const [best, second] = beamSearch({ step: tableStep(TABLE), initialState: null, startToken: BOS, endToken: EOS, beamWidth: 2, maxLength: 5 });
    expect(Array.from(best!.tokens)).toEqual([B, EOS]);
    expect(best!.score).toBeCloseTo(Math.log(0.36), 12);
    expect(best!.finished).toBe(true);
    expect(Array.from(second!.tokens)).toEqual([A, EOS]);
    expect(second!.score).toBeCloseTo(Math.log(0.24), 12);
  });

  it('reorders a state tree with gather along stateAxis so each hypothesis keeps its own state', () => {
    const results = beamSearch({
      step: statefulStep(TABLE),
      initialState: { sum: tensor(new Int32Array([0]), { shape: [1, 1] }) },
      startToken: BOS,
      endToken: EOS,
      beamWidth: 3,
      maxLength: 4,
      stateAxis: 1,
    });
    expect(Array.from(results[0]!.tokens)).toEqual([B, EOS]);
  });

  it('is exhaustive when the beam holds every prefix, with or without a length penalty (property)', () => {
    const row = fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }).map((r) => {
      const s = r.reduce((a, b) => a + b, 0);
      return r.map((x) => x / s);
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 0.6, 1), (table, maxLength, alpha) => {
        const all = enumerate(table, maxLength).map((h) => ({ ...h, rank: h.score / h.tokens.length ** alpha }));
        all.sort((x, y) => y.rank - x.rank);
        const results = beamSearch({
          step: tableStep(table),
          initialState: null,
          startToken: BOS,
          endToken: EOS,
          beamWidth: 4 ** maxLength,
          maxLength,
          lengthPenalty: alpha,
        });
        expect(results.length).toBe(all.length);
        results.forEach((h, i) => {
          expect(h.normalizedScore).toBeCloseTo(all[i]!.rank, 9);
          expect(h.normalizedScore).toBeCloseTo(h.score / h.tokens.length ** alpha, 12);
        });
        // the best sequence itself, unless a near-tie makes rounding decide
        if (all.length === 1 || all[0]!.rank - all[1]!.rank > 1e-9) {
          expect(Array.from(results[0]!.tokens)).toEqual(all[0]!.tokens);
          expect(results[0]!.finished).toBe(all[0]!.finished);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('returns consistent, sorted hypotheses for narrow beams (property)', () => {
    const row = fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }).map((r) => {
      const s = r.reduce((a, b) => a + b, 0);
      return r.map((x) => x / s);
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), (table, width, maxLength) => {
        const results = beamSearch({ step: tableStep(table), initialState: null, startToken: BOS, endToken: EOS, beamWidth: width, maxLength });
        expect(results.length).toBeGreaterThan(0);
        expect(results.length).toBeLessThanOrEqual(width);
        let previous = Infinity;
        for (const h of results) {
          expect(h.normalizedScore).toBeLessThanOrEqual(previous);
          previous = h.normalizedScore;
          // the score is the sequence's log-probability under the table
          let last = BOS;
          let score = 0;
          for (const t of h.tokens) {
            score += Math.log(table[last]![t]!);
            last = t;
          }
          expect(h.score).toBeCloseTo(score, 9);
          expect(h.finished).toBe(h.tokens[h.tokens.length - 1] === EOS);
          expect(h.tokens.length).toBeLessThanOrEqual(maxLength);
          if (!h.finished) expect(h.tokens.length).toBe(maxLength);
        }
        // (no comparison with greedy: a wider beam can drop the greedy prefix and end up worse)
      }),
      { numRuns: 150 },
    );
  });

  it('rejects bad options and bad step outputs', () => {
    const base = { step: tableStep(TABLE), initialState: null, startToken: BOS, endToken: EOS, beamWidth: 2, maxLength: 3 };
    expect(() => beamSearch({ ...base, beamWidth: 0 })).toThrow(/options.beamWidth must be an integer ≥ 1/);
    expect(() => beamSearch({ ...base, lengthPenalty: -1 })).toThrow(/lengthPenalty must be a finite number ≥ 0/);
    expect(() => beamSearch({ ...base, startToken: -1 })).toThrow(ArgumentError);
    const wrong: DecodeStep<null> = () => ({
      logits: tensor([
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ]),
      state: null,
    });
    expect(() => beamSearch({ ...base, step: wrong })).toThrow(/step returned logits of shape \[2, 4\]; expected \[1, V\] for 1 sequence/);
  });
});

describe('reorderState', () => {
  it('gathers every tensor leaf along the axis and keeps other leaves', () => {
    const state = { h: tensor([[1], [2]]), step: 7 };
    const out = reorderState(state, [1, 1, 0]);
    expect(out.h.toArray()).toEqual([[2], [2], [1]]);
    expect(out.step).toBe(7);
    expect(state.h.toArray()).toEqual([[1], [2]]);
    // a layer's hidden state [numLayers, B, H] has the hypotheses on axis 1
    expect(
      reorderState(
        [
          tensor([
            [
              [1, 2],
              [3, 4],
            ],
          ]),
        ],
        [1, 0],
        1,
      )[0]!.toArray(),
    ).toEqual([
      [
        [3, 4],
        [1, 2],
      ],
    ]);
    expect(() => reorderState({ x: tensor(1) }, [0])).toThrow(ShapeError);
  });
});

describe('generate', () => {
  it('greedy generation follows the argmax path and stops after the end token', () => {
    const ids = generate({
      step: tableStep(TABLE),
      initialState: null,
      prompt: [BOS],
      maxLength: 10,
      endToken: EOS,
      key: randomKey(0),
      sampling: { greedy: true },
    });
    expect(Array.from(ids)).toEqual([A, EOS]);
  });

  it('feeds the whole prompt first and respects maxLength', () => {
    const seen: number[][] = [];
    const step: DecodeStep<null> = (tokens, state, prefix) => {
      seen.push((prefix.toArray() as number[][])[0]!);
      return tableStep(TABLE)(tokens, state, prefix);
    };
    const ids = generate({ step, initialState: null, prompt: [BOS, B], maxLength: 3, key: randomKey(1), sampling: { greedy: true } });
    expect(Array.from(ids)).toEqual([EOS, BOS, A]);
    expect(seen).toEqual([[BOS], [BOS, B], [BOS, B, EOS], [BOS, B, EOS, BOS]]);
  });

  it("samples reproducibly from the key, with the model's frequencies", () => {
    const opts = { step: tableStep(TABLE), initialState: null, prompt: [BOS], maxLength: 1 };
    expect(Array.from(generate({ ...opts, maxLength: 20, key: randomKey(3) }))).toEqual(Array.from(generate({ ...opts, maxLength: 20, key: randomKey(3) })));
    let countA = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) if (generate({ ...opts, key: randomKey(i) })[0] === A) countA++;
    // P(A) = 0.6; sd of the frequency ≈ 0.0077
    expect(Math.abs(countA / n - 0.6)).toBeLessThan(4 * 0.0077);
  });

  it('rejects an empty prompt', () => {
    expect(() => generate({ step: tableStep(TABLE), initialState: null, prompt: [], maxLength: 3, key: randomKey(0) })).toThrow(
      /prompt must be a non-empty array/,
    );
  });
});
