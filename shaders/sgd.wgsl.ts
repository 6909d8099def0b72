import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';

/** SGD: momentum buffer (a copy of g on its first step), optional Nesterov look-ahead, then p -= lr*d. */
export const sgdBody = (v: Variant): string => wgsl`
#if ${v.momentum}
  if (h.first != 0.0) {
    momentumBuffer = g;
  } else {
    momentumBuffer = h.momentum * momentumBuffer + h.oneMinusDampening * g;
  }
#if ${v.nesterov}
  g = g + h.momentum * momentumBuffer;
#else
  g = momentumBuffer;
#endif
#endif
  p = p - h.lr * g;
`;
