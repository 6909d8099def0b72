import { checkNonNegative, LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';

export interface ExponentialLROptions extends LRSchedulerOptions {
  /** Multiplicative decay per epoch (required). */
  gamma: number;
}

/**
 * Decays the lr by `gamma` every epoch: `lr = b * gamma^e` (the seed article's `a0*e^(-k*t)`
 * is `gamma = e^(-k)`). PyTorch: torch.optim.lr_scheduler.ExponentialLR.
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: ExponentialLROptions) {
    super(optimizer, 'ExponentialLR', options.lastEpoch);
    this.gamma = checkNonNegative('ExponentialLR', 'gamma', options.gamma);
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    return this.isInitial ? group.lr : group.lr * this.gamma;
  }

  protected closedFormLr(i: number, e: number): number {
    return this.baseLrs[i] * this.gamma ** e;
  }
}
