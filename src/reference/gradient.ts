/**
 * Gradient preprocessing shared by the references (CONVENTIONS.md, "Applied before every rule"):
 * `g <- -g` when maximizing, then L2 weight decay `g <- g + weightDecay*p`. Optimizers whose decay
 * is decoupled or part of their own rule (AdamW, Lion, LAMB, LARS) pass weightDecay 0 here.
 */

/** A new array holding g after maximize and L2 decay; g itself is never modified. */
export function effectiveGradient(
  p: Float64Array,
  g: Float64Array,
  maximize: boolean,
  weightDecay: number,
): Float64Array {
  if (p.length !== g.length) {
    throw new RangeError(`gradient length ${g.length} differs from parameter length ${p.length}`);
  }
  const out = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const gi = maximize ? -g[i] : g[i];
    // torch skips the add when weightDecay is 0; so do we, so that -0 and NaN*0 stay as in torch.
    out[i] = weightDecay !== 0 ? gi + weightDecay * p[i] : gi;
  }
  return out;
}

/** Euclidean norm of one tensor, as the per-tensor norms of LAMB and LARS. */
export function l2Norm(x: Float64Array): number {
  let sumOfSquares = 0;
  for (let i = 0; i < x.length; i++) sumOfSquares += x[i] * x[i];
  return Math.sqrt(sumOfSquares);
}
