/** Learning-rate schedulers after torch.optim.lr_scheduler; they write `paramGroups[i].lr`. */
export { LRScheduler } from './scheduler';
export type {
  LRSchedulerOptions,
  Schedulable,
  SchedulableGroup,
  Scheduler,
  SchedulerStateDict,
  StateObject,
  StateValue,
} from './scheduler';
export { StepLR, type StepLROptions } from './step-lr';
export { MultiStepLR, type MultiStepLROptions } from './multi-step-lr';
export { ExponentialLR, type ExponentialLROptions } from './exponential-lr';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine-annealing-lr';
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from './cosine-annealing-warm-restarts';
export { LinearLR, type LinearLROptions } from './linear-lr';
export { PolynomialLR, type PolynomialLROptions } from './polynomial-lr';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle-lr';
export { InverseTimeLR, type InverseTimeLROptions } from './inverse-time-lr';
export { LambdaLR, type LambdaLROptions, type LrLambda } from './lambda-lr';
export { SequentialLR, type SequentialLROptions } from './sequential-lr';
export { ChainedScheduler, type ChainedSchedulerOptions } from './chained-scheduler';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau';
