import { checkNonNegative, checkNonNegativeInt, fail, perGroup } from './scheduler';
import type { Schedulable, SchedulerStateDict } from './scheduler';

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
    const name = 'ReduceLROnPlateau';
    const o = options;
    const mode = o.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') fail(name, 'mode', "'min' or 'max'", mode);
    const thresholdMode = o.thresholdMode ?? 'rel';
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') {
      fail(name, 'thresholdMode', "'rel' or 'abs'", thresholdMode);
    }
    this.mode = mode;
    this.thresholdMode = thresholdMode;
    this.factor = o.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1)) fail(name, 'factor', 'in [0, 1)', this.factor);
    this.patience = checkNonNegativeInt(name, 'patience', o.patience ?? 10);
    this.threshold = checkNonNegative(name, 'threshold', o.threshold ?? 1e-4);
    this.cooldown = checkNonNegativeInt(name, 'cooldown', o.cooldown ?? 0);
    const groups = optimizer.paramGroups.length;
    this.minLrs = perGroup(name, 'minLr', o.minLr ?? 0, groups, checkNonNegative);
    this.eps = checkNonNegative(name, 'eps', o.eps ?? 1e-8);
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

  /** Records one epoch's metric (e.g. the validation loss) and reduces the lr on a plateau. */
  step(metric: number): void {
    if (typeof metric !== 'number') fail('ReduceLROnPlateau', 'metric', 'a number', metric);
    this.lastEpoch++;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.inCooldown) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.optimizer.paramGroups.forEach((g, i) => (this.lastLr[i] = g.lr));
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
      if (g.lr - newLr > this.eps) g.lr = newLr;
    });
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** `best` is stored as a string when infinite ('Infinity'), so the dict survives JSON. */
  stateDict(): SchedulerStateDict {
    return {
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

  loadStateDict(sd: SchedulerStateDict): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(sd)) {
      if (key === 'optimizer' || !Object.hasOwn(self, key)) {
        throw new TypeError(`ReduceLROnPlateau.loadStateDict: unknown key '${key}'`);
      }
      self[key] = key === 'best' ? Number(value) : structuredClone(value);
    }
  }
}
