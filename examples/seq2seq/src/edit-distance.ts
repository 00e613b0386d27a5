/** Edit distance and the phoneme error rate / word accuracy built on it. */

/**
 * Levenshtein distance between two token sequences: the fewest insertions, deletions and substitutions
 * (each costing 1) that turn `hypothesis` into `reference`. Two rows of the dynamic-programming table.
 */
export function editDistance<T>(reference: readonly T[], hypothesis: readonly T[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const substitution = previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[hypothesis.length]!;
}

/** Error rates of predicted pronunciations against the references. */
export interface ErrorRates {
  /** Phoneme error rate: total edit distance / total reference phonemes (corpus-level, as in G2P papers). */
  readonly per: number;
  /** Fraction of words whose prediction equals the reference exactly. */
  readonly wordAccuracy: number;
  /** Number of words scored. */
  readonly words: number;
}

/** Phoneme error rate and word accuracy of `hypotheses[i]` against `references[i]`. */
export function errorRates(references: readonly (readonly string[])[], hypotheses: readonly (readonly string[])[]): ErrorRates {
  if (references.length !== hypotheses.length) {
    throw new RangeError(`errorRates: ${references.length} references but ${hypotheses.length} hypotheses; pass one hypothesis per reference`);
  }
  let edits = 0;
  let length = 0;
  let exact = 0;
  references.forEach((ref, i) => {
    const d = editDistance(ref, hypotheses[i]!);
    edits += d;
    length += ref.length;
    if (d === 0 && ref.length === hypotheses[i]!.length) exact++;
  });
  return { per: length === 0 ? 0 : edits / length, wordAccuracy: references.length === 0 ? 0 : exact / references.length, words: references.length };
}
