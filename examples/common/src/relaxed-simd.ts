/**
 * For the Node command lines that train (the char-RNN's, the bench's): turns on V8's relaxed SIMD where
 * Node 20 keeps it behind a flag, so that core's WebAssembly GEMM validates and runs its fused multiply-add
 * build, as it does by default in Chrome (from 114) and in Node 21 and later. Core picks its GEMM build when
 * it first multiplies matrices, so call this before the first product. The library itself never sets engine
 * flags: the program that hosts it (a browser, a command line) decides what its engine runs.
 */
import { setFlagsFromString } from 'node:v8';

/** Node's major version (20 for v20.20.2). */
const nodeMajor = (): number => Number(process.versions.node.split('.')[0]);

/**
 * Turns on relaxed SIMD on Node 20 (newer Nodes have it on, and no longer know the flag); returns whether
 * it set the flag.
 */
export function enableRelaxedSimd(): boolean {
  if (nodeMajor() >= 21) return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return true;
}
