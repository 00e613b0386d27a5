// Python orders strings by code point and UTF-8 preserves that order byte for byte, whereas JS's `<`
// compares UTF-16 code units (which puts U+E000–U+FFFF after the astral planes). Vocabulary order and
// safetensors' tensor order must match what Python writes, so they compare by code point.

/** Negative, zero or positive as `a` sorts before, with or after `b` in code-point (= UTF-8 byte) order. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF, so they sort after every other unit.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
