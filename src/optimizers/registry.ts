import { Optimizer, type OptimizerOptions, type ParamGroupInput } from '../optimizer.ts';
import type { Parameter } from '../parameter.ts';
import { adadeltaSpec } from './adadelta.ts';
import { adagradSpec } from './adagrad.ts';
import { adamSpec } from './adam.ts';
import { adamaxSpec } from './adamax.ts';
import { adamwSpec } from './adamw.ts';
import { lionSpec } from './lion.ts';
import { nadamSpec } from './nadam.ts';
import { radamSpec } from './radam.ts';
import { rmspropSpec } from './rmsprop.ts';
import { lambSpec } from './lamb.ts';
import { larsSpec } from './lars.ts';
import { sgdSpec } from './sgd.ts';
import { adoptSpec } from './adopt.ts';
import { adafactorSpec } from './adafactor.ts';
import { muonSpec } from './muon.ts';
import { adamwScheduleFreeSpec, sgdScheduleFreeSpec } from './schedule-free.ts';
import type { OptimizerSpec } from './spec.ts';

/** Every optimizer the engine runs, by its torch.optim name. Tests and the benchmark iterate it. */
export const optimizerSpecs = {
  SGD: sgdSpec,
  Adam: adamSpec,
  AdamW: adamwSpec,
  Adagrad: adagradSpec,
  Adadelta: adadeltaSpec,
  RMSprop: rmspropSpec,
  Adamax: adamaxSpec,
  NAdam: nadamSpec,
  RAdam: radamSpec,
  Lion: lionSpec,
  LAMB: lambSpec,
  LARS: larsSpec,
  AdamWScheduleFree: adamwScheduleFreeSpec,
  SGDScheduleFree: sgdScheduleFreeSpec,
  ADOPT: adoptSpec,
  Adafactor: adafactorSpec,
  Muon: muonSpec,
} as const;

export type OptimizerName = keyof typeof optimizerSpecs;

type OptionsOf<S> = S extends { readonly defaults: infer O extends object } ? O : never;

/** A constructor `new X(params, options?)` with the spec's options, named after the optimizer. */
export type OptimizerClass<O extends object> = new (
  params: Parameter[] | ParamGroupInput<O>[],
  options?: Partial<O> & OptimizerOptions,
) => Optimizer<O>;

export function optimizerClass<O extends object>(spec: OptimizerSpec<O>): OptimizerClass<O> {
  const cls = class extends Optimizer<O> {
    constructor(
      params: Parameter[] | ParamGroupInput<O>[],
      options: Partial<O> & OptimizerOptions = {},
    ) {
      super(spec, params, options);
    }
  };
  Object.defineProperty(cls, 'name', { value: spec.name });
  return cls;
}

/** The public optimizer classes, keyed like optimizerSpecs. */
export const optimizers = Object.fromEntries(
  Object.entries(optimizerSpecs).map(([name, spec]) => [
    name,
    optimizerClass(spec as OptimizerSpec<object>),
  ]),
) as { [K in OptimizerName]: OptimizerClass<OptionsOf<(typeof optimizerSpecs)[K]>> };
