import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';
import {
  checkNonNegative,
  checkPositiveInt,
  lastEpochOption,
  optional,
  parseOptions,
  required,
} from './options';

export interface StepLROptions extends LRSchedulerOptions {
  /** Epochs between decays (required). */
  stepSize: number;
  /** Multiplicative decay [0.1]. */
  gamma?: number;
}

const NAME = 'StepLR';
const OPTIONS = {
  stepSize: required(checkPositiveInt),
  gamma: optional(checkNonNegative, 0.1),
  lastEpoch: lastEpochOption,
};

/**
 * Decays the lr by `gamma` every `stepSize` epochs: `lr = b * gamma^floor(e / stepSize)`.
 * PyTorch: torch.optim.lr_scheduler.StepLR.
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: StepLROptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.stepSize = o.stepSize;
    this.gamma = o.gamma;
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    const e = this.lastEpoch;
    return e === 0 || e % this.stepSize !== 0 ? group.lr : group.lr * this.gamma;
  }

  protected closedFormLr(i: number, e: number): number {
    return this.baseLrs[i] * this.gamma ** Math.floor(e / this.stepSize);
  }
}
