import { radamBody } from '../../shaders/radam.wgsl.ts';
import { adamBiasCorrections } from '../reference/adam.ts';
import { radamRectification, radamReference, type RAdamOptions } from '../reference/radam.ts';
import { adamFamilyChecks, check } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * RAdam, Adam with a rectified adaptive learning rate (Liu et al. 2020), as torch.optim.RAdam
 * (https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html):
 *
 *   m, v as Adam;   mHat = m/(1-beta1^t);   rhoInf = 2/(1-beta2) - 1
 *   rhoT = rhoInf - 2*t*beta2^t/(1-beta2^t)
 *   rhoT > 5: r = sqrt((rhoT-4)(rhoT-2)rhoInf / ((rhoInf-4)(rhoInf-2)rhoT)),
 *             p <- p - lr*mHat*r*sqrt(1-beta2^t)/(sqrt(v) + eps)
 *   else:     p <- p - lr*mHat
 *
 * The branch and r are decided on the host (`rectified`), so one pipeline serves every step.
 */
export const radamSpec = defineSpec<RAdamOptions>()({
  name: 'RAdam',
  defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
  validate: (o) => check('RAdam', o as never, { ...adamFamilyChecks }),
  variant: () => ({}),
  states: () => ({ expAvg: 0, expAvgSq: 0 }),
  fields: [
    'beta1',
    'beta2',
    'oneMinusBeta1',
    'oneMinusBeta2',
    'eps',
    'rectified',
    'stepSize',
    'weightDecay',
  ],
  scalars(o, state) {
    const t = (state.step += 1);
    const [beta1, beta2] = o.betas;
    const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(beta1, beta2, t);
    const r = radamRectification(beta2, t);
    return {
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      rectified: r === null ? 0 : 1,
      stepSize:
        r === null
          ? o.lr / biasCorrection1
          : (o.lr * r * Math.sqrt(biasCorrection2)) / biasCorrection1,
      weightDecay: o.weightDecay,
    };
  },
  body: radamBody,
  maximize: true,
  l2: true,
  reference: radamReference,
  // rhoT first exceeds 5 at step 6 for both betas[1] = 0.999 and 0.9, so the suite's 20 steps
  // cover both branches.
  testOptions: [
    { lr: 0.01 },
    { lr: 0.01, betas: [0.8, 0.9], eps: 1e-4, weightDecay: 0.1, maximize: true },
  ],
});
