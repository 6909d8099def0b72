/**
 * Gradient clipping references, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_
 * (https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html):
 *
 *   clipGradNorm:  total = sqrt(sum of g^2 over all tensors);  coef = min(1, maxNorm/(total + 1e-6))
 *                  g <- g*coef for every tensor (always multiplied, as torch)
 *   clipGradValue: g <- clamp(g, -clipValue, clipValue)
 */

/** Scales grads in place so that their joint norm is at most maxNorm; returns the norm before. */
export function clipGradNormReference(grads: Float64Array[], maxNorm: number): number {
  let sumOfSquares = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sumOfSquares += g[i] * g[i];
  const total = Math.sqrt(sumOfSquares);
  // The 1e-6 keeps the division finite at total 0 and makes coef < 1 even when total == maxNorm.
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return total;
}

/** Clamps every gradient element into [-clipValue, clipValue] in place. */
export function clipGradValueReference(grads: Float64Array[], clipValue: number): void {
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) g[i] = Math.min(Math.max(g[i], -clipValue), clipValue);
  }
}
