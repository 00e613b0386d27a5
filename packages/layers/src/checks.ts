/** The one argument check the layers need beyond core's (`expectTensor`, `expectPositiveInteger`, …). */
import { ArgumentError, Key, Tensor } from '@tapestry/core';

/** Throws unless `value` is undefined, a Key or a key tensor (from keyData). */
export function expectOptionalKey(where: string, argument: string, value: unknown): void {
  if (value !== undefined && !(value instanceof Key) && !(value instanceof Tensor)) {
    throw new ArgumentError(
      `${where}: ${argument} must be a Key (from randomKey / splitKey / foldIn) or a key tensor, got ${value === null ? 'null' : typeof value}`,
    );
  }
}
