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

export interface CosineAnnealingLROptions extends LRSchedulerOptions {
  /** Half period in epochs (required). */
  tMax: number;
  /** Minimum lr [0]. */
  etaMin?: number;
}

const NAME = 'CosineAnnealingLR';
const OPTIONS = {
  tMax: required(checkPositiveInt),
  etaMin: optional(checkNonNegative, 0),
  lastEpoch: lastEpochOption,
};

/**
 * Cosine annealing without restarts (Loshchilov & Hutter 2017, SGDR):
 * `lr = etaMin + (b - etaMin) * (1 + cos(pi * e / tMax)) / 2` for every e; past `tMax` it
 * follows the cosine back up, as PyTorch. `step()` uses PyTorch's recursive form, which agrees
 * with the closed form to about 1e-15 and, like PyTorch, builds on the group's current lr.
 * PyTorch: torch.optim.lr_scheduler.CosineAnnealingLR.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Schedulable, options: CosineAnnealingLROptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.tMax = o.tMax;
    this.etaMin = o.etaMin;
    this.initialStep();
  }

  protected override chainedLr(group: SchedulableGroup, i: number): number {
    const [e, T, etaMin] = [this.lastEpoch, this.tMax, this.etaMin];
    if (this.isInitial) return group.lr;
    // PyTorch's resume branch (first step with lastEpoch > 0): nothing to recurse from.
    if (this.stepCount === 1 && e > 0) return this.closedFormLr(i, e);
    // One step past a trough, where the ratio below would divide by 1 + cos(pi) = 0.
    if ((e - 1 - T) % (2 * T) === 0) {
      return group.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
    }
    return (
      ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) *
        (group.lr - etaMin) +
      etaMin
    );
  }

  protected closedFormLr(i: number, e: number): number {
    const etaMin = this.etaMin;
    return etaMin + ((this.baseLrs[i] - etaMin) * (1 + Math.cos((Math.PI * e) / this.tMax))) / 2;
  }
}
