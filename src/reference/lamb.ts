/**
 * LAMB, layer-wise adaptive moments (You et al. 2020, https://arxiv.org/abs/1904.00962), in the
 * form of NVIDIA apex FusedLAMB: trust ratio always applied, no built-in gradient pre-clipping.
 * Per tensor:
 *
 *   g <- -g if maximize
 *   m, v as Adam (stored uncorrected)
 *   u = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + weightDecay*p
 *   r = ||p|| / ||u||, or 1 if either norm is 0
 *   p <- p - lr*r*u
 */
import { adamBiasCorrections, initAdamState, updateMoments } from './adam.ts';
import { effectiveGradient, l2Norm } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface LAMBOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export const lambReference: ReferenceOptimizer<LAMBOptions> = {
  name: 'LAMB',
  init: (n) => initAdamState(n, false),
  step(p, g, state, options) {
    state.step += 1;
    const { lr, eps, weightDecay } = options;
    const [beta1, beta2] = options.betas;
    const d = effectiveGradient(p, g, options.maximize, 0);
    const expAvg = buffer(state, 'expAvg');
    const expAvgSq = buffer(state, 'expAvgSq');
    updateMoments(expAvg, expAvgSq, d, beta1, beta2);
    const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(beta1, beta2, state.step);
    const u = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const adam = expAvg[i] / biasCorrection1 / (Math.sqrt(expAvgSq[i] / biasCorrection2) + eps);
      u[i] = adam + weightDecay * p[i];
    }
    const pNorm = l2Norm(p);
    const uNorm = l2Norm(u);
    const trustRatio = pNorm === 0 || uNorm === 0 ? 1 : pNorm / uNorm;
    for (let i = 0; i < p.length; i++) p[i] -= lr * trustRatio * u[i];
  },
};
