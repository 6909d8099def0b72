/**
 * What the benchmark runs, as pure data shared by the CLI (Node) and the page: sizes, the options
 * each optimizer is timed with, TF.js equivalents, repetition counts and the many-tensor model.
 */

import { seededRandom } from '../src/reference/random.ts';

/** Binary multiples: 1M = 2^20 parameters (so every size is a whole number of vec4 blocks). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text.trim());
  if (!m) throw new RangeError(`bench: size must look like 65536, 256K, 1M or 16M, got '${text}'`);
  const scale = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[m[2]!.toUpperCase()]!;
  const n = Math.round(Number(m[1]) * scale);
  if (n < 1) throw new RangeError(`bench: size must be at least 1, got '${text}'`);
  return n;
}

export function formatSize(n: number): string {
  for (const [unit, scale] of [
    ['G', 2 ** 30],
    ['M', 2 ** 20],
    ['K', 2 ** 10],
  ] as const) {
    if (n >= scale && n % (scale / 4) === 0) return `${n / scale}${unit}`;
  }
  return String(n);
}

/**
 * Options each optimizer is timed with, over its PyTorch defaults. SGD is timed with momentum
 * (the common case; plain SGD has no state). Optimizers added to the registry later run with
 * their defaults (a NaN, i.e. required, lr becomes 1e-3).
 */
export const benchOptions: Record<string, Record<string, unknown>> = {
  SGD: { lr: 0.01, momentum: 0.9 },
};

/**
 * Optimizers not timed above a size, and why: Newton-Schulz costs 6 * nsSteps * r^2 * c FLOPs a
 * step for an r x c matrix (r <= c), O(n^1.5) in the parameters, so Muon at 4096^2 takes minutes
 * a step on a software GPU (about 35 s at [1024, 1024] on SwiftShader). Muon gets its own section
 * at [1024, 1024] beside a plain GEMM instead of the per-size table.
 */
export const sizeLimits: Record<string, { max: number; cpuMax: number; why: string }> = {
  Muon: {
    max: 0,
    cpuMax: 2 ** 16,
    why: 'Newton-Schulz is O(n^1.5) FLOPs, timed at [1024, 1024] in the Muon and GEMM section',
  },
};

/** A TF.js optimizer call equivalent to ours, or why there is none. */
export type TfjsEquivalent =
  | {
      call: 'sgd' | 'momentum' | 'adagrad' | 'adadelta' | 'rmsprop' | 'adam' | 'adamax';
      args: unknown[];
      note?: string;
    }
  | { none: string };

/** Maps our resolved options to tf.train.* arguments (positional, as TF.js takes them). */
export function tfjsEquivalent(name: string, o: Record<string, any>): TfjsEquivalent {
  const decayed = o.weightDecay ? 'TF.js optimizers have no weight decay' : undefined;
  if (o.maximize) return { none: 'TF.js optimizers have no maximize' };
  switch (name) {
    case 'SGD':
      if (decayed) return { none: decayed };
      if (o.dampening) return { none: 'TF.js momentum has no dampening' };
      return o.momentum
        ? { call: 'momentum', args: [o.lr, o.momentum, o.nesterov] }
        : { call: 'sgd', args: [o.lr] };
    case 'Adam':
      if (decayed) return { none: decayed };
      if (o.amsgrad) return { none: 'TF.js Adam has no AMSGrad' };
      return { call: 'adam', args: [o.lr, o.betas[0], o.betas[1], o.eps] };
    case 'Adamax':
      if (decayed) return { none: decayed };
      return { call: 'adamax', args: [o.lr, o.betas[0], o.betas[1], o.eps, 0] };
    case 'Adagrad':
      if (decayed) return { none: decayed };
      if (o.lrDecay) return { none: 'TF.js Adagrad has no lrDecay' };
      // TF.js requires an initial accumulator > 0; the work per step is the same.
      return {
        call: 'adagrad',
        args: [o.lr, o.initialAccumulatorValue || 0.1],
        note: o.initialAccumulatorValue
          ? undefined
          : 'initialAccumulatorValue 0.1 (TF.js needs > 0)',
      };
    case 'Adadelta':
      if (decayed) return { none: decayed };
      return { call: 'adadelta', args: [o.lr, o.rho, o.eps] };
    case 'RMSprop':
      if (decayed) return { none: decayed };
      return {
        call: 'rmsprop',
        args: [o.lr, o.alpha, o.momentum, o.eps, o.centered],
        note: o.momentum ? undefined : 'TF.js RMSprop keeps a momentum buffer even at momentum 0',
      };
    case 'AdamW':
      return { none: 'TF.js has no AdamW (decoupled weight decay)' };
    default:
      return { none: `TF.js has no ${name}` };
  }
}

