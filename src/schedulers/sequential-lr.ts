import { LRScheduler } from './scheduler';
import type { Schedulable, Scheduler, SchedulerStateDict } from './scheduler';
import {
  checkPositiveInt,
  fail,
  failType,
  lastEpochOption,
  parseOptions,
  type OptionParser,
} from './options';
import { schedulersOption } from './chained-scheduler';
import { loadChildStates } from './state';
import { atomically } from './write';

export interface SequentialLROptions {
  /** Built on the same optimizer, in order of use (required). */
  schedulers: readonly LRScheduler[];
  /** Epochs at which the next scheduler takes over, increasing, one fewer than schedulers. */
  milestones: readonly number[];
  lastEpoch?: number;
}

/** Increasing positive epochs (their number is checked against the schedulers'). */
const milestonesOption: OptionParser<number[]> = (owner, key, v) => {
  if (v === undefined) throw new TypeError(`${owner}: option '${key}' is required`);
  if (!Array.isArray(v)) failType(owner, key, 'an array of epochs', v);
  v.forEach((m: unknown, i) => {
    checkPositiveInt(owner, `${key}[${i}]`, m);
    if (i > 0 && (m as number) <= (v[i - 1] as number)) fail(owner, key, 'increasing', v);
  });
  return (v as number[]).slice();
};

const NAME = 'SequentialLR';
const OPTIONS = {
  schedulers: schedulersOption,
  milestones: milestonesOption,
  lastEpoch: lastEpochOption,
};

/**
 * Runs `schedulers[k]` from `milestones[k-1]` to `milestones[k]`; at a milestone the next one
 * restarts from its epoch 0 (closed form, PyTorch's `scheduler.step(0)`). Typical use: a
 * LinearLR warm-up, then CosineAnnealingLR. Construction undoes the initial steps the
 * schedulers took, resets every lr to `initialLr` and steps only the first, as PyTorch.
 * PyTorch: torch.optim.lr_scheduler.SequentialLR.
 */
export class SequentialLR implements Scheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];
  lastEpoch: number;
  private lastLr: number[];

  constructor(
    readonly optimizer: Schedulable,
    options: SequentialLROptions,
  ) {
    const name = NAME;
    const o = parseOptions(name, optimizer, options, OPTIONS);
    const { schedulers, milestones } = o;
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) failType(name, `schedulers[${i}]`, 'an LRScheduler', s);
      if (s.optimizer !== optimizer) {
        throw new RangeError(`${name}: schedulers[${i}] was built on another optimizer`);
      }
    });
    if (milestones.length !== schedulers.length - 1) {
      fail(
        name,
        'milestones',
        `${schedulers.length - 1} epochs (one fewer than schedulers)`,
        milestones,
      );
    }
    this.schedulers = schedulers as LRScheduler[];
    this.milestones = milestones;
    this.lastEpoch = o.lastEpoch + 1;
    // Undo the schedulers' initial steps and take the first one's: undone whole if it throws.
    this.lastLr = atomically(optimizer, this.schedulers, () => {
      for (const g of optimizer.paramGroups) g.lr = g.initialLr ?? g.lr;
      for (const s of this.schedulers) s.lastEpoch -= 1;
      this.schedulers[0]!.initialStep();
      return this.schedulers[0]!.getLastLr();
    });
  }

  step(): void {
    const e = this.lastEpoch + 1;
    let k = 0;
    while (k < this.milestones.length && this.milestones[k]! <= e) k++;
    const scheduler = this.schedulers[k]!;
    if (k > 0 && this.milestones[k - 1] === e) scheduler.step(0);
    else scheduler.step();
    this.lastEpoch = e;
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerStateDict {
    return {
      kind: NAME,
      lastEpoch: this.lastEpoch,
      milestones: this.milestones.slice(),
      lastLr: this.lastLr.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  /**
   * Checks the whole dict (its milestones must be this scheduler's) and every child's before
   * keeping any of it; on failure nothing changes.
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const where = `${NAME}.loadStateDict`;
    const m = (sd as { milestones?: unknown } | null)?.milestones;
    if (
      Array.isArray(m) &&
      (m.length !== this.milestones.length || m.some((x, i) => x !== this.milestones[i]))
    ) {
      throw new RangeError(
        `${where}: milestones ${JSON.stringify(m)} differ from this scheduler's ${JSON.stringify(this.milestones)}`,
      );
    }
    const checked = loadChildStates(NAME, sd, this.stateDict(), this.optimizer, this.schedulers);
    this.lastEpoch = checked.lastEpoch as number;
    this.lastLr = checked.lastLr as number[];
  }
}
