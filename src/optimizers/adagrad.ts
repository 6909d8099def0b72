import { adagradBody } from '../../shaders/adagrad.wgsl.ts';
import { adagradReference, type AdagradOptions } from '../reference/adagrad.ts';
import { boolean, check, nonNegative, positive } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * Adagrad (Duchi et al. 2011), as torch.optim.Adagrad
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html):
 *
 *   clr = lr / (1 + (t-1)*lrDecay);   sum <- sum + g^2;   p <- p - clr * g / (sqrt(sum) + eps)
 *
 * `sum` starts at initialAccumulatorValue. `epsInsideSqrt: true` gives seeds 000/003's
 * `g / sqrt(sum + eps)`.
 */
export const adagradSpec = defineSpec<AdagradOptions>()({
  name: 'Adagrad',
  defaults: {
    lr: 1e-2,
    lrDecay: 0,
    weightDecay: 0,
    initialAccumulatorValue: 0,
    eps: 1e-10,
    maximize: false,
    epsInsideSqrt: false,
  },
  validate: (o) =>
    check('Adagrad', o as never, {
      lr: nonNegative,
      lrDecay: nonNegative,
      weightDecay: nonNegative,
      initialAccumulatorValue: nonNegative,
      eps: positive,
      maximize: boolean,
      epsInsideSqrt: boolean,
    }),
  variant: (o) => ({ epsInsideSqrt: o.epsInsideSqrt }),
  states: (o) => ({ sum: o.initialAccumulatorValue }),
  fields: ['clr', 'eps', 'weightDecay'],
  scalars(o, state) {
    const t = (state.step += 1);
    return { clr: o.lr / (1 + (t - 1) * o.lrDecay), eps: o.eps, weightDecay: o.weightDecay };
  },
  body: adagradBody,
  maximize: true,
  l2: true,
  reference: adagradReference,
  testOptions: [
    { lr: 0.1 },
    { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 },
    { lr: 0.28, epsInsideSqrt: true, eps: 1e-8, maximize: true },
  ],
});