/** Timed steps after warm-up at a size: fewer at large sizes, where SwiftShader is slow. */
export function repetitions(n: number, quick: boolean): { warmup: number; reps: number } {
  if (quick) return { warmup: 1, reps: 3 };
  if (n <= 2 ** 20) return { warmup: 2, reps: 10 };
  if (n <= 2 ** 24) return { warmup: 1, reps: 5 };
  return { warmup: 1, reps: 3 };
}

/**
 * Fewer steps where a step is slow, from the time predicted by a smaller size (linear in the
 * size): at most about `budgetMs` per measurement and at least 2 timed steps, except that a
 * step predicted over 4 s gets 1 warm-up + 1 timed step, and over 10 s a single step without
 * warm-up. The counts used are reported with every figure.
 */
export function withinBudget(
  base: { warmup: number; reps: number },
  predictedMs: number | undefined,
  budgetMs: number,
): { warmup: number; reps: number } {
  if (predictedMs === undefined || !Number.isFinite(predictedMs)) return base;
  if (predictedMs > 10_000) return { warmup: 0, reps: 1 };
  if (predictedMs > 4_000) return { warmup: Math.min(1, base.warmup), reps: 1 };
  const warmup = predictedMs > 1000 ? Math.min(1, base.warmup) : base.warmup;
  const reps = Math.min(base.reps, Math.max(2, Math.floor(budgetMs / predictedMs) - warmup));
  return { warmup, reps };
}

/** Largest size at which the float64 CPU reference is timed (it holds every buffer as Float64Array). */
export const CPU_MAX_SIZE = 2 ** 24;

/** A small deterministic PRNG so that every run builds the same model. */
export const prng = seededRandom;

/**
 * Tensor sizes of a model with `count` tensors and `total` parameters, like a transformer's: 90%
 * small ones (biases, layer norms: 256..4096 elements), 10% weight matrices (products of
 * dimensions in 128..1024, scaled so that the sizes add up to `total`), interleaved in the order
 * a model lists them. Deterministic.
 */
export function modelSizes(count: number, total: number, seed = 7): number[] {
  const random = prng(seed);
  const smallChoices = [256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096];
  const dims = [128, 256, 384, 512, 768, 1024];
  const large = Math.max(1, Math.round(count / 10));
  const small = count - large;
  const smalls = Array.from(
    { length: small },
    () => smallChoices[Math.floor(random() * smallChoices.length)]!,
  );
  const rest = total - smalls.reduce((a, b) => a + b, 0);
  if (rest < large * 4)
    throw new RangeError(`bench: ${count} tensors need more than ${total} parameters`);
  const raw = Array.from(
    { length: large },
    () => dims[Math.floor(random() * dims.length)]! * dims[Math.floor(random() * dims.length)]!,
  );
  const scale = rest / raw.reduce((a, b) => a + b, 0);
  const larges = raw.map((n) => Math.max(4, Math.floor((n * scale) / 4) * 4));
  larges[larges.length - 1]! += rest - larges.reduce((a, b) => a + b, 0);
  // A weight matrix, then its biases and norms, as a module lists them.
  const sizes: number[] = [];
  const perLarge = small / large;
  let s = 0;
  larges.forEach((n, i) => {
    sizes.push(n);
    const until = Math.round((i + 1) * perLarge);
    while (s < until) sizes.push(smalls[s++]!);
  });
  return sizes;
}
