/** Per-tensor optimizer state in the reference: the 1-based count of steps taken so far, plus named
 *  Float64Array buffers and scalars using the CONVENTIONS.md state names (expAvg, expAvgSq, ...). */
export interface ReferenceState {
  step: number;
  [name: string]: Float64Array | number;
}

/** A float64 CPU reference of one optimizer, applied to one tensor at a time. */
export interface ReferenceOptimizer<O> {
  readonly name: string;
  /**
   * Fresh state for a tensor of n elements (step 0; buffers at their initial values); `shape`
   * (default [n]) matters to rules with per-row or matrix state (Adafactor, Muon).
   */
  init(n: number, options: O, shape?: readonly number[]): ReferenceState;
  /** One optimizer step in place on p and state; g is the gradient (never modified). Increments state.step first, so the formulas see t = state.step. */
  step(
    p: Float64Array,
    g: Float64Array,
    state: ReferenceState,
    options: O,
    shape?: readonly number[],
  ): void;
}

/** The named state buffer; throws when it is missing, e.g. amsgrad switched on after init. */
export function buffer(state: ReferenceState, name: string): Float64Array {
  const value = state[name];
  if (!(value instanceof Float64Array)) {
    throw new TypeError(`reference state has no buffer '${name}'`);
  }
  return value;
}

/** The named state scalar; throws when it is missing or is a buffer. */
export function scalar(state: ReferenceState, name: string): number {
  const value = state[name];
  if (typeof value !== 'number') {
    throw new TypeError(`reference state has no scalar '${name}'`);
  }
  return value;
}
