import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';
import {
  checkNonNegative,
  checkPositiveInt,
  lastEpochOption,
  optional,
  parseOptions,
} from './options';

export interface PolynomialLROptions extends LRSchedulerOptions {
  /** Epochs until the lr reaches 0 [5]. */
  totalIters?: number;
  /** Exponent [1]. */
  power?: number;
}

const NAME = 'PolynomialLR';
const OPTIONS = {
  totalIters: optional(checkPositiveInt, 5),
  power: optional(checkNonNegative, 1),
  lastEpoch: lastEpochOption,
};

/**
 * Polynomial decay to zero: `lr = b * (1 - min(e, totalIters) / totalIters)^power`.
 * PyTorch: torch.optim.lr_scheduler.PolynomialLR.
 */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;

  constructor(optimizer: Schedulable, options: PolynomialLROptions = {}) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.totalIters = o.totalIters;
    this.power = o.power;
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    const [e, n] = [this.lastEpoch, this.totalIters];
    if (this.isInitial || e > n) return group.lr;
    return group.lr * ((1 - e / n) / (1 - (e - 1) / n)) ** this.power;
  }

  protected closedFormLr(i: number, e: number): number {
    return this.baseLrs[i] * (1 - Math.min(this.totalIters, e) / this.totalIters) ** this.power;
  }
}
