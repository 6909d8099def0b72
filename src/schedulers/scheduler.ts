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

// ---- validation at the boundary: the message names the scheduler, the option and the value ----

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  return String(value);
}

export function fail(owner: string, name: string, rule: string, value: unknown): never {
  throw new RangeError(`${owner}: ${name} must be ${rule}, got ${show(value)}`);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function checkPositiveInt(owner: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) fail(owner, name, 'a positive integer', v);
  return v as number;
}

export function checkNonNegativeInt(owner: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0) fail(owner, name, 'a non-negative integer', v);
  return v as number;
}

export function checkNonNegative(owner: string, name: string, v: unknown): number {
  if (!isNum(v) || v < 0) fail(owner, name, 'a finite number >= 0', v);
  return v;
}

export function checkPositive(owner: string, name: string, v: unknown): number {
  if (!isNum(v) || v <= 0) fail(owner, name, 'a finite number > 0', v);
  return v;
}

export function checkFinite(owner: string, name: string, v: unknown): number {
  if (!isNum(v)) fail(owner, name, 'a finite number', v);
  return v;
}

/** A finite number with lo < v <= hi (or lo <= v when loClosed), e.g. LinearLR's startFactor. */
export function checkInterval(
  owner: string,
  name: string,
  v: unknown,
  [lo, hi]: [number, number],
  loClosed = false,
): number {
  if (!isNum(v) || v > hi || (loClosed ? v < lo : v <= lo)) {
    fail(owner, name, `in ${loClosed ? '[' : '('}${lo}, ${hi}]`, v);
  }
  return v;
}

/** A number for every group, or one per group (PyTorch's `_format_param`). */
export function perGroup(
  owner: string,
  name: string,
  v: number | readonly number[],
  groups: number,
  check: (owner: string, name: string, v: unknown) => number,
): number[] {
  if (!Array.isArray(v)) return new Array<number>(groups).fill(check(owner, name, v));
  if (v.length !== groups) fail(owner, name, `a number or ${groups} numbers (one per group)`, v);
  return v.map((x, i) => check(owner, `${name}[${i}]`, x));
}

// ---- the base class ----

/** Own fields that are not state: the optimizer, the name, and functions. */
const NOT_STATE = new Set(['optimizer', 'name', 'isInitial']);
const isFunctionLike = (v: unknown) =>
  typeof v === 'function' || (Array.isArray(v) && v.some((x) => typeof x === 'function'));

/**
 * Base of the epoch-driven schedulers (PyTorch's LRScheduler). Construction records
 * `initialLr` in every group (kept if already there, as PyTorch's `setdefault`), takes it as
 * the base lr `b`, and performs the initial step that sets lr to the epoch-0 value.
 *
 * A subclass gives the schedule's closed form (`closedFormLr`) and, where PyTorch's `get_lr`
 * is chainable, that form (`chainedLr`); it calls `this.initialStep()` at the end of its
 * constructor (fields must exist before the first step, which TS's `super()` ordering forbids).
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

  protected constructor(
    readonly optimizer: Schedulable,
    protected readonly name: string,
    lastEpoch: number = -1,
  ) {
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) {
      fail(name, 'lastEpoch', 'an integer >= -1', lastEpoch);
    }
    const groups = optimizer.paramGroups;
    groups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new RangeError(
          `${name}: paramGroups[${i}].initialLr is not set, needed to resume at lastEpoch ${lastEpoch}`,
        );
      }
    });
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
    this.lastLr = groups.map((g) => g.lr);
  }

  /** The schedule's lr for group i at epoch e, from the base lr alone. */
  protected abstract closedFormLr(i: number, epoch: number): number;

  /** PyTorch's `get_lr` for group i at `this.lastEpoch`; by default the closed form. */
  protected chainedLr(_group: SchedulableGroup, i: number): number {
    return this.closedFormLr(i, this.lastEpoch);
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
    this.stepCount++;
    if (epoch === undefined) this.lastEpoch++;
    else this.lastEpoch = epoch;
    this.write(epoch !== undefined);
  }

  /** PyTorch's `_initial_step`; SequentialLR calls it on its first scheduler. */
  initialStep(): void {
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this.step();
    } finally {
      this.isInitial = false;
    }
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Every field but the optimizer and functions (as PyTorch's `__dict__` minus optimizer). */
  stateDict(): SchedulerStateDict {
    const sd: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) {
      if (!NOT_STATE.has(key) && !isFunctionLike(value)) sd[key] = structuredClone(value);
    }
    return sd;
  }

  /** Restores a `stateDict()` of the same kind of scheduler; unknown keys throw. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(stateDict)) {
      if (NOT_STATE.has(key) || !Object.hasOwn(self, key) || isFunctionLike(self[key])) {
        throw new TypeError(`${this.name}.loadStateDict: unknown key '${key}'`);
      }
    }
    for (const [key, value] of Object.entries(stateDict)) self[key] = structuredClone(value);
  }

  /**
   * Writes the lr at `lastEpoch` into every group, from the chainable form or the closed form.
   * Each group's form reads only that group, so writing while computing is exact.
   */
  protected write(closedForm: boolean): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.baseLrs.length) {
      throw new RangeError(
        `${this.name}: the optimizer has ${groups.length} param groups, the scheduler was built for ${this.baseLrs.length}`,
      );
    }
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      const value = closedForm ? this.closedFormLr(i, this.lastEpoch) : this.chainedLr(g, i);
      g.lr = value;
      this.lastLr[i] = value;
    }
  }
}

/**
 * Restores the shared part of a composite scheduler's state (ChainedScheduler, SequentialLR):
 * each child from `sd.schedulers`, after checking their number. Returns lastEpoch and lastLr.
 */
export function loadChildStates(
  owner: string,
  sd: SchedulerStateDict,
  children: ReadonlyArray<{ loadStateDict(sd: SchedulerStateDict): void }>,
): { lastEpoch: number; lastLr: number[] } {
  const states = sd.schedulers as StateValue[] | undefined;
  if (!Array.isArray(states) || states.length !== children.length) {
    throw new TypeError(`${owner}.loadStateDict: expected ${children.length} schedulers`);
  }
  children.forEach((s, i) => s.loadStateDict(states[i] as SchedulerStateDict));
  return { lastEpoch: sd.lastEpoch as number, lastLr: (sd.lastLr as number[]).slice() };
}
