/**
 * Schedule-Free AdamW and SGD (Defazio et al. 2024, "The Road Less Scheduled",
 * https://arxiv.org/abs/2405.15682), as facebookresearch/schedule_free
 * (schedulefree/adamw_schedulefree.py, sgd_schedulefree.py). Parameters hold y while training;
 * z starts as a copy of p; with k the steps taken before this one:
 *
 *   sched = k < warmupSteps ? (k+1)/warmupSteps : 1
 *   AdamW: lr_t = lr*sched*sqrt(1 - beta2^(k+1));   SGD: lr_t = lr*sched
 *   lrMax <- max(lr_t, lrMax);  weight = (k+1)^r * lrMax^weightLrPower;  weightSum += weight
 *   c = weight/weightSum (0 if weightSum is 0)
 *   AdamW: v <- beta2*v + (1-beta2)*g^2;  g <- g/(sqrt(v)+eps) + weightDecay*y
 *   SGD:   g <- g + weightDecay*y
 *   y <- lerp(y, z, c);  y <- y + lr_t*(beta*(1-c) - 1)*g;  z <- z - lr_t*g
 *
 * beta is betas[0] (AdamW) or momentum (SGD). eval() sets p to x = lerp(y, z, 1 - 1/beta),
 * train() back to y = lerp(x, z, 1 - beta).
 */
import { buffer, type ReferenceOptimizer, type ReferenceState } from './types.ts';

export interface AdamWScheduleFreeOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
}

export interface SGDScheduleFreeOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
}

/** torch.lerp's float formula: self + w*(end - self) for w < 0.5, else end - (end - self)*(1 - w). */
export function lerp(a: number, b: number, w: number): number {
  return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

/** The step's scheduled lr and averaging weight c; advances k, lrMax and weightSum in `state`. */
export function scheduleFreeStep(
  state: { step: number; weightSum?: number; lrMax?: number },
  o: { lr: number; warmupSteps: number; r: number; weightLrPower: number },
  lrScale: (k: number) => number,
): { lr: number; ckp1: number } {
  const k = state.step;
  state.step += 1;
  const sched = k < o.warmupSteps ? (k + 1) / o.warmupSteps : 1;
  const lr = o.lr * sched * lrScale(k);
  const lrMax = (state.lrMax = Math.max(lr, state.lrMax!));
  const weight = (k + 1) ** o.r * lrMax ** o.weightLrPower;
  const weightSum = (state.weightSum = state.weightSum! + weight);
  return { lr, ckp1: weightSum !== 0 ? weight / weightSum : 0 };
}

function init(n: number, adam: boolean): ReferenceState {
  const state: ReferenceState = { step: 0, z: new Float64Array(n), weightSum: 0, lrMax: -1 };
  if (adam) state.expAvgSq = new Float64Array(n);
  return state;
}

function update(
  p: Float64Array,
  g: Float64Array,
  state: ReferenceState,
  beta: number,
  lr: number,
  ckp1: number,
): void {
  const z = buffer(state, 'z');
  for (let i = 0; i < p.length; i++) {
    if (state.step === 1) z[i] = p[i];
    p[i] = lerp(p[i], z[i], ckp1);
    p[i] += lr * (beta * (1 - ckp1) - 1) * g[i];
    z[i] -= lr * g[i];
  }
}

export const adamwScheduleFreeReference: ReferenceOptimizer<AdamWScheduleFreeOptions> = {
  name: 'AdamWScheduleFree',
  init: (n) => init(n, true),
  step(p, g, state, o) {
    const [beta1, beta2] = o.betas;
    const s = state as { step: number; weightSum: number; lrMax: number };
    const { lr, ckp1 } = scheduleFreeStep(s, o, (k) => Math.sqrt(1 - beta2 ** (k + 1)));
    const v = buffer(state, 'expAvgSq');
    const d = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      d[i] = g[i] / (Math.sqrt(v[i]) + o.eps);
      if (o.weightDecay !== 0) d[i] += o.weightDecay * p[i];
    }
    update(p, d, state, beta1, lr, ckp1);
  },
};

export const sgdScheduleFreeReference: ReferenceOptimizer<SGDScheduleFreeOptions> = {
  name: 'SGDScheduleFree',
  init: (n) => init(n, false),
  step(p, g, state, o) {
    const s = state as { step: number; weightSum: number; lrMax: number };
    const { lr, ckp1 } = scheduleFreeStep(s, o, () => 1);
    const d = Float64Array.from(g, (gi, i) =>
      o.weightDecay !== 0 ? gi + o.weightDecay * p[i]! : gi,
    );
    update(p, d, state, o.momentum, lr, ckp1);
  },
};

/** eval(): p <- x = lerp(y, z, 1 - 1/beta), for tensors that have taken a step. */
export function scheduleFreeEval(p: Float64Array, state: ReferenceState, beta: number): void {
  if (state.step === 0) return;
  const z = buffer(state, 'z');
  for (let i = 0; i < p.length; i++) p[i] = lerp(p[i]!, z[i]!, 1 - 1 / beta);
}

/** train(): p <- y = lerp(x, z, 1 - beta). */
export function scheduleFreeTrain(p: Float64Array, state: ReferenceState, beta: number): void {
  if (state.step === 0) return;
  const z = buffer(state, 'z');
  for (let i = 0; i < p.length; i++) p[i] = lerp(p[i]!, z[i]!, 1 - beta);
}
