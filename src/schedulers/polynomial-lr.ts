import { checkNonNegative, checkPositiveInt, LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';

export interface PolynomialLROptions extends LRSchedulerOptions {
  /** Epochs until the lr reaches 0 [5]. */
  totalIters?: number;
  /** Exponent [1]. */
  power?: number;
}

/**
 * Polynomial decay to zero: `lr = b * (1 - min(e, totalIters) / totalIters)^power`.
 * PyTorch: torch.optim.lr_scheduler.PolynomialLR.
 */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;

  constructor(optimizer: Schedulable, options: PolynomialLROptions = {}) {
    super(optimizer, 'PolynomialLR', options.lastEpoch);
    this.totalIters = checkPositiveInt('PolynomialLR', 'totalIters', options.totalIters ?? 5);
    this.power = checkNonNegative('PolynomialLR', 'power', options.power ?? 1);
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
