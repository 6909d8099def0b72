import { scheduleFreeBody, scheduleFreeModeBody } from '../../shaders/schedule-free.wgsl.ts';
import {
  adamwScheduleFreeReference,
  scheduleFreeStep,
  sgdScheduleFreeReference,
  type AdamWScheduleFreeOptions,
  type SGDScheduleFreeOptions,
} from '../reference/schedule-free.ts';
import { betas, check, nonNegative, positive, unitInterval } from '../validate.ts';
import { defineSpec } from './spec.ts';

/** Options both schedule-free rules share, with their checks. */
const scheduleChecks = {
  lr: nonNegative,
  weightDecay: nonNegative,
  warmupSteps: nonNegativeInteger,
  r: nonNegative,
  weightLrPower: nonNegative,
};

function nonNegativeInteger(owner: string, name: string, v: unknown): void {
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw new RangeError(`${owner}: ${name} must be a non-negative integer, got ${String(v)}`);
}

/** Scalars both rules' kernels read. */
const sharedFields = [
  'first',
  'lr',
  'ckp1',
  'yCoef',
  'weightDecay',
  'evalWeight',
  'trainWeight',
] as const;

/**
 * Schedule-Free AdamW (Defazio et al. 2024, https://arxiv.org/abs/2405.15682), as
 * facebookresearch/schedule_free's AdamWScheduleFree: no lr schedule needed; p holds y while
 * training, `opt.eval()` / `opt.train()` switch it to x and back on the GPU (steps are refused
 * in eval mode). k, weightSum and lrMax are host state in float64 (saved as step, weightSum,
 * lrMax); see src/reference/schedule-free.ts for the rule.
 */
export const adamwScheduleFreeSpec = defineSpec<AdamWScheduleFreeOptions>()({
  name: 'AdamWScheduleFree',
  defaults: {
    lr: 0.0025,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
    warmupSteps: 0,
    r: 0,
    weightLrPower: 2,
  },
  validate: (o) =>
    check('AdamWScheduleFree', o as never, { ...scheduleChecks, betas, eps: positive }),
  variant: (o) => ({ adam: true, decay: o.weightDecay !== 0 }),
  states: () => ({ z: 0, expAvgSq: 0 }),
  hostState: { weightSum: 0, lrMax: -1 },
  fresh: { first: 'z' },
  fields: [...sharedFields, 'beta2', 'oneMinusBeta2', 'eps'],
  scalars(o, state) {
    const [beta1, beta2] = o.betas;
    const { lr, ckp1 } = scheduleFreeStep(state, o, (k) => Math.sqrt(1 - beta2 ** (k + 1)));
    return {
      lr,
      ckp1,
      yCoef: lr * (beta1 * (1 - ckp1) - 1),
      beta2,
      oneMinusBeta2: 1 - beta2,
      eps: o.eps,
      weightDecay: o.weightDecay,
      evalWeight: 1 - 1 / beta1,
      trainWeight: 1 - beta1,
    };
  },
  body: scheduleFreeBody,
  modes: { eval: scheduleFreeModeBody('eval'), train: scheduleFreeModeBody('train') },
  maximize: false,
  l2: false,
  reference: adamwScheduleFreeReference,
  testOptions: [
    { lr: 0.01 },
    { lr: 0.02, betas: [0.8, 0.99], weightDecay: 0.1, warmupSteps: 5, r: 0.5, weightLrPower: 1 },
  ],
});

/**
 * Schedule-Free SGD (Defazio et al. 2024), as facebookresearch/schedule_free's SGDScheduleFree:
 * L2 decay at y, then the schedule-free interpolation with `momentum` as beta. Modes as
 * AdamWScheduleFree.
 */
export const sgdScheduleFreeSpec = defineSpec<SGDScheduleFreeOptions>()({
  name: 'SGDScheduleFree',
  defaults: { lr: 1.0, momentum: 0.9, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 },
  validate: (o) => {
    check('SGDScheduleFree', o as never, { ...scheduleChecks, momentum: unitInterval });
    if (o.momentum === 0)
      throw new RangeError(
        'SGDScheduleFree: momentum must be in (0, 1), got 0 (eval() divides by it)',
      );
  },
  variant: () => ({ adam: false, decay: false }),
  states: () => ({ z: 0 }),
  hostState: { weightSum: 0, lrMax: -1 },
  fresh: { first: 'z' },
  fields: sharedFields,
  scalars(o, state) {
    const { lr, ckp1 } = scheduleFreeStep(state, o, () => 1);
    return {
      lr,
      ckp1,
      yCoef: lr * (o.momentum * (1 - ckp1) - 1),
      weightDecay: o.weightDecay,
      evalWeight: 1 - 1 / o.momentum,
      trainWeight: 1 - o.momentum,
    };
  },
  body: scheduleFreeBody,
  modes: { eval: scheduleFreeModeBody('eval'), train: scheduleFreeModeBody('train') },
  maximize: false,
  l2: true,
  reference: sgdScheduleFreeReference,
  testOptions: [
    { lr: 0.1 },
    { lr: 0.2, momentum: 0.5, weightDecay: 0.05, warmupSteps: 4, r: 1, weightLrPower: 0 },
  ],
});
