import { adamMoments } from './moments.wgsl.ts';
/**
 * NAdam: Adam's moments, then torch's two addcdiv_ steps along g and m. Every step-dependent
 * coefficient (mu_t, mu_{t+1}, muProduct, 1-beta2^t) is folded on the host in float64:
 * gradCoef = -lr*(1-mu_t)/(1-muProduct), expAvgCoef = -lr*mu_{t+1}/(1-muProduct*mu_{t+1}).
 */
export const nadamBody = (): string => `
${adamMoments}
  let denom = sqrt(expAvgSq / h.biasCorrection2) + h.eps;
  p = p + h.gradCoef * (g / denom);
  p = p + h.expAvgCoef * (expAvg / denom);
`;
