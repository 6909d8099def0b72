import { LRScheduler } from './scheduler';
import type {
  LRSchedulerOptions,
  Schedulable,
  SchedulableGroup,
  SchedulerStateDict,
} from './scheduler';
import {
  checkBoolean,
  checkFinite,
  checkNonNegative,
  checkPositive,
  checkPositiveInt,
  interval,
  lastEpochOption,
  maybe,
  oneOf,
  optional,
  parseOptions,
  perGroupOption,
} from './options';
import { prepareUpdate, type GroupUpdate } from './write';

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

const NAME = 'OneCycleLR';
const OPTIONS = {
  maxLr: perGroupOption(checkPositive),
  totalSteps: maybe(checkPositiveInt),
  epochs: maybe(checkPositiveInt),
  stepsPerEpoch: maybe(checkPositiveInt),
  pctStart: optional(interval(0, 1, true), 0.3),
  annealStrategy: optional(oneOf('cos', 'linear'), 'cos'),
  cycleMomentum: optional(checkBoolean, true),
  baseMomentum: perGroupOption(checkFinite, 0.85),
  maxMomentum: perGroupOption(checkFinite, 0.95),
  divFactor: optional(checkPositive, 25),
  finalDivFactor: optional(checkPositive, 1e4),
  threePhase: optional(checkBoolean, false),
  lastEpoch: lastEpochOption,
};

/**
 * The 1cycle policy (Smith & Topin 2018). Two phases: over the first `pctStart * totalSteps - 1`
 * steps the lr anneals from `maxLr / divFactor` up to `maxLr` while the momentum anneals from
 * `maxMomentum` down to `baseMomentum`; then the lr anneals down to
 * `maxLr / divFactor / finalDivFactor` at step `totalSteps - 1` and the momentum back up.
 * `threePhase` goes back to the initial lr at `2 * pctStart * totalSteps - 2`, then down to the
 * minimum. Annealing from a to b at fraction p: cos `b + (a - b) * (1 + cos(pi * p)) / 2`,
 * linear `a + (b - a) * p`. The momentum is the group's `momentum` if it has one, else
 * `betas[0]` (a new `[beta1, beta2]` tuple). Stepping past `totalSteps` throws, as PyTorch; at
 * step `totalSteps` itself the lr and momentum stay at their end values (PyTorch extrapolates,
 * which with 'linear' writes a negative lr).
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
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    const name = NAME;
    const groups = optimizer.paramGroups;
    if (o.totalSteps !== undefined) this.totalSteps = o.totalSteps;
    else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      this.totalSteps = o.epochs * o.stepsPerEpoch;
    } else {
      throw new TypeError(`${name}: give totalSteps, or epochs and stepsPerEpoch`);
    }
    const pct = o.pctStart;
    this.annealStrategy = o.annealStrategy;
    this.maxLrs = o.maxLr;
    // PyTorch overwrites initial_lr even when the group already has one (the initial step does).
    this.baseLrs = this.maxLrs.map((m) => m / o.divFactor);
    this.minLrs = this.baseLrs.map((b) => b / o.finalDivFactor);

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

    this.cycleMomentum = o.cycleMomentum;
    this.maxMomentums = o.maxMomentum;
    this.baseMomentums = o.baseMomentum;
    this.useBeta1 = groups.map((g, i) => {
      if (!this.cycleMomentum || typeof g.momentum === 'number') return false;
      if (Array.isArray(g.betas)) return true;
      throw new RangeError(
        `${name}: cycleMomentum needs paramGroups[${i}] to have momentum or betas (or pass cycleMomentum: false)`,
      );
    });
    this.checkMomenta(name, this.maxMomentums, this.baseMomentums);
    this.initialStep();
  }

  /**
   * The momentum anneals between baseMomentum and maxMomentum: both ends must be values the
   * optimizer accepts, checked now rather than at the step that reaches them.
   */
  private checkMomenta(owner: string, max: readonly number[], base: readonly number[]): void {
    if (!this.cycleMomentum) return;
    this.optimizer.paramGroups.forEach((g, i) => {
      for (const m of [max[i]!, base[i]!]) {
        prepareUpdate(owner, this.optimizer, i, { lr: g.lr, momentum: m, beta1: this.useBeta1[i] });
      }
    });
  }

  protected override perGroupKeys(): string[] {
    const keys = ['maxLrs', 'minLrs', 'maxMomentums', 'baseMomentums', 'useBeta1'];
    return [...super.perGroupKeys(), ...keys];
  }

  protected override checkState(where: string, sd: SchedulerStateDict): void {
    for (const key of ['maxLrs', 'minLrs']) {
      (sd[key] as number[]).forEach((v, i) => checkPositive(where, `${key}[${i}]`, v));
    }
    const lrKeys = ['initial', 'max', 'min'];
    const momentumKeys = ['base', 'max'];
    (sd.phases as unknown as Phase[]).forEach((p, k) => {
      if (![p.startLr, p.endLr].every((x) => lrKeys.includes(x))) {
        throw new RangeError(`${where}: phases[${k}] names an lr other than ${lrKeys.join(', ')}`);
      }
      if (![p.startMomentum, p.endMomentum].every((x) => momentumKeys.includes(x))) {
        throw new RangeError(`${where}: phases[${k}] names a momentum other than base, max`);
      }
    });
    if ((sd.phases as unknown[]).length === 0) throw new RangeError(`${where}: phases is empty`);
    const useBeta1 = sd.useBeta1 as boolean[];
    if (useBeta1.some((b, i) => b !== this.useBeta1[i])) {
      throw new RangeError(`${where}: useBeta1 must match this optimizer's groups`);
    }
    this.checkMomenta(where, sd.maxMomentums as number[], sd.baseMomentums as number[]);
  }

  /** `step(epoch)` evaluates the schedule at `epoch` (PyTorch has no closed form here, so uses get_lr). */
  override step(epoch?: number): void {
    if (epoch !== undefined) checkNonNegative(NAME, 'epoch', epoch);
    const next = epoch ?? this.lastEpoch + 1;
    if (next > this.totalSteps) {
      throw new RangeError(
        `OneCycleLR: tried to step ${next} times; the specified number of total steps is ${this.totalSteps}`,
      );
    }
    this.transaction(() => {
      this.lastEpoch = next - 1;
      super.step();
    });
  }

  /** PyTorch's get_lr, which also sets the momentum. */
  protected override update(_group: SchedulableGroup, i: number): GroupUpdate {
    const [phase, pct] = this.locate(this.lastEpoch);
    const lr = this.anneal(this.lrOf(i, phase.startLr), this.lrOf(i, phase.endLr), pct);
    if (!this.cycleMomentum) return { lr };
    const of = (k: MomentumKey) => (k === 'max' ? this.maxMomentums[i] : this.baseMomentums[i]);
    const momentum = this.anneal(of(phase.startMomentum), of(phase.endMomentum), pct);
    return { lr, momentum, beta1: this.useBeta1[i] };
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
    // Clamped at 1: PyTorch extrapolates past the last phase at step totalSteps, which for
    // 'linear' gives a negative lr; here the lr stays at the schedule's end value there.
    return [this.phases[k], Math.min(1, (e - start) / (this.phases[k].endStep - start))];
  }

  private anneal(from: number, to: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (to - from) * pct + from;
    return to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  private lrOf(i: number, key: LrKey): number {
    return key === 'initial' ? this.baseLrs[i] : key === 'max' ? this.maxLrs[i] : this.minLrs[i];
  }
}
