import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';

/**
 * ADOPT: the first step only accumulates v (h.first = 1, decided per step on the host); later
 * steps normalise g by the previous v, clip it to +-clip = (t-1)^0.25, move m towards it (torch's
 * lerp: the form depends on whether the weight is below 0.5), step p by -lr*m, then update v.
 */
export const adoptBody = (v: Variant): string => wgsl`
  if (h.first != 0.0) {
    expAvgSq = expAvgSq + g * g;
  } else {
#if ${v.decouple}
    p = p + h.decayCoef * p;
#endif
    let normed = clamp(g / max(sqrt(expAvgSq), T(h.eps)), T(-h.clip), T(h.clip));
    expAvg = select(normed - (normed - expAvg) * h.beta1, expAvg + h.oneMinusBeta1 * (normed - expAvg),
                    h.oneMinusBeta1 < 0.5);
    p = p + h.negLr * expAvg;
    expAvgSq = expAvgSq * h.beta2 + h.oneMinusBeta2 * g * g;
  }
`;
