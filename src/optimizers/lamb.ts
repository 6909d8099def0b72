import { lambBody } from '../../shaders/lamb.wgsl.ts';
import { adamBiasCorrections } from '../reference/adam.ts';
import { lambReference, type LAMBOptions } from '../reference/lamb.ts';
import { adamFamilyChecks, check } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * LAMB (You et al. 2020, https://arxiv.org/abs/1904.00962) in NVIDIA apex FusedLAMB's form: trust
 * ratio always applied, no built-in gradient pre-clipping (use clipGradNorm before the step):
 *
 *   m, v as Adam;   u = (m/(1-beta1^t)) / (sqrt(v/(1-beta2^t)) + eps) + weightDecay*p
 *   r = ||p|| / ||u|| per tensor (1 if either norm is 0);   p <- p - lr*r*u
 *
 * Both norms are computed on the GPU (norm pass, then per-block and per-tensor sums), never read
 * back; the norm pass also stores the moments, so the update pass reads p, m and v only.
 */
export const lambSpec = defineSpec<LAMBOptions>()({
  name: 'LAMB',
  defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0.01, maximize: false },
  validate: (o) => check('LAMB', o as never, { ...adamFamilyChecks }),
  variant: () => ({}),
  states: () => ({ expAvg: 0, expAvgSq: 0 }),
  fields: [
    'lr',
    'beta1',
    'beta2',
    'oneMinusBeta1',
    'oneMinusBeta2',
    'biasCorrection1',
    'biasCorrection2',
    'eps',
    'weightDecay',
  ],
  scalars(o, state) {
    const t = (state.step += 1);
    const [beta1, beta2] = o.betas;
    const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(beta1, beta2, t);
    return {
      lr: o.lr,
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      biasCorrection1,
      biasCorrection2,
      eps: o.eps,
      weightDecay: o.weightDecay,
    };
  },
  body: lambBody,
  norms: 2,
  normStores: true,
  maximize: true,
  l2: false,
  reference: lambReference,
  testOptions: [{ lr: 0.01 }, { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0, maximize: true }],
});
