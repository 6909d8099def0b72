/** CPU float64 references of every optimizer, the ground truth the GPU kernels are tested against. */
import { adadeltaReference } from './adadelta.ts';
import { adagradReference } from './adagrad.ts';
import { adamReference } from './adam.ts';
import { adamaxReference } from './adamax.ts';
import { adamwReference } from './adamw.ts';
import { lambReference } from './lamb.ts';
import { larsReference } from './lars.ts';
import { lionReference } from './lion.ts';
import { nadamReference } from './nadam.ts';
import { radamReference } from './radam.ts';
import { rmspropReference } from './rmsprop.ts';
import { sgdReference } from './sgd.ts';
import { adoptReference } from './adopt.ts';
import { adafactorReference } from './adafactor.ts';
import { muonReference } from './muon.ts';
import { adamwScheduleFreeReference, sgdScheduleFreeReference } from './schedule-free.ts';

export * from './adadelta.ts';
export * from './adagrad.ts';
export * from './adam.ts';
export * from './adamax.ts';
export * from './adamw.ts';
export * from './clip.ts';
export * from './gradient.ts';
export * from './lamb.ts';
export * from './lars.ts';
export * from './lion.ts';
export * from './nadam.ts';
export * from './radam.ts';
export * from './rmsprop.ts';
export * from './sgd.ts';
export * from './adopt.ts';
export * from './adafactor.ts';
export * from './muon.ts';
export * from './schedule-free.ts';
export * from './types.ts';

/** Every reference by its optimizer name (the public class name). */
export const references = {
  SGD: sgdReference,
  Adam: adamReference,
  AdamW: adamwReference,
  Adagrad: adagradReference,
  Adadelta: adadeltaReference,
  RMSprop: rmspropReference,
  Adamax: adamaxReference,
  NAdam: nadamReference,
  RAdam: radamReference,
  Lion: lionReference,
  LAMB: lambReference,
  LARS: larsReference,
  AdamWScheduleFree: adamwScheduleFreeReference,
  SGDScheduleFree: sgdScheduleFreeReference,
  ADOPT: adoptReference,
  Adafactor: adafactorReference,
  Muon: muonReference,
} as const;

/** The name of an optimizer that has a reference. */
export type ReferenceName = keyof typeof references;
export * from './random.ts';
