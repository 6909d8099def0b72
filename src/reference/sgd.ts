/**
 * SGD with momentum, as torch.optim.SGD
 * (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html; Nesterov momentum after
 * Sutskever et al. 2013, http://proceedings.mlr.press/v28/sutskever13.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   momentum != 0:  b <- g on the first step, else b <- momentum*b + (1 - dampening)*g
 *                   d = nesterov ? g + momentum*b : b
 *   momentum == 0:  d = g
 *   p <- p - lr*d
 */
import { effectiveGradient } from './gradient.ts';
import type { ReferenceOptimizer, ReferenceState } from './types.ts';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
}

export const sgdReference: ReferenceOptimizer<SGDOptions> = {
  name: 'SGD',
  init(n, options) {
    const state: ReferenceState = { step: 0 };
    if (options.momentum !== 0) state.momentumBuffer = new Float64Array(n);
    return state;
  },
  step(p, g, state, options) {
    state.step += 1;
    const { lr, momentum, dampening, nesterov } = options;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    if (momentum !== 0) {
      let b = state.momentumBuffer;
      if (state.step === 1 || !(b instanceof Float64Array)) {
        // torch's buffer is None until the first step and then a clone of g: no dampening.
        b = d.slice();
      } else {
        for (let i = 0; i < d.length; i++) b[i] = momentum * b[i] + (1 - dampening) * d[i];
      }
      state.momentumBuffer = b;
      for (let i = 0; i < d.length; i++) d[i] = nesterov ? d[i] + momentum * b[i] : b[i];
    }
    for (let i = 0; i < p.length; i++) p[i] -= lr * d[i];
  },
};
