import {
  CosineAnnealingLR,
  ExponentialLR,
  OneCycleLR,
  StepLR,
  type Schedulable,
} from '../../src/schedulers/index.ts';

/** What the page needs of a scheduler: a step per training step. */
export interface SchedulerHandle {
  step(): void;
}

/**
 * The schedulers the training page offers, each set up for a run of `steps` optimizer steps
 * (stepped once per step): StepLR halves the lr four times, cosine annealing reaches 0 at the
 * end, exponential decay ends at 5% of the start, one-cycle peaks at 30% of the run.
 */
export const SCHEDULERS: Record<
  string,
  (opt: Schedulable, steps: number, lr: number) => SchedulerHandle | undefined
> = {
  none: () => undefined,
  StepLR: (opt, steps) =>
    new StepLR(opt, { stepSize: Math.max(1, Math.floor(steps / 5)), gamma: 0.5 }),
  CosineAnnealingLR: (opt, steps) => new CosineAnnealingLR(opt, { tMax: steps, etaMin: 0 }),
  ExponentialLR: (opt, steps) => new ExponentialLR(opt, { gamma: 0.05 ** (1 / steps) }),
  OneCycleLR: (opt, steps, lr) => {
    const sched = new OneCycleLR(opt, { maxLr: lr, totalSteps: steps });
    // PyTorch's OneCycleLR refuses to step past totalSteps; training on past it keeps the last lr.
    let taken = 0;
    return { step: () => void (++taken < steps && sched.step()) };
  },
};
