import { fail, LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable } from './scheduler';

/** Maps an epoch index to a multiplicative factor of the base lr. */
export type LrLambda = (epoch: number) => number;

export interface LambdaLROptions extends LRSchedulerOptions {
  /** One function for every group, or one per group (required). */
  lrLambda: LrLambda | readonly LrLambda[];
}

/**
 * `lr = b * lrLambda(e)`. The functions are not part of `stateDict()` (PyTorch saves only
 * callable objects); pass the same ones to the constructor before `loadStateDict`.
 * PyTorch: torch.optim.lr_scheduler.LambdaLR.
 */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Schedulable, options: LambdaLROptions) {
    super(optimizer, 'LambdaLR', options.lastEpoch);
    const f = options.lrLambda;
    const n = optimizer.paramGroups.length;
    if (typeof f === 'function') this.lrLambdas = new Array<LrLambda>(n).fill(f);
    else if (Array.isArray(f) && f.length === n && f.every((x) => typeof x === 'function')) {
      this.lrLambdas = f.slice();
    } else fail('LambdaLR', 'lrLambda', `a function or ${n} functions (one per group)`, f);
    this.initialStep();
  }

  protected closedFormLr(i: number, e: number): number {
    return this.baseLrs[i] * this.lrLambdas[i](e);
  }
}
