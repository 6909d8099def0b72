import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';
import {
  checkNonNegative,
  checkNonNegativeInt,
  failType,
  lastEpochOption,
  optional,
  parseOptions,
  required,
  type Check,
} from './options';

export interface MultiStepLROptions extends LRSchedulerOptions {
  /** Epoch indices at which to decay (required; a repeated milestone decays once per copy). */
  milestones: readonly number[];
  /** Multiplicative decay [0.1]. */
  gamma?: number;
}

/** Epoch indices, returned sorted ascending. */
const checkMilestones: Check<number[]> = (owner, name, v) => {
  if (!Array.isArray(v)) failType(owner, name, 'an array of epoch indices', v);
  return v.map((m, i) => checkNonNegativeInt(owner, `${name}[${i}]`, m)).sort((a, b) => a - b);
};

const NAME = 'MultiStepLR';
const OPTIONS = {
  milestones: required(checkMilestones),
  gamma: optional(checkNonNegative, 0.1),
  lastEpoch: lastEpochOption,
};

/**
 * Decays the lr by `gamma` at each milestone: `lr = b * gamma^(number of milestones <= e)`.
 * PyTorch: torch.optim.lr_scheduler.MultiStepLR (milestones counted as a multiset).
 */
export class MultiStepLR extends LRScheduler {
  /** Sorted ascending. */
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: Schedulable, options: MultiStepLROptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.milestones = o.milestones;
    this.gamma = o.gamma;
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
