/**
 * Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) with AMSGrad (Reddi et al. 2018,
 * https://openreview.net/forum?id=ryQu7f-RZ), as torch.optim.Adam
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html), single-tensor path:
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   m <- beta1*m + (1 - beta1)*g
 *   v <- beta2*v + (1 - beta2)*g^2
 *   amsgrad: vMax <- max(vMax, v), used in place of v below
 *   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer, type ReferenceState } from './types.ts';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** torch's bias corrections at step t: biasCorrection1 = 1 - beta1^t, biasCorrection2 = 1 - beta2^t. */
export function adamBiasCorrections(
  beta1: number,
  beta2: number,
  t: number,
): { biasCorrection1: number; biasCorrection2: number } {
  return { biasCorrection1: 1 - beta1 ** t, biasCorrection2: 1 - beta2 ** t };
}

/** The first and second moment updates shared by the Adam family (stored uncorrected). */
export function updateMoments(
  expAvg: Float64Array,
  expAvgSq: Float64Array,
  g: Float64Array,
  beta1: number,
  beta2: number,
): void {
  for (let i = 0; i < g.length; i++) {
    expAvg[i] = beta1 * expAvg[i] + (1 - beta1) * g[i];
    expAvgSq[i] = beta2 * expAvgSq[i] + (1 - beta2) * g[i] * g[i];
  }
}

/** Fresh Adam/AdamW state: zero moments, plus maxExpAvgSq when amsgrad. */
export function initAdamState(n: number, amsgrad: boolean): ReferenceState {
  const state: ReferenceState = {
    step: 0,
    expAvg: new Float64Array(n),
    expAvgSq: new Float64Array(n),
  };
  if (amsgrad) state.maxExpAvgSq = new Float64Array(n);
  return state;
}

/** The Adam update on an already prepared gradient at t = state.step; AdamW reuses it. */
export function adamUpdate(
  p: Float64Array,
  g: Float64Array,
  state: ReferenceState,
  options: AdamOptions,
): void {
  const [beta1, beta2] = options.betas;
  const expAvg = buffer(state, 'expAvg');
  const expAvgSq = buffer(state, 'expAvgSq');
  updateMoments(expAvg, expAvgSq, g, beta1, beta2);
  let v = expAvgSq;
  if (options.amsgrad) {
    v = buffer(state, 'maxExpAvgSq');
    for (let i = 0; i < v.length; i++) v[i] = Math.max(v[i], expAvgSq[i]);
  }
  const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(beta1, beta2, state.step);
  const stepSize = options.lr / biasCorrection1;
  const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
  for (let i = 0; i < p.length; i++) {
    const denom = Math.sqrt(v[i]) / biasCorrection2Sqrt + options.eps;
    p[i] -= stepSize * (expAvg[i] / denom);
  }
}

export const adamReference: ReferenceOptimizer<AdamOptions> = {
  name: 'Adam',
  init: (n, options) => initAdamState(n, options.amsgrad),
  step(p, g, state, options) {
    state.step += 1;
    adamUpdate(p, effectiveGradient(p, g, options.maximize, options.weightDecay), state, options);
  },
};
