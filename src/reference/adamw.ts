/**
 * AdamW, Adam with decoupled weight decay (Loshchilov & Hutter 2019,
 * https://arxiv.org/abs/1711.05101), as torch.optim.AdamW
 * (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html):
 *
 *   g <- -g if maximize
 *   p <- p * (1 - lr*weightDecay)
 *   then Adam (see adam.ts) without L2 decay on g
 */
import { adamUpdate, initAdamState, type AdamOptions } from './adam.ts';
import { effectiveGradient } from './gradient.ts';
import type { ReferenceOptimizer } from './types.ts';

export type AdamWOptions = AdamOptions;

export const adamwReference: ReferenceOptimizer<AdamWOptions> = {
  name: 'AdamW',
  init: (n, options) => initAdamState(n, options.amsgrad),
  step(p, g, state, options) {
    state.step += 1;
    const d = effectiveGradient(p, g, options.maximize, 0);
    const decay = 1 - options.lr * options.weightDecay;
    for (let i = 0; i < p.length; i++) p[i] *= decay;
    adamUpdate(p, d, state, options);
  },
};
