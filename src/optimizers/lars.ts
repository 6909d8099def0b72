import { larsBody } from '../../shaders/lars.wgsl.ts';
import { larsReference, type LARSOptions } from '../reference/lars.ts';
import { boolean, check, nonNegative } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * LARS (You et al. 2017, https://arxiv.org/abs/1708.03888), weight decay inside the rule:
 *
 *   local = trustCoefficient*||p|| / (||g|| + weightDecay*||p||) per tensor (1 if either norm is 0)
 *   b <- momentum*b + local*(g + weightDecay*p)   (b starts at 0, excludes lr);   p <- p - lr*b
 *
 * `lr` has no default, as in the paper's reference implementations: it must be given.
 */
export const larsSpec = defineSpec<LARSOptions>()({
  name: 'LARS',
  defaults: { lr: NaN, momentum: 0.9, weightDecay: 0, trustCoefficient: 1e-3, maximize: false },
  validate(o) {
    if (Number.isNaN(o.lr)) throw new RangeError('LARS: lr is required (no default), got NaN');
    check('LARS', o as never, {
      lr: nonNegative,
      momentum: nonNegative,
      weightDecay: nonNegative,
      trustCoefficient: nonNegative,
      maximize: boolean,
    });
  },
  variant: () => ({}),
  states: () => ({ momentumBuffer: 0 }),
  fields: ['lr', 'momentum', 'weightDecay', 'trustCoefficient'],
  scalars(o, state) {
    state.step += 1;
    return {
      lr: o.lr,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
      trustCoefficient: o.trustCoefficient,
    };
  },
  body: larsBody,
  norms: 2,
  maximize: true,
  l2: false,
  reference: larsReference,
  testOptions: [
    { lr: 0.1 },
    { lr: 0.5, momentum: 0.5, weightDecay: 0.01, trustCoefficient: 0.02, maximize: true },
  ],
});
