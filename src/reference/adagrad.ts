/**
 * Adagrad (Duchi et al. 2011, https://jmlr.org/papers/v12/duchi11a.html), as torch.optim.Adagrad
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   clr = lr / (1 + (t - 1)*lrDecay)
 *   sum <- sum + g^2                      (sum starts at initialAccumulatorValue)
 *   p <- p - clr * g / (sqrt(sum) + eps)
 *   epsInsideSqrt (seed articles 000/003): p <- p - clr * g / sqrt(sum + eps)
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
  epsInsideSqrt: boolean;
}

export const adagradReference: ReferenceOptimizer<AdagradOptions> = {
  name: 'Adagrad',
  init: (n, options) => ({
    step: 0,
    sum: new Float64Array(n).fill(options.initialAccumulatorValue),
  }),
  step(p, g, state, options) {
    state.step += 1;
    const { eps, epsInsideSqrt } = options;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    const sum = buffer(state, 'sum');
    const clr = options.lr / (1 + (state.step - 1) * options.lrDecay);
    for (let i = 0; i < p.length; i++) {
      sum[i] += d[i] * d[i];
      const std = epsInsideSqrt ? Math.sqrt(sum[i] + eps) : Math.sqrt(sum[i]) + eps;
      p[i] -= clr * (d[i] / std);
    }
  },
};
