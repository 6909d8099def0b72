/**
 * Lion: step by the sign of the interpolation c = beta1*m + (1-beta1)*g (WGSL sign(0) = 0, as the
 * paper), with decoupled decay `decay` = 1 - lr*weightDecay; m is updated with beta2 afterwards.
 */
export const lionBody = (): string => `
  let c = h.beta1 * expAvg + h.oneMinusBeta1 * g;
  p = p * h.decay - h.lr * sign(c);
  expAvg = h.beta2 * expAvg + h.oneMinusBeta2 * g;
`;
