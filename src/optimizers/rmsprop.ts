import { rmspropBody } from '../../shaders/rmsprop.wgsl.ts';
import { rmspropReference, type RMSpropOptions } from '../reference/rmsprop.ts';
import { boolean, check, nonNegative, positive, unitInterval } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * RMSprop (Hinton, lecture 6e; centered form after Graves 2013), as torch.optim.RMSprop
 * (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html):
 *
 *   sq <- alpha*sq + (1-alpha)*g^2;   centered: ga <- alpha*ga + (1-alpha)*g, avg = sqrt(sq - ga^2) + eps
 *   otherwise avg = sqrt(sq) + eps;   momentum > 0: b <- momentum*b + g/avg, p <- p - lr*b
 *   otherwise p <- p - lr*g/avg.      epsInsideSqrt: avg = sqrt(... + eps) (seeds 000/003)
 */
export const rmspropSpec = defineSpec<RMSpropOptions>()({
  name: 'RMSprop',
  defaults: {
    lr: 1e-2,
    alpha: 0.99,
    eps: 1e-8,
    weightDecay: 0,
    momentum: 0,
    centered: false,
    maximize: false,
    epsInsideSqrt: false,
  },
  validate: (o) =>
    check('RMSprop', o as never, {
      lr: nonNegative,
      alpha: unitInterval,
      eps: positive,
      weightDecay: nonNegative,
      momentum: nonNegative,
      centered: boolean,
      maximize: boolean,
      epsInsideSqrt: boolean,
    }),
  variant: (o) => ({
    centered: o.centered,
    momentum: o.momentum > 0,
    epsInsideSqrt: o.epsInsideSqrt,
  }),
  states(o) {
    const states: Record<string, number> = { squareAvg: 0 };
    if (o.momentum > 0) states.momentumBuffer = 0;
    if (o.centered) states.gradAvg = 0;
    return states;
  },
  fields: ['lr', 'alpha', 'oneMinusAlpha', 'eps', 'momentum', 'weightDecay'],
  scalars(o, state) {
    state.step += 1;
    return {
      lr: o.lr,
      alpha: o.alpha,
      oneMinusAlpha: 1 - o.alpha,
      eps: o.eps,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
    };
  },
  body: rmspropBody,
  maximize: true,
  l2: true,
  reference: rmspropReference,
  testOptions: [
    { lr: 0.01 },
    { lr: 0.01, centered: true, momentum: 0.9 },
    { lr: 0.01, momentum: 0.5, weightDecay: 0.01, maximize: true },
    { lr: 0.01, centered: true, epsInsideSqrt: true },
  ],
});
