/**
 * Accuracy bound and failure tables shared by the GPU tests (runs in the page and in Node).
 * After t float32 steps the normwise error bound is max|got-ref| <= 4 * t * 2^-23 * max|ref|.
 */

import { seededRandom } from '../../src/reference/random.ts';
export const EPS32 = 2 ** -23;

export interface Mismatch {
  quantity: string;
  step: number;
  index: number;
  got: number;
  expected: number;
  error: number;
  bound: number;
  /** got/expected around the index, to see whether it is one element or a shifted block. */
  neighbours: string;
}

/**
 * Checks `got` against `ref` with the step-t bound; returns the worst element when it fails.
 * `scale` is max|ref| by default; pass the running maximum over steps 1..t (see `runningScale`)
 * for quantities computed by a recurrence, whose rounding errors carry the magnitudes of earlier
 * steps (e.g. a moment that cancels to nearly 0 after being large).
 */
export function compareStep(
  quantity: string,
  step: number,
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  factor = 4,
  scale = maxAbs(ref),
): Mismatch | undefined {
  const bound = factor * step * EPS32 * scale;
  if (got.length !== ref.length) {
    return {
      quantity,
      step,
      index: -1,
      got: got.length,
      expected: ref.length,
      error: Infinity,
      bound,
      neighbours: 'length differs',
    };
  }
  let worst = -1;
  let worstError = -1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    const e = Number.isNaN(d) ? Infinity : d; // a NaN on either side always fails
    if (e > worstError) {
      worst = i;
      worstError = e;
    }
  }
  if (worst < 0 || worstError <= bound) return undefined;
  const around: string[] = [];
  for (let i = Math.max(0, worst - 2); i <= Math.min(ref.length - 1, worst + 2); i++) {
    around.push(`[${i}] ${fmt(got[i]!)} vs ${fmt(ref[i]!)}`);
  }
  return {
    quantity,
    step,
    index: worst,
    got: got[worst]!,
    expected: ref[worst]!,
    error: worstError,
    bound,
    neighbours: around.join('; '),
  };
}

export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** Running maximum of max|ref| per quantity name, for compareStep's `scale`. */
export class RunningScale {
  private readonly scales = new Map<string, number>();
  update(quantity: string, ref: ArrayLike<number>): number {
    const s = Math.max(this.scales.get(quantity) ?? 0, maxAbs(ref));
    this.scales.set(quantity, s);
    return s;
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toPrecision(9) : String(x));

/** A readable table of mismatches, as gpuweb/cts prints them. */
export function mismatchTable(rows: Mismatch[]): string {
  const head = ['quantity', 'step', 'index', 'got', 'expected', '|error|', 'bound'];
  const body = rows.map((r) => [
    r.quantity,
    String(r.step),
    String(r.index),
    fmt(r.got),
    fmt(r.expected),
    r.error == null ? 'Inf' : r.error.toExponential(3),
    r.bound == null ? 'Inf' : r.bound.toExponential(3),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => s.padStart(widths[c]!)).join(' | ');
  return [
    line(head),
    ...body.map(line),
    ...rows.map((r) => `  near ${r.quantity}@${r.step}: ${r.neighbours}`),
  ].join('\n');
}

/** Deterministic pseudo-random numbers in [-1, 1). */
export function random(seed: number): () => number {
  const next = seededRandom(seed);
  return () => next() * 2 - 1;
}

/** n float32 values in [-scale, scale). */
export function randomFloats(n: number, seed: number, scale = 1): Float32Array {
  const next = random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * scale;
  return out;
}
