import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';
import { adamMoments } from './moments.wgsl.ts';

/**
 * Adam's moments and bias-corrected step (AdamW adds the decoupled decay first). The bias
 * corrections come from the host in float64: stepSize = lr/(1-beta1^t), biasCorrection2Sqrt =
 * sqrt(1-beta2^t).
 */
export const adamBody = (v: Variant): string => wgsl`
#if ${v.decoupled}
  p = p * h.decay;
#endif
${adamMoments}
#if ${v.amsgrad}
  maxExpAvgSq = max(maxExpAvgSq, expAvgSq);
  let denom = sqrt(maxExpAvgSq) / h.biasCorrection2Sqrt + h.eps;
#else
  let denom = sqrt(expAvgSq) / h.biasCorrection2Sqrt + h.eps;
#endif
  p = p - h.stepSize * (expAvg / denom);
`;
