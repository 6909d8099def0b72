/**
 * NAdam, Adam with Nesterov momentum (Dozat 2016, https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ),
 * as torch.optim.NAdam (https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   mu_t = beta1*(1 - 0.5*0.96^(t*momentumDecay));  muProduct <- muProduct*mu_t (starts at 1)
 *   m, v as Adam;  D = sqrt(v / (1 - beta2^t)) + eps
 *   p <- p - lr*(1 - mu_t)/(1 - muProduct) * g/D
 *   p <- p - lr*mu_{t+1}/(1 - muProduct*mu_{t+1}) * m/D
 */
import { updateMoments } from './adam.ts';
import { effectiveGradient } from './gradient.ts';
import { buffer, scalar, type ReferenceOptimizer } from './types.ts';

export interface NAdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  momentumDecay: number;
  maximize: boolean;
}

/** NAdam's momentum schedule mu_t = beta1*(1 - 0.5*0.96^(t*momentumDecay)). */
export function nadamMu(beta1: number, momentumDecay: number, t: number): number {
  return beta1 * (1 - 0.5 * 0.96 ** (t * momentumDecay));
}

export const nadamReference: ReferenceOptimizer<NAdamOptions> = {
  name: 'NAdam',
  init: (n) => ({
    step: 0,
    expAvg: new Float64Array(n),
    expAvgSq: new Float64Array(n),
    muProduct: 1,
  }),
  step(p, g, state, options) {
    const t = (state.step += 1);
    const { lr, eps, momentumDecay } = options;
    const [beta1, beta2] = options.betas;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    const expAvg = buffer(state, 'expAvg');
    const expAvgSq = buffer(state, 'expAvgSq');
    const mu = nadamMu(beta1, momentumDecay, t);
    const muNext = nadamMu(beta1, momentumDecay, t + 1);
    const muProduct = scalar(state, 'muProduct') * mu;
    state.muProduct = muProduct;
    updateMoments(expAvg, expAvgSq, d, beta1, beta2);
    const biasCorrection2 = 1 - beta2 ** t;
    const gradCoef = (-lr * (1 - mu)) / (1 - muProduct);
    const expAvgCoef = (-lr * muNext) / (1 - muProduct * muNext);
    for (let i = 0; i < p.length; i++) {
      const denom = Math.sqrt(expAvgSq[i] / biasCorrection2) + eps;
      // Two separate in-place adds, as torch's two addcdiv_ calls.
      p[i] += gradCoef * (d[i] / denom);
      p[i] += expAvgCoef * (expAvg[i] / denom);
    }
  },
};
