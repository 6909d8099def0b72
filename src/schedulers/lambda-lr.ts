import { LRScheduler } from './scheduler';
import type { LRSchedulerOptions, Schedulable } from './scheduler';
import { fail, failType, lastEpochOption, parseOptions, type OptionParser } from './options';
import { describe } from '../validate';

/** Maps an epoch index to a multiplicative factor of the base lr (a finite number >= 0). */
export type LrLambda = (epoch: number) => number;

export interface LambdaLROptions extends LRSchedulerOptions {
  /** One function for every group, or one per group (required). */
  lrLambda: LrLambda | readonly LrLambda[];
}

/** One function per group. */
const lrLambdaOption: OptionParser<LrLambda[]> = (owner, key, f, n) => {
  const rule = `a function or ${n} functions (one per group)`;
  if (typeof f === 'function') return new Array<LrLambda>(n).fill(f as LrLambda);
  if (f === undefined) throw new TypeError(`${owner}: option '${key}' is required`);
  if (!Array.isArray(f) || !f.every((x) => typeof x === 'function')) failType(owner, key, rule, f);
  if (f.length !== n) fail(owner, key, rule, f);
  return f.slice() as LrLambda[];
};

const NAME = 'LambdaLR';
const OPTIONS = { lrLambda: lrLambdaOption, lastEpoch: lastEpochOption };

/**
 * `lr = b * lrLambda(e)`. A factor that is not a finite number >= 0 (NaN, -1, a string)
 * throws, naming the group and the epoch, and nothing is written. The functions are not part
 * of `stateDict()` (PyTorch saves only callable objects); pass the same ones to the constructor
 * before `loadStateDict`. PyTorch: torch.optim.lr_scheduler.LambdaLR.
 */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Schedulable, options: LambdaLROptions) {
    const o = parseOptions(NAME, optimizer, options, OPTIONS);
    super(optimizer, NAME, o.lastEpoch, OPTIONS);
    this.lrLambdas = o.lrLambda;
    this.initialStep();
  }

  protected closedFormLr(i: number, e: number): number {
    const factor: unknown = this.lrLambdas[i](e);
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
      const Class = typeof factor === 'number' ? RangeError : TypeError;
      throw new Class(
        `${NAME}: lrLambda returned ${describe(factor)} at epoch ${e} for param group ${i}, expected a finite number >= 0`,
      );
    }
    return this.baseLrs[i] * factor;
  }
}
