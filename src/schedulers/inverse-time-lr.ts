import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';
import { checkNonNegative, lastEpochOption, parseOptions, required } from './options';

export interface InverseTimeLROptions extends LRSchedulerOptions {
  /** k in `b / (1 + k*e)` (required). */
  decayRate: number;
}

const NAME = 'InverseTimeLR';
const OPTIONS = { decayRate: required(checkNonNegative), lastEpoch: lastEpochOption };

/**
 * 1/t decay: `lr = b / (1 + decayRate * e)`. Not in PyTorch: TensorFlow's
 * `inverse_time_decay` with `decay_steps = 1` and `staircase = false`; the seed article's
 * `a0 / (1 + decayRate * epoch)`. `step()` uses the chainable form
 * `lr * (1 + k*(e-1)) / (1 + k*e)`, like the PyTorch schedules, so it composes.
 */
export class InverseTimeLR extends LRScheduler {
  readonly decayRate: number;

  constructor(optimizer: Schedulable, options: InverseTimeLROptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.decayRate = o.decayRate;
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup): number {
    const [e, k] = [this.lastEpoch, this.decayRate];
    return this.isInitial ? group.lr : (group.lr * (1 + k * (e - 1))) / (1 + k * e);
  }

  protected closedFormLr(i: number, e: number): number {
    return this.baseLrs[i] / (1 + this.decayRate * e);
  }
}
