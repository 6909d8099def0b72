import { sgdBody } from '../../shaders/sgd.wgsl.ts';
import { sgdReference, type SGDOptions } from '../reference/sgd.ts';
import { boolean, check, nonNegative } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * Stochastic gradient descent with momentum, dampening and Nesterov momentum, as torch.optim.SGD
 * (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):
 *
 *   b <- g on the buffer's first step, else b <- momentum*b + (1-dampening)*g
 *   d = nesterov ? g + momentum*b : b        (d = g without momentum)
 *   p <- p - lr*d
 *
 * Seed article 004's `v = beta*v + (1-beta)*dW` is `dampening = momentum`.
 */
export const sgdSpec = defineSpec<SGDOptions>()({
  name: 'SGD',
  defaults: {
    lr: 1e-3,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    weightDecay: 0,
    maximize: false,
  },
  validate(o) {
    check('SGD', o as never, {
      lr: nonNegative,
      momentum: nonNegative,
      dampening: nonNegative,
      weightDecay: nonNegative,
      nesterov: boolean,
      maximize: boolean,
    });
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new RangeError(
        `SGD: nesterov requires momentum > 0 and dampening = 0, got momentum ${o.momentum}, dampening ${o.dampening}`,
      );
    }
  },
  variant: (o) => ({ momentum: o.momentum !== 0, nesterov: o.nesterov }),
  states: (o): Record<string, number> => (o.momentum !== 0 ? { momentumBuffer: 0 } : {}),
  fields: ['lr', 'weightDecay', 'momentum', 'oneMinusDampening', 'first'],
  fresh: { first: 'momentumBuffer' },
  scalars(o, state) {
    state.step += 1;
    return {
      lr: o.lr,
      weightDecay: o.weightDecay,
      momentum: o.momentum,
      oneMinusDampening: 1 - o.dampening,
    };
  },
  body: sgdBody,
  maximize: true,
  l2: true,
  reference: sgdReference,
  testOptions: [
    { lr: 0.1 },
    { lr: 0.05, momentum: 0.9, dampening: 0.1 },
    { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
    { lr: 0.1, momentum: 0.5, weightDecay: 0.1, maximize: true },
  ],
});
