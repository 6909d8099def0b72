import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';

/** torch.lerp's float form of `a` towards `b` by weight `w` (a uniform). */
const lerp = (a: string, b: string, w: string) =>
  `select(${b} - (${b} - ${a}) * (1.0 - ${w}), ${a} + ${w} * (${b} - ${a}), ${w} < 0.5)`;

/**
 * Schedule-free step on y (held in p) and z: z starts as a copy of p on its first step (h.first,
 * decided on the GPU from z's touched bit); AdamW first normalises g by sqrt(v)+eps and adds
 * decay at y. yCoef = lr*(beta*(1-ckp1)-1) comes from the host in float64.
 */
export const scheduleFreeBody = (v: Variant): string => wgsl`
  if (h.first != 0.0) {
    z = p;
  }
#if ${v.adam}
  expAvgSq = expAvgSq * h.beta2 + h.oneMinusBeta2 * g * g;
  g = g / (sqrt(expAvgSq) + h.eps);
#if ${v.decay}
  g = g + h.weightDecay * p;
#endif
#endif
  p = ${lerp('p', 'z', 'h.ckp1')};
  p = p + h.yCoef * g;
  z = z - h.lr * g;
`;

/** eval() (x = lerp(y, z, 1 - 1/beta)) or train() (y = lerp(x, z, 1 - beta)), once z exists. */
export const scheduleFreeModeBody = (mode: 'eval' | 'train'): string => `
  if (h.first == 0.0) {
    p = ${lerp('p', 'z', mode === 'eval' ? 'h.evalWeight' : 'h.trainWeight')};
  }
`;
