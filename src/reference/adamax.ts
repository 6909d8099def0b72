/**
 * Adamax, Adam under the infinity norm (Kingma & Ba 2015, section 7,
 * https://arxiv.org/abs/1412.6980), as torch.optim.Adamax
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   m <- beta1*m + (1 - beta1)*g
 *   u <- max(beta2*u, |g| + eps)
 *   p <- p - (lr / (1 - beta1^t)) * m / u
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface AdamaxOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export const adamaxReference: ReferenceOptimizer<AdamaxOptions> = {
  name: 'Adamax',
  init: (n) => ({ step: 0, expAvg: new Float64Array(n), expInf: new Float64Array(n) }),
  step(p, g, state, options) {
    state.step += 1;
    const [beta1, beta2] = options.betas;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    const expAvg = buffer(state, 'expAvg');
    const expInf = buffer(state, 'expInf');
    const clr = options.lr / (1 - beta1 ** state.step);
    for (let i = 0; i < p.length; i++) {
      expAvg[i] = beta1 * expAvg[i] + (1 - beta1) * d[i];
      expInf[i] = Math.max(beta2 * expInf[i], Math.abs(d[i]) + options.eps);
      p[i] -= clr * (expAvg[i] / expInf[i]);
    }
  },
};
