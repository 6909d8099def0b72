import { adadeltaBody } from '../../shaders/adadelta.wgsl.ts';
import { adadeltaReference, type AdadeltaOptions } from '../reference/adadelta.ts';
import { boolean, check, closedUnitInterval, nonNegative, positive } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * Adadelta (Zeiler 2012), as torch.optim.Adadelta
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html):
 *
 *   sq <- rho*sq + (1-rho)*g^2;   d = sqrt(acc+eps)/sqrt(sq+eps) * g
 *   acc <- rho*acc + (1-rho)*d^2;   p <- p - lr*d
 */
export const adadeltaSpec = defineSpec<AdadeltaOptions>()({
  name: 'Adadelta',
  defaults: { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
  validate: (o) =>
    check('Adadelta', o as never, {
      lr: nonNegative,
      rho: closedUnitInterval,
      eps: positive,
      weightDecay: nonNegative,
      maximize: boolean,
    }),
  variant: () => ({}),
  states: () => ({ squareAvg: 0, accDelta: 0 }),
  fields: ['lr', 'rho', 'oneMinusRho', 'eps', 'weightDecay'],
  scalars(o, state) {
    state.step += 1;
    return { lr: o.lr, rho: o.rho, oneMinusRho: 1 - o.rho, eps: o.eps, weightDecay: o.weightDecay };
  },
  body: adadeltaBody,
  maximize: true,
  l2: true,
  reference: adadeltaReference,
  // Two square roots, a division and three products chained into accDelta each step.
  accuracyFactor: 8,
  testOptions: [{}, { lr: 0.5, rho: 0.95, eps: 1e-5, weightDecay: 0.01, maximize: true }],
});
