import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';
import { checkNonNegative, lastEpochOption, parseOptions, required } from './options';

export interface ExponentialLROptions extends LRSchedulerOptions {
  /** Multiplicative decay per epoch (required). */
  gamma: number;
}

const NAME = 'ExponentialLR';
const OPTIONS = { gamma: required(checkNonNegative), lastEpoch: lastEpochOption };

/**
 * Decays the lr by `gamma` every epoch: `lr = b * gamma^e` (the seed article's `a0*e^(-k*t)`
 * is `gamma = e^(-k)`). PyTorch: torch.optim.lr_scheduler.ExponentialLR.
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: ExponentialLROptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.gamma = o.gamma;
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    return this.isInitial ? group.lr : group.lr * this.gamma;
  }

  protected closedFormLr(i: number, e: number): number {
    return this.baseLrs[i] * this.gamma ** e;
  }
}
