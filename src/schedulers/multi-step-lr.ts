import { checkNonNegative, checkNonNegativeInt, fail, LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';

export interface MultiStepLROptions extends LRSchedulerOptions {
  /** Epoch indices at which to decay (required; a repeated milestone decays once per copy). */
  milestones: readonly number[];
  /** Multiplicative decay [0.1]. */
  gamma?: number;
}

/**
 * Decays the lr by `gamma` at each milestone: `lr = b * gamma^(number of milestones <= e)`.
 * PyTorch: torch.optim.lr_scheduler.MultiStepLR (milestones counted as a multiset).
 */
export class MultiStepLR extends LRScheduler {
  /** Sorted ascending. */
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: MultiStepLROptions) {
    super(optimizer, 'MultiStepLR', options.lastEpoch);
    if (!Array.isArray(options.milestones)) {
      fail('MultiStepLR', 'milestones', 'an array of epoch indices', options.milestones);
    }
    this.milestones = options.milestones
      .map((m, i) => checkNonNegativeInt('MultiStepLR', `milestones[${i}]`, m))
      .sort((a, b) => a - b);
    this.gamma = checkNonNegative('MultiStepLR', 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    let hits = 0;
    for (const m of this.milestones) if (m === this.lastEpoch) hits++;
    return hits === 0 ? group.lr : group.lr * this.gamma ** hits;
  }

  protected closedFormLr(i: number, e: number): number {
    let passed = 0;
    for (const m of this.milestones) if (m <= e) passed++;
    return this.baseLrs[i] * this.gamma ** passed;
  }
}
