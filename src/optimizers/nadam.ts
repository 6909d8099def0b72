import { nadamBody } from '../../shaders/nadam.wgsl.ts';
import { nadamMu, nadamReference, type NAdamOptions } from '../reference/nadam.ts';
import { adamFamilyChecks, check, nonNegative } from '../validate.ts';
import { defineSpec } from './spec.ts';

/**
 * NAdam, Adam with Nesterov momentum (Dozat 2016), as torch.optim.NAdam
 * (https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html):
 *
 *   mu_t = beta1*(1 - 0.5*0.96^(t*momentumDecay));   muProduct <- muProduct*mu_t (starts at 1)
 *   m, v as Adam;   D = sqrt(v/(1-beta2^t)) + eps
 *   p <- p - lr*(1-mu_t)/(1-muProduct) * g/D - lr*mu_{t+1}/(1-muProduct*mu_{t+1}) * m/D
 *
 * muProduct is host state (saved in stateDict as a number); the kernel gets the folded coefficients.
 */
export const nadamSpec = defineSpec<NAdamOptions>()({
  name: 'NAdam',
  defaults: {
    lr: 2e-3,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
    momentumDecay: 4e-3,
    maximize: false,
  },
  validate: (o) => check('NAdam', o as never, { ...adamFamilyChecks, momentumDecay: nonNegative }),
  variant: () => ({}),
  states: () => ({ expAvg: 0, expAvgSq: 0 }),
  hostState: { muProduct: 1 },
  fields: [
    'beta1',
    'beta2',
    'oneMinusBeta1',
    'oneMinusBeta2',
    'biasCorrection2',
    'eps',
    'gradCoef',
    'expAvgCoef',
    'weightDecay',
  ],
  scalars(o, state) {
    const t = (state.step += 1);
    const [beta1, beta2] = o.betas;
    const mu = nadamMu(beta1, o.momentumDecay, t);
    const muNext = nadamMu(beta1, o.momentumDecay, t + 1);
    const muProduct = (state.muProduct = state.muProduct! * mu);
    return {
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      biasCorrection2: 1 - beta2 ** t,
      eps: o.eps,
      gradCoef: (-o.lr * (1 - mu)) / (1 - muProduct),
      expAvgCoef: (-o.lr * muNext) / (1 - muProduct * muNext),
      weightDecay: o.weightDecay,
    };
  },
  body: nadamBody,
  maximize: true,
  l2: true,
  reference: nadamReference,
  testOptions: [
    { lr: 0.01 },
    {
      lr: 0.01,
      betas: [0.8, 0.99],
      momentumDecay: 0.1,
      eps: 1e-4,
      weightDecay: 0.1,
      maximize: true,
    },
  ],
});
