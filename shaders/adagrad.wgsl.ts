import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';

/** Adagrad: accumulate g^2, step by clr*g/(sqrt(sum)+eps); clr = lr/(1+(t-1)*lrDecay) from the host. */
export const adagradBody = (v: Variant): string => wgsl`
  sum = sum + g * g;
#if ${v.epsInsideSqrt}
  let denom = sqrt(sum + h.eps);
#else
  let denom = sqrt(sum) + h.eps;
#endif
  p = p - h.clr * (g / denom);
`;
