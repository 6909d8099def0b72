import { checkPositiveInt, fail, loadChildStates, LRScheduler } from './scheduler';
import type { Schedulable, Scheduler, SchedulerStateDict } from './scheduler';

export interface SequentialLROptions {
  /** Built on the same optimizer, in order of use (required). */
  schedulers: readonly LRScheduler[];
  /** Epochs at which the next scheduler takes over, increasing, one fewer than schedulers. */
  milestones: readonly number[];
  lastEpoch?: number;
}

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
    const name = 'SequentialLR';
    const { schedulers, milestones } = options;
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      fail(name, 'schedulers', 'a non-empty array of schedulers', schedulers);
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) fail(name, `schedulers[${i}]`, 'an LRScheduler', s);
      if (s.optimizer !== optimizer) {
        throw new RangeError(`${name}: schedulers[${i}] was built on another optimizer`);
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      fail(
        name,
        'milestones',
        `${schedulers.length - 1} epochs (one fewer than schedulers)`,
        milestones,
      );
    }
    milestones.forEach((m, i) => {
      checkPositiveInt(name, `milestones[${i}]`, m);
      if (i > 0 && m <= milestones[i - 1]) fail(name, 'milestones', 'increasing', milestones);
    });
    this.schedulers = schedulers.slice();
    this.milestones = milestones.slice();
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr ?? g.lr;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  step(): void {
    const e = ++this.lastEpoch;
    let k = 0;
    while (k < this.milestones.length && this.milestones[k] <= e) k++;
    const scheduler = this.schedulers[k];
    if (k > 0 && this.milestones[k - 1] === e) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerStateDict {
    return {
      lastEpoch: this.lastEpoch,
      milestones: this.milestones.slice(),
      lastLr: this.lastLr.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    ({ lastEpoch: this.lastEpoch, lastLr: this.lastLr } = loadChildStates(
      'SequentialLR',
      sd,
      this.schedulers,
    ));
  }
}
