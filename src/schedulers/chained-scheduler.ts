import { fail, loadChildStates } from './scheduler';
import type { Schedulable, Scheduler, SchedulerStateDict } from './scheduler';

export interface ChainedSchedulerOptions {
  /** Built on the same optimizer; each `step()` steps them all, in this order (required). */
  schedulers: readonly Scheduler[];
}

/**
 * Steps several schedulers together; their chainable forms multiply, e.g. a LinearLR warm-up
 * times an ExponentialLR decay. PyTorch: torch.optim.lr_scheduler.ChainedScheduler.
 */
export class ChainedScheduler implements Scheduler {
  readonly schedulers: Scheduler[];
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: Schedulable,
    options: ChainedSchedulerOptions,
  ) {
    const { schedulers } = options;
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      fail('ChainedScheduler', 'schedulers', 'a non-empty array of schedulers', schedulers);
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new RangeError(`ChainedScheduler: schedulers[${i}] was built on another optimizer`);
      }
    });
    this.schedulers = schedulers.slice();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastEpoch++;
    this.optimizer.paramGroups.forEach((g, i) => (this.lastLr[i] = g.lr));
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerStateDict {
    return {
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    ({ lastEpoch: this.lastEpoch, lastLr: this.lastLr } = loadChildStates(
      'ChainedScheduler',
      sd,
      this.schedulers,
    ));
  }
}
