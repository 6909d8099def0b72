import { adamBody } from '../../shaders/adam.wgsl.ts';
import { adamBiasCorrections, adamReference, type AdamOptions } from '../reference/adam.ts';
import { adamFamilyChecks, boolean, check } from '../validate.ts';
import { defineSpec, type HostState } from './spec.ts';

/** The scalars Adam and AdamW kernels read (their one list: WGSL struct and host row). */
const adamFields = [
  'beta1',
  'beta2',
  'oneMinusBeta1',
  'oneMinusBeta2',
  'stepSize',
  'biasCorrection2Sqrt',
  'eps',
  'weightDecay',
  'decay',
] as const;

export type AdamField = (typeof adamFields)[number];

/**
 * Adam (Kingma & Ba 2015) with AMSGrad (Reddi et al. 2018), as torch.optim.Adam
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html):
 *
 *   m <- beta1*m + (1-beta1)*g;   v <- beta2*v + (1-beta2)*g^2;   amsgrad: vMax <- max(vMax, v)
 *   p <- p - (lr/(1-beta1^t)) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
 */
export const adamSpec = defineSpec<AdamOptions>()({
  name: 'Adam',
  defaults: {
    lr: 1e-3,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
  },
  validate: (o) => validateAdam('Adam', o),
  variant: (o) => ({ amsgrad: o.amsgrad, decoupled: false }),
  states: adamStates,
  fields: adamFields,
  scalars: adamScalars,
  body: adamBody,
  maximize: true,
  l2: true,
  reference: adamReference,
  testOptions: [
    { lr: 0.01 },
    { lr: 0.01, amsgrad: true },
    { lr: 0.01, betas: [0.5, 0.9], weightDecay: 0.1, maximize: true },
  ],
});

/** Option checks shared by Adam and AdamW. */
export function validateAdam(name: string, o: AdamOptions): void {
  check(name, o as never, { ...adamFamilyChecks, amsgrad: boolean });
}

export function adamStates(o: AdamOptions): Record<string, number> {
  return o.amsgrad ? { expAvg: 0, expAvgSq: 0, maxExpAvgSq: 0 } : { expAvg: 0, expAvgSq: 0 };
}

/** Host float64 scalars of step t (Adam and AdamW; `decay` = 1 - lr*weightDecay is AdamW's). */
export function adamScalars(o: AdamOptions, state: HostState): Record<AdamField, number> {
  const t = (state.step += 1);
  const [beta1, beta2] = o.betas;
  const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(beta1, beta2, t);
  return {
    beta1,
    beta2,
    oneMinusBeta1: 1 - beta1,
    oneMinusBeta2: 1 - beta2,
    stepSize: o.lr / biasCorrection1,
    biasCorrection2Sqrt: Math.sqrt(biasCorrection2),
    eps: o.eps,
    weightDecay: o.weightDecay,
    decay: 1 - o.lr * o.weightDecay,
  };
}
