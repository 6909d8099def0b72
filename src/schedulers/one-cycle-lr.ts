import {
  checkFinite,
  checkInterval,
  checkNonNegative,
  checkPositive,
  checkPositiveInt,
  fail,
} from './scheduler';
import { LRScheduler, perGroup } from './scheduler';
import type { LRSchedulerOptions, Schedulable, SchedulableGroup } from './scheduler';

export interface OneCycleLROptions extends LRSchedulerOptions {
  /** Peak lr, one for every group or one per group (required). */
  maxLr: number | readonly number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr [0.3]. */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle `momentum` (or `betas[0]`) inversely to the lr [true]. */
  cycleMomentum?: boolean;
  baseMomentum?: number | readonly number[];
  maxMomentum?: number | readonly number[];
  /** Initial lr = maxLr / divFactor [25]. */
  divFactor?: number;
  /** Minimum lr = initial lr / finalDivFactor [1e4]. */
  finalDivFactor?: number;
  /** Third phase annihilating the lr, as fastai, instead of two phases [false]. */
  threePhase?: boolean;
}

type LrKey = 'initial' | 'max' | 'min';
type MomentumKey = 'base' | 'max';
interface Phase {
  endStep: number;
  startLr: LrKey;
  endLr: LrKey;
  startMomentum: MomentumKey;
  endMomentum: MomentumKey;
}

