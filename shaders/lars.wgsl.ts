import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';

/**
 * LARS: the norm pass measures ||p|| and ||g||; the update scales the decayed gradient by the
 * per-tensor local rate trustCoefficient*||p||/(||g|| + weightDecay*||p||) into the momentum buffer.
 */
export const larsBody = (v: Variant): string => wgsl`
#if ${v.normPass}
  n0 = p;
  n1 = g;
#else
  let paramNorm = norm(tensor, 0u);
  let gradNorm = norm(tensor, 1u);
  let localLr = select(1.0, h.trustCoefficient * paramNorm / (gradNorm + h.weightDecay * paramNorm),
                       paramNorm > 0.0 && gradNorm > 0.0);
  momentumBuffer = h.momentum * momentumBuffer + localLr * (g + h.weightDecay * p);
  p = p - h.lr * momentumBuffer;
#endif
`;
