import { adamBody } from '../../shaders/adam.wgsl.ts';
import { adamwReference, type AdamWOptions } from '../reference/adamw.ts';
import { adamScalars, adamSpec, adamStates, validateAdam } from './adam.ts';
import { defineSpec } from './spec.ts';

/**
 * AdamW (Loshchilov & Hutter 2019), as torch.optim.AdamW
 * (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html): decoupled weight decay
 * `p <- p*(1 - lr*weightDecay)`, then Adam without L2 decay.
 */
export const adamwSpec = defineSpec<AdamWOptions>()({
  name: 'AdamW',
  defaults: { ...adamSpec.defaults, weightDecay: 1e-2 },
  validate: (o) => validateAdam('AdamW', o),
  variant: (o) => ({ amsgrad: o.amsgrad, decoupled: o.weightDecay !== 0 }),
  states: adamStates,
  fields: adamSpec.fields,
  scalars: adamScalars,
  body: adamBody,
  maximize: true,
  l2: false,
  reference: adamwReference,
  testOptions: [{ lr: 0.01 }, { lr: 0.01, amsgrad: true, weightDecay: 0.1, maximize: true }],
});