/**
 * The 1cycle policy (Smith & Topin 2018). Two phases: over the first `pctStart * totalSteps - 1`
 * steps the lr anneals from `maxLr / divFactor` up to `maxLr` while the momentum anneals from
 * `maxMomentum` down to `baseMomentum`; then the lr anneals down to
 * `maxLr / divFactor / finalDivFactor` at step `totalSteps - 1` and the momentum back up.
 * `threePhase` goes back to the initial lr at `2 * pctStart * totalSteps - 2`, then down to the
 * minimum. Annealing from a to b at fraction p: cos `b + (a - b) * (1 + cos(pi * p)) / 2`,
 * linear `a + (b - a) * p`. The momentum is the group's `momentum` if it has one, else
 * `betas[0]` (a new `[beta1, beta2]` tuple). Stepping past `totalSteps` throws, as PyTorch.
 * PyTorch: torch.optim.lr_scheduler.OneCycleLR; the per-group max/min lr and momenta live in
 * the scheduler (and its state dict), not in the param groups.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  readonly phases: Phase[];
  readonly maxLrs: number[];
  readonly minLrs: number[];
  readonly maxMomentums: number[];
  readonly baseMomentums: number[];
  /** Per group, whether the momentum is `betas[0]` rather than `momentum`. */
  readonly useBeta1: boolean[];

  constructor(optimizer: Schedulable, options: OneCycleLROptions) {
    super(optimizer, 'OneCycleLR', options.lastEpoch);
    const name = 'OneCycleLR';
    const o = options;
    const groups = optimizer.paramGroups;
    if (o.totalSteps !== undefined) {
      this.totalSteps = checkPositiveInt(name, 'totalSteps', o.totalSteps);
    } else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      this.totalSteps =
        checkPositiveInt(name, 'epochs', o.epochs) *
        checkPositiveInt(name, 'stepsPerEpoch', o.stepsPerEpoch);
    } else {
      throw new RangeError(`${name}: give totalSteps, or epochs and stepsPerEpoch`);
    }
    const pct = checkInterval(name, 'pctStart', o.pctStart ?? 0.3, [0, 1], true);
    const strategy = o.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') {
      fail(name, 'annealStrategy', "'cos' or 'linear'", strategy);
    }
    this.annealStrategy = strategy;
    const divFactor = checkPositive(name, 'divFactor', o.divFactor ?? 25);
    const finalDivFactor = checkPositive(name, 'finalDivFactor', o.finalDivFactor ?? 1e4);
    const n = groups.length;
    this.maxLrs = perGroup(name, 'maxLr', o.maxLr, n, checkPositive);
    // PyTorch overwrites initial_lr even when the group already has one.
    this.baseLrs = this.maxLrs.map((m) => m / divFactor);
    this.minLrs = this.baseLrs.map((b) => b / finalDivFactor);
    if (this.lastEpoch === -1) groups.forEach((g, i) => (g.initialLr = this.baseLrs[i]));

    const T = this.totalSteps;
    const up: Phase = {
      endStep: pct * T - 1,
      startLr: 'initial',
      endLr: 'max',
      startMomentum: 'max',
      endMomentum: 'base',
    };
    this.phases = o.threePhase
      ? [
          up,
          {
            endStep: 2 * pct * T - 2,
            startLr: 'max',
            endLr: 'initial',
            startMomentum: 'base',
            endMomentum: 'max',
          },
          {
            endStep: T - 1,
            startLr: 'initial',
            endLr: 'min',
            startMomentum: 'max',
            endMomentum: 'max',
          },
        ]
      : [
          up,
          {
            endStep: T - 1,
            startLr: 'max',
            endLr: 'min',
            startMomentum: 'base',
            endMomentum: 'max',
          },
        ];

    this.cycleMomentum = o.cycleMomentum ?? true;
    this.maxMomentums = perGroup(name, 'maxMomentum', o.maxMomentum ?? 0.95, n, checkFinite);
    this.baseMomentums = perGroup(name, 'baseMomentum', o.baseMomentum ?? 0.85, n, checkFinite);
    this.useBeta1 = groups.map((g, i) => {
      if (!this.cycleMomentum || typeof g.momentum === 'number') return false;
      if (Array.isArray(g.betas)) return true;
      throw new RangeError(
        `${name}: cycleMomentum needs paramGroups[${i}] to have momentum or betas (or pass cycleMomentum: false)`,
      );
    });
    if (this.cycleMomentum && this.lastEpoch === -1) {
      groups.forEach((g, i) => this.writeMomentum(g, i, this.maxMomentums[i]));
    }
    this.initialStep();
  }

  /** `step(epoch)` evaluates the schedule at `epoch` (PyTorch has no closed form here, so uses get_lr). */
  override step(epoch?: number): void {
    if (epoch !== undefined) checkNonNegative('OneCycleLR', 'epoch', epoch);
    const next = epoch ?? this.lastEpoch + 1;
    if (next > this.totalSteps) {
      throw new RangeError(
        `OneCycleLR: tried to step ${next} times; the specified number of total steps is ${this.totalSteps}`,
      );
    }
    this.lastEpoch = next - 1;
    super.step();
  }

  /** PyTorch's get_lr, which also writes the momentum. */
  protected override chainedLr(group: SchedulableGroup, i: number): number {
    const [phase, pct] = this.locate(this.lastEpoch);
    if (this.cycleMomentum) {
      const of = (k: MomentumKey) => (k === 'max' ? this.maxMomentums[i] : this.baseMomentums[i]);
      this.writeMomentum(
        group,
        i,
        this.anneal(of(phase.startMomentum), of(phase.endMomentum), pct),
      );
    }
    return this.anneal(this.lrOf(i, phase.startLr), this.lrOf(i, phase.endLr), pct);
  }

  protected closedFormLr(i: number, e: number): number {
    const [phase, pct] = this.locate(e);
    return this.anneal(this.lrOf(i, phase.startLr), this.lrOf(i, phase.endLr), pct);
  }

  /** The phase containing step e (the last one past its end) and the fraction of it done. */
  private locate(e: number): [Phase, number] {
    const last = this.phases.length - 1;
    let k = 0;
    while (k < last && e > this.phases[k].endStep) k++;
    const start = k === 0 ? 0 : this.phases[k - 1].endStep;
    return [this.phases[k], (e - start) / (this.phases[k].endStep - start)];
  }

  private anneal(from: number, to: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (to - from) * pct + from;
    return to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  private lrOf(i: number, key: LrKey): number {
    return key === 'initial' ? this.baseLrs[i] : key === 'max' ? this.maxLrs[i] : this.minLrs[i];
  }

  private writeMomentum(group: SchedulableGroup, i: number, m: number): void {
    if (this.useBeta1[i]) group.betas = [m, group.betas![1]];
    else group.momentum = m;
  }
}
