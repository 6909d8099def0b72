/**
 * RAdam, Adam with a rectified adaptive learning rate (Liu et al. 2020,
 * https://arxiv.org/abs/1908.03265), as torch.optim.RAdam
 * (https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   m, v as Adam;  mHat = m / (1 - beta1^t)
 *   rhoInf = 2/(1 - beta2) - 1;  rhoT = rhoInf - 2*t*beta2^t/(1 - beta2^t)
 *   rhoT > 5:  r = sqrt((rhoT - 4)(rhoT - 2)rhoInf / ((rhoInf - 4)(rhoInf - 2)rhoT))
 *              p <- p - lr*mHat*r*sqrt(1 - beta2^t)/(sqrt(v) + eps)
 *   else:      p <- p - lr*mHat
 */
import { adamBiasCorrections, initAdamState, updateMoments } from './adam.ts';
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface RAdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/** The rectification term r at step t, or null while rhoT <= 5 (the un-adapted, SGD-like steps). */
export function radamRectification(beta2: number, t: number): number | null {
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t);
  if (!(rhoT > 5)) return null;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

export const radamReference: ReferenceOptimizer<RAdamOptions> = {
  name: 'RAdam',
  init: (n) => initAdamState(n, false),
  step(p, g, state, options) {
    state.step += 1;
    const { lr, eps } = options;
    const [beta1, beta2] = options.betas;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    const expAvg = buffer(state, 'expAvg');
    const expAvgSq = buffer(state, 'expAvgSq');
    updateMoments(expAvg, expAvgSq, d, beta1, beta2);
    const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(beta1, beta2, state.step);
    const rect = radamRectification(beta2, state.step);
    for (let i = 0; i < p.length; i++) {
      const mHat = expAvg[i] / biasCorrection1;
      if (rect === null) {
        p[i] -= mHat * lr;
      } else {
        const adaptiveLr = Math.sqrt(biasCorrection2) / (Math.sqrt(expAvgSq[i]) + eps);
        p[i] -= mHat * lr * adaptiveLr * rect;
      }
    }
  },
};
