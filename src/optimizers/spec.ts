import type { Variant } from '../../shaders/layout.ts';
import type { Pass, StateShape } from '../../shaders/passes.wgsl.ts';
import type { ReferenceOptimizer } from '../reference/types.ts';

export type { Variant } from '../../shaders/layout.ts';
export type { Pass, StateShape } from '../../shaders/passes.wgsl.ts';

/**
 * A shaped step of one tensor: its passes (shaders/passes.wgsl.ts), the sum slots they use and
 * the work buffers they need, in elements.
 */
export interface TensorProgram {
  passes: Pass[];
  sums: number;
  work: Record<string, number>;
}

/** Per-tensor host state: the step count plus any scalar state (NAdam's muProduct). */
export interface HostState {
  step: number;
  [name: string]: number;
}

/**
 * Everything that makes one optimizer: options, checks, state, host-side scalars, kernel math and
 * the float64 reference. The engine turns a spec into GPU work (see optimizer.ts); a new optimizer
 * is one spec file, one shader file and one registry line.
 */
export interface OptimizerSpec<O extends object, F extends string = string, R extends F = never> {
  readonly name: string;
  /** Every option with its PyTorch default (NaN for a required option). */
  readonly defaults: O;
  /** Throws a RangeError naming the option and its value. */
  validate(options: O): void;
  /** Kernel switches for these options (besides maximize and weight decay, handled generically). */
  variant(options: O): Variant;
  /** State buffers these options need, each with its initial value, in binding order. */
  states(options: O): Record<string, number>;
  /** Host scalar state carried across steps and saved in stateDict (besides `step`), with initial values. */
  readonly hostState?: Record<string, number>;
  /**
   * The per-tensor scalars the kernel reads as `h.<field>`: one typed list, so `scalars` must
   * return exactly these keys (but the `fresh` ones) or the spec does not compile.
   */
  readonly fields: readonly F[];
  /**
   * Advances `state` by one step (state.step += 1 first) and returns this step's kernel scalars,
   * computed in float64. A pure function of the options and the state: the engine calls it for
   * each step count the GPU may be at (see src/step-clock.ts).
   */
  scalars(options: O, state: HostState): Record<Exclude<F, R>, number>;
  /**
   * Fields decided on the GPU instead: 1 while the named state buffer has not been written by
   * any applied step, else 0 (SGD's "first step of the momentum buffer").
   */
  readonly fresh?: Readonly<Record<R, string>>;
  /**
   * WGSL statements updating `p` and the state variables from `g`; see shaders/common.wgsl.ts.
   * With `norms`, it is also called with `variant.normPass` true, and must then assign the
   * vectors n0..n{norms-1} whose per-tensor L2 norms the update reads as `norm(tensor, k)`.
   * An optimizer has a body (elementwise rules) or a program (shaped ones), not both.
   */
  body?(variant: Variant): string;
  /**
   * A shaped step, per tensor: the passes over its rows, columns and matrix products (Adafactor,
   * Muon), run one tensor after another. The tensor's states are then its own buffers, laid out
   * as `stateShapes` says.
   */
  program?(options: O, shape: readonly number[]): TensorProgram;
  /** The states of a tensor of this shape and their layouts (a subset of `states`' names). */
  stateShapes?(options: O, shape: readonly number[]): Record<string, StateShape>;
  /** Options whose values change the passes (Muon's nsSteps): a change rebuilds them. */
  readonly programOptions?: readonly string[];
  /** Why a parameter of this shape cannot be optimized (Muon: not 2-D), or undefined. */
  checkShape?(shape: readonly number[]): string | undefined;
  /**
   * Bodies of the modes `opt.eval()` / `opt.train()` switch between (schedule-free: p holds x
   * or y); each runs over p and the states with the next step's scalars, without a gradient.
   */
  readonly modes?: { readonly eval: string; readonly train: string };
  /**
   * The norm pass advances and stores the states and the update pass reads them, without the
   * gradient (LAMB: 40 bytes a parameter over both passes instead of 44).
   */
  readonly normStores?: boolean;
  /** Per-tensor norms computed on the GPU before the update (LAMB: ||p||, ||u||). */
  readonly norms?: number;
  /** Applies `maximize` (negate g) first. */
  readonly maximize: boolean;
  /** Applies L2 weight decay (`g += weightDecay * p`) before the body. */
  readonly l2: boolean;
  /** Where L2 decay depends on other options (ADOPT's `decouple`): whether these options use it. */
  usesL2?(options: O): boolean;
  readonly reference: ReferenceOptimizer<O>;
  /** Option sets the GPU suite checks against the reference (each crossed with every size). */
  readonly testOptions: ReadonlyArray<Partial<O>>;
  /**
   * k in the suite's bound max|got-ref| <= k*t*2^-23*max|ref| (default 4); larger only where a
   * step chains more roundings, with the reason next to the number.
   */
  readonly accuracyFactor?: number;
}

/**
 * Declares a spec with its field names inferred as literals, so that a key missing from (or
 * extra in) what `scalars` returns is a compile error: `defineSpec<AdamOptions>()({ ... })`.
 */
export function defineSpec<O extends object>() {
  return <const F extends string, R extends F = never>(
    spec: OptimizerSpec<O, F, R>,
  ): OptimizerSpec<O, F, R> => spec;
}
