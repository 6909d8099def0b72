import {
  checkNonNegative,
  checkPositiveInt,
  LRScheduler,
  type LRSchedulerOptions,
} from './scheduler';
import type { Schedulable, SchedulableGroup } from './scheduler';

export interface StepLROptions extends LRSchedulerOptions {
  /** Epochs between decays (required). */
  stepSize: number;
  /** Multiplicative decay [0.1]. */
  gamma?: number;
}

/**
 * Decays the lr by `gamma` every `stepSize` epochs: `lr = b * gamma^floor(e / stepSize)`.
 * PyTorch: torch.optim.lr_scheduler.StepLR.
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: StepLROptions) {
    super(optimizer, 'StepLR', options.lastEpoch);
    this.stepSize = checkPositiveInt('StepLR', 'stepSize', options.stepSize);
    this.gamma = checkNonNegative('StepLR', 'gamma', options.gamma ?? 0.1);
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
