/**
 * Optimizer weights in TF.js's convention: `[iter, <var>/<state> for every state, then every
 * variable]`, with TF.js's own state names where a tf.train optimizer keeps the same quantity
 * (Adam's `m` and `v`, momentum's `momentum`, RMSProp's `rms` and `mg`, Adagrad's `accumulator`,
 * Adadelta's `accum_grad` and `accum_var`); other states keep their CONVENTIONS.md names.
 */

/** Per optimizer kind: engine state name -> TF.js weight suffix. */
const TFJS_NAMES: Record<string, Record<string, string>> = {
  Adam: { expAvg: 'm', expAvgSq: 'v' },
  AdamW: { expAvg: 'm', expAvgSq: 'v' },
  NAdam: { expAvg: 'm', expAvgSq: 'v' },
  RAdam: { expAvg: 'm', expAvgSq: 'v' },
  Adamax: { expAvg: 'm', expInf: 'v' },
  SGD: { momentumBuffer: 'momentum' },
  RMSprop: { squareAvg: 'rms', gradAvg: 'mg', momentumBuffer: 'momentum' },
  Adagrad: { sum: 'accumulator' },
  Adadelta: { squareAvg: 'accum_grad', accDelta: 'accum_var' },
};

/** The TF.js weight suffix of engine state `state` of optimizer `kind`. */
export function weightSuffix(kind: string, state: string): string {
  return TFJS_NAMES[kind]?.[state] ?? state;
}

/** The engine state name behind a TF.js weight suffix (the inverse of weightSuffix). */
export function stateName(kind: string, suffix: string): string {
  for (const [state, s] of Object.entries(TFJS_NAMES[kind] ?? {})) if (s === suffix) return state;
  return suffix;
}

/** Splits `dense/kernel/m` into the variable name and the suffix (after the last '/'). */
export function splitWeightName(name: string): [variable: string, suffix: string] {
  const cut = name.lastIndexOf('/');
  if (cut <= 0) {
    throw new RangeError(
      `tfjsOptimizer.setWeights: weight name '${name}' is not '<variable>/<state>'`,
    );
  }
  return [name.slice(0, cut), name.slice(cut + 1)];
}
