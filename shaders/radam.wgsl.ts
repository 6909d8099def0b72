import { adamMoments } from './moments.wgsl.ts';
/**
 * RAdam: Adam's moments, then either the rectified adaptive step or the plain momentum step. The
 * host decides the branch (rhoT > 5) and passes it as `rectified` (1 or 0), so one pipeline serves
 * every step; stepSize = lr*r*sqrt(1-beta2^t)/(1-beta1^t) when rectified, else lr/(1-beta1^t).
 */
export const radamBody = (): string => `
${adamMoments}
  let denom = select(T(1.0), sqrt(expAvgSq) + h.eps, h.rectified != 0.0);
  p = p - h.stepSize * (expAvg / denom);
`;
