/**
 * RMSprop (Hinton, Lecture 6e of "Neural Networks for Machine Learning"; centered form after
 * Graves 2013, https://arxiv.org/abs/1308.0850), as torch.optim.RMSprop
 * (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   squareAvg <- alpha*squareAvg + (1 - alpha)*g^2
 *   centered:  gradAvg <- alpha*gradAvg + (1 - alpha)*g;  avg = sqrt(squareAvg - gradAvg^2) + eps
 *   else:      avg = sqrt(squareAvg) + eps
 *   momentum > 0:  b <- momentum*b + g/avg;  p <- p - lr*b
 *   else:          p <- p - lr*g/avg
 *   epsInsideSqrt (seed articles 000/003): avg = sqrt(squareAvg [- gradAvg^2] + eps)
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer, type ReferenceState } from './types.ts';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
  epsInsideSqrt: boolean;
}

export const rmspropReference: ReferenceOptimizer<RMSpropOptions> = {
  name: 'RMSprop',
  init(n, options) {
    const state: ReferenceState = { step: 0, squareAvg: new Float64Array(n) };
    if (options.momentum > 0) state.momentumBuffer = new Float64Array(n);
    if (options.centered) state.gradAvg = new Float64Array(n);
    return state;
  },
  step(p, g, state, options) {
    state.step += 1;
    const { lr, alpha, eps, momentum, centered, epsInsideSqrt } = options;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    const squareAvg = buffer(state, 'squareAvg');
    const gradAvg = centered ? buffer(state, 'gradAvg') : undefined;
    const b = momentum > 0 ? buffer(state, 'momentumBuffer') : undefined;
    for (let i = 0; i < p.length; i++) {
      squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * d[i] * d[i];
      let variance = squareAvg[i];
      if (gradAvg) {
        gradAvg[i] = alpha * gradAvg[i] + (1 - alpha) * d[i];
        variance -= gradAvg[i] * gradAvg[i];
      }
      const avg = epsInsideSqrt ? Math.sqrt(variance + eps) : Math.sqrt(variance) + eps;
      if (b) {
        b[i] = momentum * b[i] + d[i] / avg;
        p[i] -= lr * b[i];
      } else {
        p[i] -= lr * (d[i] / avg);
      }
    }
  },
};
