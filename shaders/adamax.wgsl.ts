import { firstMoment } from './moments.wgsl.ts';
/**
 * Adamax: first moment and exponentially weighted infinity norm, stepped by clr = lr/(1-beta1^t)
 * from the host. `max(beta2*u, |g|+eps)` is torch's amax over cat([exp_inf*beta2, |g|+eps]).
 */
export const adamaxBody = (): string => `
${firstMoment}
  expInf = max(h.beta2 * expInf, abs(g) + h.eps);
  p = p - h.clr * (expAvg / expInf);
`;
