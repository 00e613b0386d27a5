import { ArgumentError, describeValue, DTypeError, expectInteger, expectOptionalBoolean, formatShape, Tensor } from '@tapestry/core';
import { compareCodePoints } from './code-points.js';

/** The serialised form of a {@link Vocabulary}, as written by {@link Vocabulary.toJSON}. */
export interface VocabularyJSON {
  /** Always `'tapestry.vocabulary'`; identifies the format. */
  format: 'tapestry.vocabulary';
  /** Format version, currently 1. */
  version: 1;
  /** The tokens; a token's id is its index. */
  tokens: string[];
  /** The unknown token (one of `tokens`), or null when unseen tokens are an error. */
  unk: string | null;
  /** The padding token (one of `tokens`), or null when there is none. */
  pad: string | null;
  /** What {@link Vocabulary.decode} puts between tokens (`''` for characters, `' '` for words). */
  separator: string;
}

/** Options of the {@link Vocabulary} constructor. */
export interface VocabularyOptions {
  /** The token unseen tokens encode to; it must be in `tokens`. Default: none (unseen tokens throw). */
  unk?: string | null;
  /** The padding token; it must be in `tokens`. Default: none. */
  pad?: string | null;
  /** What {@link Vocabulary.decode} joins tokens with. Default `''`. */
  separator?: string;
}

/** Options of {@link Vocabulary.fromCharacters}. */
export interface CharacterVocabularyOptions {
  /**
   * The token for characters not in the text, appended after the characters (so its id is the number of
   * distinct characters). Default `'\uFFFD'` (the Unicode replacement character); null for none.
   */
  unk?: string | null;
}

/** Options of {@link Vocabulary.fromTokens}. */
export interface TokenVocabularyOptions {
  /** Keep only tokens seen at least this many times. Default 1. */
  minFrequency?: number;
  /** The largest vocabulary, special tokens included (the rarest tokens are dropped). Default: no limit. */
  maxSize?: number;
  /** The padding token, id 0. Default `'<pad>'`; null for none. */
  pad?: string | null;
  /** The unknown token, the id after the padding token. Default `'<unk>'`; null for none. */
  unk?: string | null;
  /** What {@link Vocabulary.decode} joins tokens with. Default `' '`. */
  separator?: string;
}

/**
 * A bijection between tokens (strings) and ids `0 … size − 1`, with an optional unknown token that
 * unseen tokens encode to and an optional padding token. Characters are tokens too: a string is an
 * iterable of its characters (code points), so `vocab.encode(text)` encodes a text character by
 * character, while a word vocabulary encodes the output of a tokenizer such as {@link tokenizeWords}.
 *
 * Vocabularies are immutable; build them with {@link Vocabulary.fromCharacters} or
 * {@link Vocabulary.fromTokens}, or from an explicit token list with the constructor.
 *
 * @example
 * ```ts
 * const vocab = new Vocabulary(['<pad>', '<unk>', 'the', 'whale'], { pad: '<pad>', unk: '<unk>', separator: ' ' });
 * vocab.encode(['the', 'white', 'whale']); // Int32Array [2, 1, 3]
 * vocab.decode([2, 3]);                     // 'the whale'
 * ```
 */
export class Vocabulary {
  /** The tokens in id order. */
  readonly tokens: readonly string[];
  /** The id unseen tokens encode to, or undefined when unseen tokens are an error. */
  readonly unkId: number | undefined;
  /** The padding id, or undefined when the vocabulary has no padding token. */
  readonly padId: number | undefined;
  /** What {@link Vocabulary.decode} joins tokens with. */
  readonly separator: string;
  private readonly index: ReadonlyMap<string, number>;

