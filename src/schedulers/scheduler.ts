/**
 * The shared part of the learning-rate schedulers, after torch.optim.lr_scheduler.LRScheduler.
 *
 * A scheduler owns no GPU state: it writes `lr` (and, for OneCycleLR, `momentum` or `betas`)
 * into the optimizer's param groups, which the optimizer reads at its next step.
 *
 * As in PyTorch, `step()` uses each schedule's chainable (recursive) form, which multiplies the
 * group's current lr, so schedulers compose (ChainedScheduler, SequentialLR) and a user's manual
 * change of `lr` carries on; `step(epoch)` and `getClosedFormLr()` use the closed form.
 * https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate
 */

import {
  checkLastEpoch,
  checkNonNegative,
  checkNonNegativeInt,
  checkSchedulable,
  type OptionSpec,
} from './options';
import { checkStateDict } from './state';
import { writeUpdates, type GroupUpdate } from './write';

/** A param group as the schedulers see it: the fields they read and write. */
export interface SchedulableGroup {
  lr: number;
  initialLr?: number;
  momentum?: number;
  betas?: [number, number];
}

/** Anything with param groups: every optimizer of this package. */
export interface Schedulable {
  paramGroups: SchedulableGroup[];
  /**
   * Throws a TypeError or RangeError if `group` holds a value this optimizer cannot use
   * (`Optimizer.validateGroup`). Schedulers call it on the group they are about to write, and
   * write only if it passes; without it they check only that the lr is a finite number >= 0.
   */
  validateGroup?(group: object): void;
}

/** A JSON-able value of a scheduler's state dict. */
export type StateValue = number | string | boolean | null | StateValue[] | StateObject;
export interface StateObject {
  [key: string]: StateValue;
}
/** A scheduler's state dict: plain data (no functions), safe for JSON.stringify. */
export type SchedulerStateDict = StateObject;

/** What every epoch-driven scheduler offers (all but ReduceLROnPlateau, whose step takes a metric). */
export interface Scheduler {
  readonly optimizer: Schedulable;
  /** 0-based index of the current epoch (or step); -1 before the first step. */
  lastEpoch: number;
  step(): void;
  /** The lr of each group as last written by this scheduler. */
  getLastLr(): number[];
  stateDict(): SchedulerStateDict;
  loadStateDict(stateDict: SchedulerStateDict): void;
}

/** Options every LRScheduler accepts. */
export interface LRSchedulerOptions {
  /** PyTorch's `last_epoch`: -1 starts afresh; otherwise resumes (every group needs `initialLr`). */
  lastEpoch?: number;
}

// ---- the base class ----

/** Own fields that are not state: the optimizer, the name, the option table, and functions. */
const NOT_STATE = new Set(['optimizer', 'name', 'isInitial', 'options']);
const isFunctionLike = (v: unknown) =>
  typeof v === 'function' || (Array.isArray(v) && v.some((x) => typeof x === 'function'));

/**
 * Base of the epoch-driven schedulers (PyTorch's LRScheduler). Construction takes each group's
 * `initialLr` (or its lr, where unset) as the base lr `b`, and performs the initial step that
 * sets lr to the epoch-0 value and records `initialLr` (kept if already there, as PyTorch's
 * `setdefault`).
 *
 * A subclass reads its options with `parseOptions` before `super()` (so a bad option throws
 * before anything exists), gives the schedule's closed form (`closedFormLr`) and, where
 * PyTorch's `get_lr` is chainable, that form (`chainedLr`); it calls `this.initialStep()` at the
 * end of its constructor. Every write goes through `write`: all groups' values are computed and
 * checked (`Schedulable.validateGroup`) before any is written, and a step that throws puts the
 * scheduler's own state back, so a failed constructor or step changes nothing.
 */
export abstract class LRScheduler implements Scheduler {
  /** Base lr of each group: its `initialLr`. */
  baseLrs: number[];
  lastEpoch: number;
  /** PyTorch's `_step_count`: steps taken, counting the initial one. */
  protected stepCount = 0;
  /** True during the initial step (PyTorch's `_is_initial`): chainable forms keep the lr then. */
  protected isInitial = false;
  protected lastLr: number[];
  /** Whether the initial step records `initialLr` (a fresh start, lastEpoch -1). */
  private readonly recordsInitialLr: boolean;

  protected constructor(
    readonly optimizer: Schedulable,
    protected readonly name: string,
    lastEpoch: number,
    /** The scheduler's option table: `loadStateDict` checks the options a state dict holds with it. */
    protected readonly options: OptionSpec,
  ) {
    checkSchedulable(name, optimizer);
    checkLastEpoch(name, 'lastEpoch', lastEpoch);
    const groups = optimizer.paramGroups;
    groups.forEach((g, i) => {
      if (lastEpoch !== -1 && g.initialLr === undefined) {
        throw new RangeError(
          `${name}: paramGroups[${i}].initialLr is not set, needed to resume at lastEpoch ${lastEpoch}`,
        );
      }
    });
    this.recordsInitialLr = lastEpoch === -1;
    this.baseLrs = groups.map((g) => g.initialLr ?? g.lr);
    this.lastEpoch = lastEpoch;
    this.lastLr = groups.map((g) => g.lr);
  }

