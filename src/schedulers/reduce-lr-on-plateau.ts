import type { Schedulable, SchedulerStateDict, StateValue } from './scheduler';
import {
  checkFinite,
  checkNonNegative,
  checkNonNegativeInt,
  checkSchedulable,
  fail,
  failType,
  oneOf,
  optional,
  parseOptions,
  perGroupOption,
  type Check,
} from './options';
import { checkStateDict } from './state';
import { writeUpdates } from './write';

export interface ReduceLROnPlateauOptions {
  /** Whether the metric should go down ('min') or up ('max') ['min']. */
  mode?: 'min' | 'max';
  /** lr <- lr * factor on a plateau, in [0, 1) [0.1]. */
  factor?: number;
  /** Epochs without improvement tolerated before a reduction [10]. */
  patience?: number;
  /** Improvement needed to count as better [1e-4]. */
  threshold?: number;
  /** 'rel': better than best * (1 -/+ threshold); 'abs': best -/+ threshold ['rel']. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs after a reduction during which bad epochs are not counted [0]. */
  cooldown?: number;
  /** Lower bound on the lr, one for every group or one per group [0]. */
  minLr?: number | readonly number[];
  /** Reductions smaller than eps are skipped [1e-8]. */
  eps?: number;
}

/** A number in [0, 1). */
const checkFactor: Check<number> = (owner, name, v) => {
  if (typeof v !== 'number') failType(owner, name, 'in [0, 1)', v);
  if (!(v >= 0 && v < 1)) fail(owner, name, 'in [0, 1)', v);
  return v;
};

const NAME = 'ReduceLROnPlateau';
const OPTIONS = {
  mode: optional(oneOf('min', 'max'), 'min'),
  factor: optional(checkFactor, 0.1),
  patience: optional(checkNonNegativeInt, 10),
  threshold: optional(checkNonNegative, 1e-4),
  thresholdMode: optional(oneOf('rel', 'abs'), 'rel'),
  cooldown: optional(checkNonNegativeInt, 0),
  minLr: perGroupOption(checkNonNegative, 0),
  eps: optional(checkNonNegative, 1e-8),
};

/**
 * Reduces the lr of every group by `factor` once the metric passed to `step(metric)` has not
 * improved for more than `patience` epochs: `lr <- max(lr * factor, minLr)`, skipped when the
 * change is not above `eps`; then waits `cooldown` epochs. It reads and writes the groups' current
 * lr (no base lr), so it composes with manual changes.
 * PyTorch: torch.optim.lr_scheduler.ReduceLROnPlateau.
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  /** Best metric so far; the worst value of the mode before the first step. */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: Schedulable,
    options: ReduceLROnPlateauOptions = {},
  ) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    this.mode = o.mode;
    this.thresholdMode = o.thresholdMode;
    this.factor = o.factor;
    this.patience = o.patience;
    this.threshold = o.threshold;
    this.cooldown = o.cooldown;
    this.minLrs = o.minLr;
    this.eps = o.eps;
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (1 + t) : a > best + t;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /**
   * Records one epoch's metric (e.g. the validation loss) and reduces the lr on a plateau. A
   * metric that is not a finite number throws (a NaN loss is not "no improvement"), as does a
   * reduced lr the optimizer refuses; either way nothing changes.
   */
  step(metric: number): void {
    checkFinite(NAME, 'metric', metric);
    checkSchedulable(NAME, this.optimizer);
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.minLrs.length) {
      throw new RangeError(
        `${NAME}: the optimizer has ${groups.length} param groups, the scheduler was built for ${this.minLrs.length}`,
      );
    }
    let { best, numBadEpochs, cooldownCounter } = this;
    if (this.isBetter(metric, best)) {
      best = metric;
      numBadEpochs = 0;
    } else {
      numBadEpochs++;
    }
    if (cooldownCounter > 0) {
      cooldownCounter--;
      numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    let lrs = groups.map((g) => g.lr);
    if (numBadEpochs > this.patience) {
      lrs = lrs.map((lr, i) => {
        const newLr = Math.max(lr * this.factor, this.minLrs[i]!);
        return lr - newLr > this.eps ? newLr : lr;
      });
      cooldownCounter = this.cooldown;
      numBadEpochs = 0;
    }
    writeUpdates(
      NAME,
      this.optimizer,
      lrs.map((lr) => ({ lr })),
    );
    Object.assign(this, { best, numBadEpochs, cooldownCounter, lastLr: lrs });
    this.lastEpoch++;
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** `best` is stored as a string when infinite ('Infinity'), so the dict survives JSON. */
  stateDict(): SchedulerStateDict {
    return {
      kind: NAME,
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      minLrs: this.minLrs.slice(),
      eps: this.eps,
      best: Number.isFinite(this.best) ? this.best : String(this.best),
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr.slice(),
    };
  }

  /**
   * Restores a `stateDict()`: every key, each value checked as the constructor checks it (and
   * `best` a number or 'Infinity' / '-Infinity'); on any mismatch it throws and changes nothing.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const where = `${NAME}.loadStateDict`;
    // `best` is a number or a string (when infinite): checked below, not against the current one.
    const current = { ...this.stateDict(), best: undefined as unknown as StateValue };
    const sd = checkStateDict(where, NAME, stateDict, current, ['minLrs', 'lastLr']);
    const n = this.minLrs.length;
    const byKey: Record<string, Check<unknown>> = {
      mode: oneOf('min', 'max'),
      factor: checkFactor,
      patience: checkNonNegativeInt,
      threshold: checkNonNegative,
      thresholdMode: oneOf('rel', 'abs'),
      cooldown: checkNonNegativeInt,
      eps: checkNonNegative,
      numBadEpochs: checkNonNegativeInt,
      cooldownCounter: checkNonNegativeInt,
      lastEpoch: checkNonNegativeInt,
    };
    for (const [key, check] of Object.entries(byKey)) check(where, key, sd[key]);
    for (const key of ['minLrs', 'lastLr']) OPTIONS.minLr(where, key, sd[key], n);
    const best = sd.best;
    if (
      typeof best === 'string'
        ? best !== 'Infinity' && best !== '-Infinity'
        : typeof best !== 'number' || Number.isNaN(best)
    ) {
      failType(where, 'best', "a number, 'Infinity' or '-Infinity'", best);
    }
    Object.assign(this, sd, { best: Number(best) });
  }
}
