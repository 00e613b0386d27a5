import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '@tapestry/core';

/** A float64 parameter/gradient tree of the parity problem, as nested arrays. */
interface ArrayTree {
  w: number[][];
  b: number[];
}

/** One optimiser run written by generate.py. */
export interface OptimizerRun {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
  torch_options: Record<string, number | boolean | number[]>;
  schedule: null | { kind: string; [option: string]: number | string };
  params: ArrayTree[];
  grads: ArrayTree[];
  losses: number[];
}

/** The whole fixture file (see fixtures/generate.py). */
export interface Fixture {
  torch_version: string;
  steps: number;
  problem: { x: number[][]; y: number[][]; w0: number[][]; b0: number[]; quartic: number };
  optimizers: OptimizerRun[];
  clip_grad_norm: {
    grads: Record<string, unknown>;
    cases: { name: string; max_norm: number; norm_type: number | 'inf'; total_norm: number; grads: Record<string, unknown> }[];
  };
  clip_grad_value: { clip_value: number; grads: Record<string, unknown> }[];
  schedules: { name: string; base_lr: number; lrs: number[] }[];
}

export const fixture: Fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-parity.json', import.meta.url), 'utf8')) as Fixture;

/** Nested arrays → float64 tensors, leaf by leaf. */
export function toTensors(tree: Record<string, unknown>, dtype: 'float32' | 'float64' = 'float64'): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tree)) out[k] = tensor(v as number[], { dtype });
  return out;
}

function flatten(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v as number];
}

/**
 * The largest relative error |a − e| / |e| over matching leaves (keys of `expected`). An expected exact
 * zero counts as an absolute error scaled by `zeroScale`.
 */
export function maxRelError(actual: Record<string, Tensor>, expected: Record<string, unknown>, zeroScale = 1): number {
  let worst = 0;
  for (const [k, e] of Object.entries(expected)) {
    const a = actual[k];
    if (a === undefined) throw new Error(`missing leaf ${k}`);
    const av = flatten(a.toArray());
    const ev = flatten(e);
    if (av.length !== ev.length) throw new Error(`leaf ${k}: ${av.length} values vs ${ev.length} expected`);
    ev.forEach((x, i) => {
      const err = x === 0 ? Math.abs(av[i]!) / zeroScale : Math.abs(av[i]! - x) / Math.abs(x);
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    });
  }
  return worst;
}

/** Relative error of one number (absolute over `zeroScale` when the expected value is 0). */
export function relError(actual: number, expected: number, zeroScale = 1): number {
  const err = expected === 0 ? Math.abs(actual) / zeroScale : Math.abs(actual - expected) / Math.abs(expected);
  return Number.isNaN(err) ? Infinity : err;
}

/** A snapshot of every leaf's values, to prove later that nothing was mutated. */
export function snapshot(tree: unknown): number[][] {
  const out: number[][] = [];
  const walk = (t: unknown): void => {
    if (Array.isArray(t)) t.forEach(walk);
    else if (t !== null && typeof t === 'object' && Object.getPrototypeOf(t) === Object.prototype) {
      Object.values(t as object).forEach(walk);
    } else if (t !== null && typeof t === 'object' && 'dataSync' in t) {
      out.push(Array.from((t as Tensor).dataSync()));
    }
  };
  walk(tree);
  return out;
}

/** True when a state tree and every plain object/array inside it is frozen. */
export function deeplyFrozen(tree: unknown): boolean {
  if (Array.isArray(tree) || (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype)) {
    return Object.isFrozen(tree) && Object.values(tree as object).every(deeplyFrozen);
  }
  return true;
}
