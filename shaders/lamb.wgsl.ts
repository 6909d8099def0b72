import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Variant } from './layout.ts';
import { adamMoments } from './moments.wgsl.ts';

/**
 * LAMB: Adam's direction plus decoupled decay, u = mhat/(sqrt(vhat)+eps) + weightDecay*p, scaled
 * per tensor by the trust ratio ||p||/||u||. The norm pass advances and stores the moments and
 * measures ||p|| and ||u||; the update pass recomputes u from the stored moments (the same
 * float32 values, p unchanged in between) without reading g, and applies p -= lr*r*u. Without
 * normStores (low-precision state, see Optimizer.kernelVariant) both passes advance the moments
 * from g and the stored state, and the update pass stores them.
 */
export const lambBody = (v: Variant): string => wgsl`
#if ${v.normPass || v.normStores === false}
${adamMoments}
#endif
  let update = expAvg / h.biasCorrection1 / (sqrt(expAvgSq / h.biasCorrection2) + h.eps) + h.weightDecay * p;
#if ${v.normPass}
  n0 = p;
  n1 = update;
#else
  let paramNorm = norm(tensor, 0u);
  let updateNorm = norm(tensor, 1u);
  let trustRatio = select(1.0, paramNorm / updateNorm, paramNorm > 0.0 && updateNorm > 0.0);
  p = p - h.lr * trustRatio * update;
#endif
`;
