import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';

/** RMSprop: running mean of g^2 (centered: minus the squared running mean of g), optional momentum. */
export const rmspropBody = (v: Variant): string => wgsl`
  squareAvg = h.alpha * squareAvg + h.oneMinusAlpha * g * g;
#if ${v.centered}
  gradAvg = h.alpha * gradAvg + h.oneMinusAlpha * g;
  let variance = squareAvg - gradAvg * gradAvg;
#else
  let variance = squareAvg;
#endif
#if ${v.epsInsideSqrt}
  let avg = sqrt(variance + h.eps);
#else
  let avg = sqrt(variance) + h.eps;
#endif
#if ${v.momentum}
  momentumBuffer = h.momentum * momentumBuffer + g / avg;
  p = p - h.lr * momentumBuffer;
#else
  p = p - h.lr * (g / avg);
#endif
`;
