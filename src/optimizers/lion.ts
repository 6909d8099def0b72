import { lionBody } from '../../shaders/lion.wgsl.ts';
import { lionReference, type LionOptions } from '../reference/lion.ts';
import { betas, boolean, check, nonNegative } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms",
 * https://arxiv.org/abs/2302.06675, Algorithm 2), decoupled weight decay:
 *
 *   c = beta1*m + (1-beta1)*g;   p <- p*(1 - lr*weightDecay) - lr*sign(c)   (sign(0) = 0)
 *   m <- beta2*m + (1-beta2)*g
 */
export const lionSpec = defineSpec<LionOptions>()({
  name: 'Lion',
  defaults: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false },
  validate: (o) =>
    check('Lion', o as never, {
      lr: nonNegative,
      betas,
      weightDecay: nonNegative,
      maximize: boolean,
    }),
  variant: () => ({}),
  states: () => ({ expAvg: 0 }),
  fields: ['lr', 'beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'decay'],
  scalars(o, state) {
    state.step += 1;
    const [beta1, beta2] = o.betas;
    return {
      lr: o.lr,
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      decay: 1 - o.lr * o.weightDecay,
    };
  },
  body: lionBody,
  maximize: true,
  l2: false,
  reference: lionReference,
  testOptions: [
    { lr: 1e-3, betas: [0.8, 0.9] },
    { lr: 1e-3, weightDecay: 0.1, maximize: true },
  ],
});
