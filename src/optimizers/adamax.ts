import { adamaxBody } from '../../shaders/adamax.wgsl.ts';
import { adamaxReference, type AdamaxOptions } from '../reference/adamax.ts';
import { adamFamilyChecks, check } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * Adamax, Adam under the infinity norm (Kingma & Ba 2015, section 7), as torch.optim.Adamax
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html):
 *
 *   m <- beta1*m + (1-beta1)*g;   u <- max(beta2*u, |g| + eps)
 *   p <- p - (lr/(1-beta1^t)) * m/u
 */
export const adamaxSpec = defineSpec<AdamaxOptions>()({
  name: 'Adamax',
  defaults: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
  validate: (o) => check('Adamax', o as never, { ...adamFamilyChecks }),
  variant: () => ({}),
  states: () => ({ expAvg: 0, expInf: 0 }),
  fields: ['beta1', 'beta2', 'oneMinusBeta1', 'eps', 'clr', 'weightDecay'],
  scalars(o, state) {
    const t = (state.step += 1);
    const [beta1, beta2] = o.betas;
    return {
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      eps: o.eps,
      clr: o.lr / (1 - beta1 ** t),
      weightDecay: o.weightDecay,
    };
  },
  body: adamaxBody,
  maximize: true,
  l2: true,
  reference: adamaxReference,
  testOptions: [
    { lr: 0.01 },
    { lr: 0.02, betas: [0.5, 0.9], eps: 1e-3, weightDecay: 0.1, maximize: true },
  ],
});
