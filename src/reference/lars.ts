/**
 * LARS, layer-wise adaptive rate scaling (You et al. 2017, https://arxiv.org/abs/1708.03888),
 * with weight decay inside the rule (no separate L2 step). Per tensor:
 *
 *   g <- -g if maximize
 *   local = trustCoefficient*||p|| / (||g|| + weightDecay*||p||), or 1 if either norm is 0
 *   b <- momentum*b + local*(g + weightDecay*p)      (b starts at 0 and excludes lr)
 *   p <- p - lr*b
 */
import { effectiveGradient, l2Norm } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface LARSOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  trustCoefficient: number;
  maximize: boolean;
}

export const larsReference: ReferenceOptimizer<LARSOptions> = {
  name: 'LARS',
  init: (n) => ({ step: 0, momentumBuffer: new Float64Array(n) }),
  step(p, g, state, options) {
    state.step += 1;
    const { lr, momentum, weightDecay } = options;
    const d = effectiveGradient(p, g, options.maximize, 0);
    const b = buffer(state, 'momentumBuffer');
    const pNorm = l2Norm(p);
    const gNorm = l2Norm(d);
    const local =
      pNorm === 0 || gNorm === 0
        ? 1
        : (options.trustCoefficient * pNorm) / (gNorm + weightDecay * pNorm);
    for (let i = 0; i < p.length; i++) {
      b[i] = momentum * b[i] + local * (d[i] + weightDecay * p[i]);
      p[i] -= lr * b[i];
    }
  },
};
