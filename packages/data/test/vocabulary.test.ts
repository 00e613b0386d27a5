import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, tensor } from '@tapestry/core';
import { tokenizeWords, Vocabulary } from '@tapestry/data';

describe('Vocabulary.fromCharacters', () => {
  it('orders characters by code point like Python sorted(set(text)) and puts unk last', () => {
    const vocab = Vocabulary.fromCharacters('hello');
    expect(vocab.tokens).toEqual(['e', 'h', 'l', 'o', '\uFFFD']);
    expect(vocab.unkId).toBe(4);
    expect(vocab.padId).toBeUndefined();
    expect(Array.from(vocab.encode('hole!'))).toEqual([1, 3, 2, 0, 4]);
  });

  it('sorts astral characters after the BMP (code point order, not UTF-16 order)', () => {
    // U+FF01 (fullwidth !) sorts before U+1F40B (whale) by code point, after it by UTF-16 code unit.
    const vocab = Vocabulary.fromCharacters('🐋！a');
    expect(vocab.tokens.slice(0, 3)).toEqual(['a', '！', '🐋']);
    expect(Array.from(vocab.encode('a🐋'))).toEqual([0, 2]);
  });

  it('can have no unknown token, and then unseen characters throw', () => {
    const vocab = Vocabulary.fromCharacters('ab', { unk: null });
    expect(vocab.size).toBe(2);
    expect(() => vocab.encode('abc')).toThrow(/"c" is not in the vocabulary, which has no unknown token/);
  });

  it('rejects a text that contains its unknown token', () => {
    expect(() => Vocabulary.fromCharacters('a\uFFFDb')).toThrow(ArgumentError);
  });

  it('round-trips any text built from its own characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), fc.nat(), (text, seed) => {
        const vocab = Vocabulary.fromCharacters(text.replace(/\uFFFD/g, ''));
        const chars = [...text.replace(/\uFFFD/g, '')];
        // Encode a shuffled selection of the vocabulary's characters.
        const sample = chars.map((_, i) => chars[(i * 7 + seed) % chars.length]!).join('');
        const ids = vocab.encode(sample);
        expect(ids).toBeInstanceOf(Int32Array);
        expect(ids.length).toBe([...sample].length);
        expect(vocab.decode(ids)).toBe(sample);
        for (const id of ids) expect(id).not.toBe(vocab.unkId);
        // The ids are exactly the ranks in code-point order.
        const sorted = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
        expect(vocab.tokens.slice(0, -1)).toEqual(sorted);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Vocabulary.fromTokens', () => {
  it('puts pad and unk first, then tokens by frequency, ties in code-point order', () => {
    const vocab = Vocabulary.fromTokens(['b', 'a', 'c', 'a', 'b', 'a', 'd']);
    expect(vocab.tokens).toEqual(['<pad>', '<unk>', 'a', 'b', 'c', 'd']);
    expect(vocab.padId).toBe(0);
    expect(vocab.unkId).toBe(1);
    expect(vocab.decode(vocab.encode(['a', 'zebra', 'd']))).toBe('a <unk> d');
  });

  it('applies minFrequency and maxSize (specials included in the size)', () => {
    const tokens = ['x', 'x', 'x', 'y', 'y', 'z'];
    expect(Vocabulary.fromTokens(tokens, { minFrequency: 2 }).tokens).toEqual(['<pad>', '<unk>', 'x', 'y']);
    expect(Vocabulary.fromTokens(tokens, { maxSize: 3 }).tokens).toEqual(['<pad>', '<unk>', 'x']);
    expect(Vocabulary.fromTokens(tokens, { pad: null, unk: '?' }).tokens).toEqual(['?', 'x', 'y', 'z']);
    expect(() => Vocabulary.fromTokens(tokens, { minFrequency: 0 })).toThrow(/minFrequency must be an integer ≥ 1, got 0/);
  });

  it('does not count special tokens that occur in the input twice', () => {
    expect(Vocabulary.fromTokens(['<unk>', 'a']).tokens).toEqual(['<pad>', '<unk>', 'a']);
  });

  it('round-trips token sequences over its vocabulary and maps unseen tokens to unk (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 40 }), (tokens) => {
        const vocab = Vocabulary.fromTokens(tokens, { pad: '\u0000pad', unk: '\u0000unk' });
        const ids = vocab.encode(tokens);
        expect(Array.from(ids, (id) => vocab.tokenOf(id))).toEqual(tokens);
        expect(Array.from(vocab.encode(['\u0001never'])), 'unseen').toEqual([vocab.unkId]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Vocabulary', () => {
  it('decodes arrays and 1-D int32 tensors, optionally skipping padding', () => {
    const vocab = new Vocabulary(['<pad>', 'a', 'b'], { pad: '<pad>', separator: '-' });
    expect(vocab.decode(tensor(new Int32Array([1, 2, 0]))), 'tensor').toBe('a-b-<pad>');
    expect(vocab.decode([1, 2, 0, 0], { skipPad: true })).toBe('a-b');
    expect(() => vocab.decode(tensor([1, 2]))).toThrow(DTypeError);
    expect(() => vocab.decode([3])).toThrow(/ids\[0\] = 3 is not an id of this vocabulary \(size 3\)/);
  });

  it('rejects duplicate tokens and specials that are not tokens', () => {
    expect(() => new Vocabulary(['a', 'b', 'a'])).toThrow(/"a" appears twice \(ids 0 and 2\)/);
    expect(() => new Vocabulary(['a'], { unk: '?' })).toThrow(/options.unk "\?" is not one of the tokens/);
  });

  it('saves and loads through JSON', () => {
    for (const vocab of [Vocabulary.fromCharacters('call me ishmael'), Vocabulary.fromTokens(tokenizeWords('the whale, the sea'))]) {
      const copy = Vocabulary.fromJSON(JSON.parse(JSON.stringify(vocab)));
      expect(copy.tokens).toEqual(vocab.tokens);
      expect(copy.unkId).toBe(vocab.unkId);
      expect(copy.padId).toBe(vocab.padId);
      expect(copy.separator).toBe(vocab.separator);
    }
  });

  it('rejects malformed JSON with errors naming the field', () => {
    const good = Vocabulary.fromCharacters('ab').toJSON();
    expect(() => Vocabulary.fromJSON(null)).toThrow(/expected an object written by Vocabulary.toJSON, got null/);
    expect(() => Vocabulary.fromJSON({ ...good, format: 'other' })).toThrow(/format must be 'tapestry.vocabulary'/);
    expect(() => Vocabulary.fromJSON({ ...good, version: 2 })).toThrow(/unsupported version 2/);
    expect(() => Vocabulary.fromJSON({ ...good, tokens: 'ab' })).toThrow(/tokens must be an array of strings/);
    expect(() => Vocabulary.fromJSON({ ...good, tokens: ['a', 3] })).toThrow(/Vocabulary.fromJSON: tokens\[1\] must be a string, got 3/);
    expect(() => Vocabulary.fromJSON({ ...good, tokens: ['a', 'a'] })).toThrow(/Vocabulary.fromJSON: token "a" appears twice/);
    expect(() => Vocabulary.fromJSON({ ...good, unk: 'zz' })).toThrow(/options.unk "zz" is not one of the tokens/);
    expect(() => Vocabulary.fromJSON({ ...good, pad: 5 })).toThrow(/pad must be a string or null, got 5/);
    expect(() => Vocabulary.fromJSON({ ...good, separator: undefined })).toThrow(/separator must be a string/);
  });
});

describe('tokenizeWords', () => {
  it('lower-cases and keeps runs of letters and inner apostrophes', () => {
    expect(tokenizeWords("Call me Ishmael. It's 'grand'!")).toEqual(['call', 'me', 'ishmael', "it's", 'grand']);
    expect(tokenizeWords('Don’t  stop—2 times, café!')).toEqual(["don't", 'stop', 'times', 'café']);
    expect(tokenizeWords("  ' 42 ''  ")).toEqual([]);
  });

  it('returns tokens that are lower-case letter/apostrophe runs whose concatenation is in the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const lower = text.toLowerCase().replace(/\u2019/g, "'");
        let from = 0;
        for (const token of tokenizeWords(text)) {
          expect(token).toMatch(/^\p{L}[\p{L}']*$/u);
          expect(token.endsWith("'")).toBe(false);
          const at = lower.indexOf(token, from);
          expect(at).toBeGreaterThanOrEqual(from);
          from = at + token.length;
        }
      }),
      { numRuns: 300 },
    );
  });
});
