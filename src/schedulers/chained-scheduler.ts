import type { Schedulable, Scheduler, SchedulerStateDict } from './scheduler';
import { fail, failType, parseOptions, type OptionParser } from './options';
import { loadChildStates } from './state';
import { atomically } from './write';

export interface ChainedSchedulerOptions {
  /** Built on the same optimizer; each `step()` steps them all, in this order (required). */
  schedulers: readonly Scheduler[];
}

const NAME = 'ChainedScheduler';

/** A non-empty array of schedulers (their optimizer is checked by the constructor). */
export const schedulersOption: OptionParser<Scheduler[]> = (owner, key, v) => {
  const rule = 'a non-empty array of schedulers';
  if (v === undefined) throw new TypeError(`${owner}: option '${key}' is required`);
  if (!Array.isArray(v)) failType(owner, key, rule, v);
  if (v.length === 0) fail(owner, key, rule, v);
  v.forEach((s: unknown, i) => {
    const ok = typeof s === 'object' && s !== null && typeof (s as Scheduler).step === 'function';
    if (!ok) failType(owner, `${key}[${i}]`, 'a scheduler', s);
  });
  return (v as Scheduler[]).slice();
};

const OPTIONS = { schedulers: schedulersOption };

/**
 * Steps several schedulers together; their chainable forms multiply, e.g. a LinearLR warm-up
 * times an ExponentialLR decay. A step in which any of them throws is undone whole (every
 * group and every scheduler as before). PyTorch: torch.optim.lr_scheduler.ChainedScheduler.
 */
export class ChainedScheduler implements Scheduler {
  readonly schedulers: Scheduler[];
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: Schedulable,
    options: ChainedSchedulerOptions,
  ) {
    const { schedulers } = parseOptions(NAME, optimizer, options, OPTIONS);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new RangeError(`${NAME}: schedulers[${i}] was built on another optimizer`);
      }
    });
    this.schedulers = schedulers;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  step(): void {
    atomically(this.optimizer, this.schedulers, () => {
      for (const s of this.schedulers) s.step();
    });
    this.lastEpoch++;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerStateDict {
    return {
      kind: NAME,
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  /** Checks the whole dict and every child's before keeping any of it; on failure nothing changes. */
  loadStateDict(sd: SchedulerStateDict): void {
    const checked = loadChildStates(NAME, sd, this.stateDict(), this.optimizer, this.schedulers);
    this.lastEpoch = checked.lastEpoch as number;
    this.lastLr = checked.lastLr as number[];
  }
}
