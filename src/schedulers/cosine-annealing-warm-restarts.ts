import { LRScheduler } from './scheduler';
import type {
  LRSchedulerOptions,
  Schedulable,
  SchedulableGroup,
  SchedulerStateDict,
} from './scheduler';
import {
  checkNonNegative,
  checkPositive,
  checkPositiveInt,
  lastEpochOption,
  optional,
  parseOptions,
  required,
} from './options';

export interface CosineAnnealingWarmRestartsOptions extends LRSchedulerOptions {
  /** Length of the first period, in epochs (required). */
  t0: number;
  /** Growth factor of the period after each restart, an integer >= 1 [1]. */
  tMult?: number;
  /** Minimum lr [0]. */
  etaMin?: number;
}

const NAME = 'CosineAnnealingWarmRestarts';
const OPTIONS = {
  t0: required(checkPositiveInt),
  tMult: optional(checkPositiveInt, 1),
  etaMin: optional(checkNonNegative, 0),
  lastEpoch: lastEpochOption,
};

/**
 * SGDR, cosine annealing with warm restarts (Loshchilov & Hutter 2017):
 * `lr = etaMin + (b - etaMin) * (1 + cos(pi * tCur / tI)) / 2`, where `tCur` counts epochs
 * since the last restart and the period `tI` starts at `t0` and is multiplied by `tMult` at
 * each restart. `step(epoch)` accepts a fractional epoch (`epoch + i / itersPerEpoch`), as
 * PyTorch. PyTorch: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts; one difference: the
 * period containing `epoch` is found exactly, where PyTorch's `int(log(...))` can round down
 * at an exact restart epoch.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  /** Current period. */
  tI: number;
  /** Epochs since the last restart (fractional after a fractional `step(epoch)`). */
  tCur: number;

  constructor(optimizer: Schedulable, options: CosineAnnealingWarmRestartsOptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.t0 = o.t0;
    this.tMult = o.tMult;
    this.etaMin = o.etaMin;
    this.tI = this.t0;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }

  override step(epoch?: number): void {
    if (epoch !== undefined) checkNonNegative(NAME, 'epoch', epoch);
    this.transaction(() => this.advance(epoch));
  }

  private advance(epoch: number | undefined): void {
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur %= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      [this.tCur, this.tI] = this.position(epoch);
    }
    this.lastEpoch = Math.floor(epoch);
    this.stepCount++;
    this.write(false);
  }

  protected override checkState(where: string, sd: SchedulerStateDict): void {
    checkNonNegative(where, 'tCur', sd.tCur);
    checkPositive(where, 'tI', sd.tI);
  }

  /** [tCur, tI] at `epoch`. */
  private position(epoch: number): [number, number] {
    const [t0, m] = [this.t0, this.tMult];
    if (epoch < t0) return [epoch, t0];
    if (m === 1) return [epoch % t0, t0];
    // Restart n happens at t0 * (m^n - 1) / (m - 1); start from the log, then correct it.
    const start = (k: number) => (t0 * (m ** k - 1)) / (m - 1);
    let n = Math.floor(Math.log((epoch / t0) * (m - 1) + 1) / Math.log(m));
    while (start(n + 1) <= epoch) n++;
    while (n > 0 && start(n) > epoch) n--;
    return [epoch - start(n), t0 * m ** n];
  }

  protected override chainedLr(_group: SchedulableGroup, i: number): number {
    return this.lr(i, this.tCur, this.tI);
  }

  private lr(i: number, tCur: number, tI: number): number {
    const etaMin = this.etaMin;
    return etaMin + ((this.baseLrs[i] - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  }

  protected closedFormLr(i: number, e: number): number {
    return this.lr(i, ...this.position(e));
  }
}
