/**
 * Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization
 * Algorithms", https://arxiv.org/abs/2302.06675, Algorithm 2):
 *
 *   g <- -g if maximize
 *   c = beta1*m + (1 - beta1)*g
 *   p <- p*(1 - lr*weightDecay)
 *   p <- p - lr*sign(c)              (sign(0) = 0)
 *   m <- beta2*m + (1 - beta2)*g
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface LionOptions {
  lr: number;
  betas: [number, number];
  weightDecay: number;
  maximize: boolean;
}

export const lionReference: ReferenceOptimizer<LionOptions> = {
  name: 'Lion',
  init: (n) => ({ step: 0, expAvg: new Float64Array(n) }),
  step(p, g, state, options) {
    state.step += 1;
    const { lr } = options;
    const [beta1, beta2] = options.betas;
    const d = effectiveGradient(p, g, options.maximize, 0);
    const expAvg = buffer(state, 'expAvg');
    const decay = 1 - lr * options.weightDecay;
    for (let i = 0; i < p.length; i++) {
      const c = beta1 * expAvg[i] + (1 - beta1) * d[i];
      p[i] = p[i] * decay - lr * Math.sign(c);
      expAvg[i] = beta2 * expAvg[i] + (1 - beta2) * d[i];
    }
  },
};
