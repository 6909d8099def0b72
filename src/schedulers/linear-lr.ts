import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';
import { checkPositiveInt, interval, lastEpochOption, optional, parseOptions } from './options';

export interface LinearLROptions extends LRSchedulerOptions {
  /** Factor at epoch 0, in (0, 1] [1/3]. */
  startFactor?: number;
  /** Factor from `totalIters` on, in [0, 1] [1]. */
  endFactor?: number;
  /** Epochs of the ramp [5]. */
  totalIters?: number;
}

const NAME = 'LinearLR';
const OPTIONS = {
  startFactor: optional(interval(0, 1), 1 / 3),
  endFactor: optional(interval(0, 1, true), 1),
  totalIters: optional(checkPositiveInt, 5),
  lastEpoch: lastEpochOption,
};

/**
 * Linear ramp of the lr factor (warm-up, or linear decay):
 * `lr = b * (startFactor + (endFactor - startFactor) * min(e, totalIters) / totalIters)`.
 * PyTorch: torch.optim.lr_scheduler.LinearLR (same bounds on the factors).
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Schedulable, options: LinearLROptions = {}) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.startFactor = o.startFactor;
    this.endFactor = o.endFactor;
    this.totalIters = o.totalIters;
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    const [e, s, d, n] = [
      this.lastEpoch,
      this.startFactor,
      this.endFactor - this.startFactor,
      this.totalIters,
    ];
    if (e === 0) return group.lr * s;
    if (this.isInitial || e > n) return group.lr;
    return group.lr * (1 + d / (n * s + (e - 1) * d));
  }

  protected closedFormLr(i: number, e: number): number {
    const d = this.endFactor - this.startFactor;
    return (
      this.baseLrs[i] * (this.startFactor + (d * Math.min(this.totalIters, e)) / this.totalIters)
    );
  }
}