  /** The schedule's lr for group i at epoch e, from the base lr alone. */
  protected abstract closedFormLr(i: number, epoch: number): number;

  /** PyTorch's `get_lr` for group i at `this.lastEpoch`; by default the closed form. */
  protected chainedLr(_group: SchedulableGroup, i: number): number {
    return this.closedFormLr(i, this.lastEpoch);
  }

  /** What this step writes into group i: its lr (OneCycleLR adds the momentum). */
  protected update(group: SchedulableGroup, i: number, closedForm: boolean): GroupUpdate {
    return { lr: closedForm ? this.closedFormLr(i, this.lastEpoch) : this.chainedLr(group, i) };
  }

  /** The closed-form lr of every group at `epoch` (default: the current epoch); writes nothing. */
  getClosedFormLr(epoch: number = this.lastEpoch): number[] {
    return this.baseLrs.map((_, i) => this.closedFormLr(i, epoch));
  }

  /**
   * Advances one epoch and writes each group's new lr. `step(epoch)` jumps to `epoch` using
   * the closed form, as PyTorch's (deprecated, except for warm restarts) `step(epoch)`.
   */
  step(epoch?: number): void {
    if (epoch !== undefined) checkNonNegative(this.name, 'epoch', epoch);
    this.transaction(() => {
      this.stepCount++;
      if (epoch === undefined) this.lastEpoch++;
      else this.lastEpoch = epoch;
      this.write(epoch !== undefined);
    });
  }

  /** PyTorch's `_initial_step`; SequentialLR calls it on its first scheduler. */
  initialStep(): void {
    const stepCount = this.stepCount;
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this.step();
    } catch (e) {
      this.stepCount = stepCount;
      throw e;
    } finally {
      this.isInitial = false;
    }
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Runs `fn`; if it throws, the scheduler's own state is put back before rethrowing. */
  protected transaction(fn: () => void): void {
    const saved = this.ownState();
    try {
      fn();
    } catch (e) {
      Object.assign(this, saved);
      throw e;
    }
  }

  /** Every field but the optimizer and functions (as PyTorch's `__dict__` minus optimizer). */
  private ownState(): SchedulerStateDict {
    const sd: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) {
      if (!NOT_STATE.has(key) && !isFunctionLike(value)) sd[key] = structuredClone(value);
    }
    return sd;
  }

  /** The scheduler's state, with `kind` (its class name) so a reload can check it. */
  stateDict(): SchedulerStateDict {
    return { kind: this.name, ...this.ownState() };
  }

  /**
   * Restores a `stateDict()` of the same kind of scheduler on as many param groups. Every key
   * must be there with a value of the type and shape it has here (numbers finite, one entry per
   * group where the field is per group); options are checked as the constructor checks them.
   * On any mismatch it throws and changes nothing. Writes nothing into the param groups.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    const current = this.ownState();
    const sd = checkStateDict(where, this.name, stateDict, current, this.perGroupKeys());
    const groups = this.baseLrs.length;
    for (const [key, value] of Object.entries(sd)) {
      if (key in this.options)
        sd[key] = this.options[key]!(where, key, value, groups) as StateValue;
    }
    checkLastEpoch(where, 'lastEpoch', sd.lastEpoch);
    checkNonNegativeInt(where, 'stepCount', sd.stepCount);
    for (const key of ['baseLrs', 'lastLr']) {
      (sd[key] as unknown[]).forEach((v, i) => checkNonNegative(where, `${key}[${i}]`, v));
    }
    this.checkState(where, sd);
    Object.assign(this, structuredClone(sd));
  }

  /** State fields holding one entry per param group. */
  protected perGroupKeys(): string[] {
    return ['baseLrs', 'lastLr'];
  }

  /** A subclass's own checks of a state dict about to be loaded (throw to refuse it). */
  protected checkState(_where: string, _sd: SchedulerStateDict): void {}

  /**
   * Writes the lr at `lastEpoch` into every group, from the chainable form or the closed form:
   * every group's value is computed and checked first, then all are written.
   */
  protected write(closedForm: boolean): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.baseLrs.length) {
      throw new RangeError(
        `${this.name}: the optimizer has ${groups.length} param groups, the scheduler was built for ${this.baseLrs.length}`,
      );
    }
    const updates = groups.map((g, i) => this.update(g, i, closedForm));
    const initial = this.isInitial && this.recordsInitialLr;
    writeUpdates(this.name, this.optimizer, updates, (i) =>
      initial ? { initialLr: this.baseLrs[i] } : {},
    );
    this.lastLr = updates.map((u) => u.lr);
  }
}