  /**
   * Makes a vocabulary whose ids are the indices of `tokens` (which must be distinct strings).
   *
   * @example
   * ```ts
   * const vocab = new Vocabulary(['a', 'b', '?'], { unk: '?' });
   * vocab.encode('abc'); // Int32Array [0, 1, 2]
   * ```
   */
  constructor(tokens: readonly string[], options: VocabularyOptions = {}) {
    const fn = 'Vocabulary';
    if (!Array.isArray(tokens)) throw new ArgumentError(`${fn}: tokens must be an array of strings, got ${describeValue(tokens)}`);
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${fn}: options must be an object, got ${describeValue(options)}`);
    for (const key of Object.keys(options)) {
      // a misspelt { unkToken } would otherwise build a vocabulary without an unknown token, silently
      if (!['unk', 'pad', 'separator'].includes(key))
        throw new ArgumentError(`${fn}: unknown option ${JSON.stringify(key)} (the options are unk, pad, separator)`);
    }
    const index = new Map<string, number>();
    tokens.forEach((token, id) => {
      if (typeof token !== 'string') {
        throw new ArgumentError(`${fn}: tokens[${id}] must be a string, got ${describeValue(token)}`);
      }
      const previous = index.get(token);
      if (previous !== undefined) {
        throw new ArgumentError(`${fn}: token ${JSON.stringify(token)} appears twice (ids ${previous} and ${id}); tokens must be distinct`);
      }
      index.set(token, id);
    });
    const special = (name: 'unk' | 'pad'): number | undefined => {
      const token = options[name];
      if (token === undefined || token === null) return undefined;
      const id = index.get(token);
      if (id === undefined) {
        throw new ArgumentError(`${fn}: options.${name} ${describeValue(token)} is not one of the tokens; add it to the token list`);
      }
      return id;
    };
    const separator = options.separator ?? '';
    if (typeof separator !== 'string') throw new ArgumentError(`${fn}: options.separator must be a string, got ${describeValue(separator)}`);
    this.tokens = Object.freeze(tokens.slice());
    this.index = index;
    this.unkId = special('unk');
    this.padId = special('pad');
    this.separator = separator;
  }

  /**
   * A character vocabulary: ids `0 … C − 1` are the distinct characters (code points) of `text` in
   * code-point order — exactly Python's `sorted(set(text))`, so ids agree with PyTorch char-RNN scripts —
   * and id `C` is the unknown token (unless `options.unk` is null).
   *
   * @example
   * ```ts
   * const vocab = Vocabulary.fromCharacters('hello');
   * vocab.tokens;          // ['e', 'h', 'l', 'o', '\uFFFD']
   * vocab.unkId;           // 4
   * vocab.encode('hole!'); // Int32Array [1, 3, 2, 0, 4]
   * ```
   */
  static fromCharacters(text: string, options: CharacterVocabularyOptions = {}): Vocabulary {
    const fn = 'Vocabulary.fromCharacters';
    if (typeof text !== 'string') throw new ArgumentError(`${fn}: text must be a string, got ${describeValue(text)}`);
    const unk = options.unk === undefined ? '\uFFFD' : options.unk;
    const chars = [...new Set(text)].sort(compareCodePoints);
    if (unk !== null && chars.includes(unk)) {
      throw new ArgumentError(`${fn}: the text contains the unknown token ${JSON.stringify(unk)}; pass another options.unk (or null for none)`);
    }
    return new Vocabulary(unk === null ? chars : [...chars, unk], { unk });
  }

  /**
   * A token (word) vocabulary built from a token stream: the padding token (id 0) and the unknown token
   * (next id) come first, then every token seen at least `minFrequency` times, most frequent first, ties
   * in code-point order (as torchtext's `build_vocab_from_iterator`); `maxSize` counts the special tokens.
   *
   * @example
   * ```ts
   * const vocab = Vocabulary.fromTokens(tokenizeWords('the cat saw the dog'), { minFrequency: 1 });
   * vocab.tokens;                            // ['<pad>', '<unk>', 'the', 'cat', 'dog', 'saw']
   * vocab.decode(vocab.encode(['the', 'cow'])); // 'the <unk>'
   * ```
   */
  static fromTokens(tokens: Iterable<string>, options: TokenVocabularyOptions = {}): Vocabulary {
    const fn = 'Vocabulary.fromTokens';
    if (tokens === null || typeof tokens !== 'object' || !(Symbol.iterator in tokens)) {
      throw new ArgumentError(`${fn}: tokens must be an iterable of strings (e.g. an array), got ${describeValue(tokens)}`);
    }
    const minFrequency = expectInteger(fn, 'options.minFrequency', options.minFrequency ?? 1, 1);
    const pad = options.pad === undefined ? '<pad>' : options.pad;
    const unk = options.unk === undefined ? '<unk>' : options.unk;
    const specials = [pad, unk].filter((t): t is string => t !== null);
    const maxSize = expectInteger(fn, 'options.maxSize', options.maxSize ?? Number.MAX_SAFE_INTEGER, specials.length);
    const counts = new Map<string, number>();
    let position = 0;
    for (const token of tokens) {
      if (typeof token !== 'string') throw new ArgumentError(`${fn}: token ${position} must be a string, got ${describeValue(token)}`);
      counts.set(token, (counts.get(token) ?? 0) + 1);
      position++;
    }
    const kept = [...counts]
      .filter(([token, count]) => count >= minFrequency && !specials.includes(token))
      .sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]))
      .slice(0, maxSize - specials.length)
      .map(([token]) => token);
    return new Vocabulary([...specials, ...kept], { pad, unk, separator: options.separator ?? ' ' });
  }

  /**
   * Rebuilds a vocabulary saved with {@link Vocabulary.toJSON} (after `JSON.parse`), checking every field.
   *
   * @example
   * ```ts
   * const copy = Vocabulary.fromJSON(JSON.parse(JSON.stringify(vocab)));
   * ```
   */
  static fromJSON(json: unknown): Vocabulary {
    const fn = 'Vocabulary.fromJSON';
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new ArgumentError(`${fn}: expected an object written by Vocabulary.toJSON, got ${describeValue(json)}`);
    }
    const record = json as Record<string, unknown>;
    if (record.format !== 'tapestry.vocabulary') {
      throw new ArgumentError(`${fn}: format must be 'tapestry.vocabulary', got ${describeValue(record.format)}`);
    }
    if (record.version !== 1) throw new ArgumentError(`${fn}: unsupported version ${describeValue(record.version)} (this version reads 1)`);
    if (!Array.isArray(record.tokens)) throw new ArgumentError(`${fn}: tokens must be an array of strings, got ${describeValue(record.tokens)}`);
    for (const name of ['unk', 'pad'] as const) {
      if (record[name] !== null && typeof record[name] !== 'string') {
        throw new ArgumentError(`${fn}: ${name} must be a string or null, got ${describeValue(record[name])}`);
      }
    }
    if (typeof record.separator !== 'string') throw new ArgumentError(`${fn}: separator must be a string, got ${describeValue(record.separator)}`);
    try {
      return new Vocabulary(record.tokens as string[], {
        unk: record.unk as string | null,
        pad: record.pad as string | null,
        separator: record.separator,
      });
    } catch (error) {
      // Re-badge the constructor's message so it names the function the caller used.
      throw new ArgumentError(`${fn}: ${(error as Error).message.replace(/^Vocabulary: /, '')}`);
    }
  }

  /** The number of tokens (ids run from 0 to `size − 1`). */
  get size(): number {
    return this.tokens.length;
  }

  /** Whether `token` is in the vocabulary. */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /**
   * The id of `token`: its own, else the unknown id; throws if it is unseen and there is no unknown token.
   *
   * @example
   * ```ts
   * Vocabulary.fromCharacters('ab').idOf('b'); // 1
   * ```
   */
  idOf(token: string): number {
    return this.lookup('Vocabulary.idOf', 'token', token);
  }

  /** {@link Vocabulary.idOf} whose error names the method the caller called and where the token was. */
  private lookup(fn: string, where: string, token: string): number {
    const id = this.index.get(token);
    if (id !== undefined) return id;
    if (this.unkId !== undefined) return this.unkId;
    throw new ArgumentError(
      `${fn}: ${where} ${JSON.stringify(token)} is not in the vocabulary, which has no unknown token; ` +
        'build it with an unk token or remove the token from the input',
    );
  }

  /**
   * The token whose id is `id`.
   *
   * @example
   * ```ts
   * Vocabulary.fromCharacters('ab').tokenOf(0); // 'a'
   * ```
   */
  tokenOf(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new ArgumentError(`Vocabulary.tokenOf: id must be an integer in [0, ${this.tokens.length}), got ${String(id)}`);
    }
    return this.tokens[id]!;
  }

  /**
   * Encodes tokens to ids. A string is encoded character by character (code points); pass a token array
   * (e.g. from {@link tokenizeWords}) for a word vocabulary. `tensor(vocab.encode(text))` makes it an
   * int32 tensor.
   *
   * @example
   * ```ts
   * const vocab = Vocabulary.fromCharacters('abc');
   * vocab.encode('cab'); // Int32Array [2, 0, 1]
   * ```
   */
  encode(tokens: Iterable<string>): Int32Array {
    if (typeof tokens === 'string') {
      // A string has at most as many code points as UTF-16 units: fill a buffer of that size, then trim.
      const out = new Int32Array(tokens.length);
      let n = 0;
      for (const ch of tokens) {
        out[n] = this.lookup('Vocabulary.encode', `character ${n} of the text,`, ch);
        n++;
      }
      return out.slice(0, n);
    }
    if (tokens === null || typeof tokens !== 'object' || !(Symbol.iterator in tokens)) {
      throw new ArgumentError(`Vocabulary.encode: tokens must be a string or an iterable of strings, got ${describeValue(tokens)}`);
    }
    const ids: number[] = [];
    for (const token of tokens) {
      if (typeof token !== 'string') {
        throw new ArgumentError(`Vocabulary.encode: token ${ids.length} must be a string, got ${describeValue(token)}`);
      }
      ids.push(this.lookup('Vocabulary.encode', `token ${ids.length},`, token));
    }
    return Int32Array.from(ids);
  }

  /**
   * Decodes ids (an array, a typed array or a 1-D int32 tensor) to text, joining tokens with the
   * vocabulary's separator. With `skipPad`, padding ids are left out.
   *
   * @example
   * ```ts
   * const vocab = Vocabulary.fromCharacters('abc');
   * vocab.decode([2, 0, 1]);                      // 'cab'
   * vocab.decode(tensor(new Int32Array([0, 0]))); // 'aa'
   * ```
   */
  decode(ids: ArrayLike<number> | Tensor, options: { skipPad?: boolean } = {}): string {
    const fn = 'Vocabulary.decode';
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${fn}: options must be an object { skipPad }, got ${describeValue(options)}`);
    expectOptionalBoolean(fn, 'options.skipPad', options.skipPad);
    let values: ArrayLike<number>;
    if (ids instanceof Tensor) {
      if (ids.dtype !== 'int32') throw new DTypeError(`${fn}: ids must be an int32 tensor, got ${ids.dtype}`);
      if (ids.rank > 1) throw new ArgumentError(`${fn}: ids must be a 1-D tensor, got shape ${formatShape(ids.shape)}; decode one row at a time`);
      values = ids.dataSync();
    } else if (ids !== null && typeof ids === 'object' && typeof (ids as ArrayLike<number>).length === 'number') {
      values = ids;
    } else {
      throw new ArgumentError(`${fn}: ids must be an array, a typed array or an int32 tensor, got ${describeValue(ids)}`);
    }
    const parts: string[] = [];
    for (let i = 0; i < values.length; i++) {
      const id = values[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
        // a model's head with more outputs than the vocabulary has tokens samples such ids: say so
        const hint = Number.isInteger(id) && id >= this.tokens.length ? "; do the model's output layer and this vocabulary differ in size?" : '';
        throw new ArgumentError(`${fn}: ids[${i}] = ${String(id)} is not an id of this vocabulary (size ${this.tokens.length})${hint}`);
      }
      if (options.skipPad === true && id === this.padId) continue;
      parts.push(this.tokens[id]!);
    }
    return parts.join(this.separator);
  }

  /**
   * The vocabulary as a plain JSON-ready object; {@link Vocabulary.fromJSON} reads it back.
   *
   * @example
   * ```ts
   * const saved = JSON.stringify(vocab); // calls toJSON
   * ```
   */
  toJSON(): VocabularyJSON {
    return {
      format: 'tapestry.vocabulary',
      version: 1,
      tokens: this.tokens.slice(),
      unk: this.unkId === undefined ? null : this.tokens[this.unkId]!,
      pad: this.padId === undefined ? null : this.tokens[this.padId]!,
      separator: this.separator,
    };
  }
}
