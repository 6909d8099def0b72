import { adoptBody } from '../../shaders/adopt.wgsl.ts';
import { adoptReference, type ADOPTOptions } from '../reference/adopt.ts';
import { adamFamilyChecks, boolean, check } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * ADOPT, adaptive gradient method that converges with any beta2 (Taniguchi et al., NeurIPS
 * 2024, https://arxiv.org/abs/2411.02853), as iShohei220/adopt with clip_lambda = step^0.25:
 *
 *   first step: v <- g^2 (no update);  then n = clamp(g/max(sqrt(v), eps), +-(t-1)^0.25)
 *   m <- lerp(m, n, 1-beta1);  p <- p - lr*m;  v <- beta2*v + (1-beta2)*g^2
 *
 * Weight decay is L2 (`g += weightDecay*p`), or with `decouple` AdamW-style `p -= lr*wd*p`.
 */
export const adoptSpec = defineSpec<ADOPTOptions>()({
  name: 'ADOPT',
  defaults: {
    lr: 1e-3,
    betas: [0.9, 0.9999],
    eps: 1e-6,
    weightDecay: 0,
    decouple: false,
    maximize: false,
  },
  validate: (o) => check('ADOPT', o as never, { ...adamFamilyChecks, decouple: boolean }),
  variant: (o) => ({ decouple: o.decouple && o.weightDecay !== 0 }),
  states: () => ({ expAvg: 0, expAvgSq: 0 }),
  fields: [
    'first',
    'negLr',
    'decayCoef',
    'beta1',
    'oneMinusBeta1',
    'beta2',
    'oneMinusBeta2',
    'eps',
    'clip',
    'weightDecay',
  ],
  scalars(o, state) {
    const before = state.step;
    state.step += 1;
    const [beta1, beta2] = o.betas;
    return {
      first: before === 0 ? 1 : 0,
      negLr: -o.lr,
      decayCoef: -o.lr * o.weightDecay,
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      clip: before ** 0.25,
      weightDecay: o.weightDecay,
    };
  },
  body: adoptBody,
  maximize: true,
  l2: true,
  usesL2: (o) => !o.decouple,
  reference: adoptReference,
  // g/max(sqrt(v), eps) divides by the previous gradient's magnitude: where L2 decay nearly
  // cancels that gradient (g + weightDecay*p ~ 0), float32's rounding of the sum is amplified
  // in the quotient until the clip bounds it (5.6x the default bound seen at step 2 for
  // weightDecay 0.1 on uniform data; torch's float32 has the same sensitivity).
  accuracyFactor: 8,
  testOptions: [
    { lr: 0.01 },
    { lr: 0.01, betas: [0.3, 0.99], weightDecay: 0.1, maximize: true },
    { lr: 0.01, weightDecay: 0.1, decouple: true },
  ],
});
