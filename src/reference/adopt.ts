/**
 * ADOPT (Taniguchi et al., NeurIPS 2024, https://arxiv.org/abs/2411.02853), as the authors'
 * iShohei220/adopt (src/adopt/adopt.py) with its default clip_lambda(step) = step^0.25:
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p unless decouple
 *   first step (step 0): v <- v + g^2, nothing else
 *   then, s = the steps taken before this one:
 *     decouple: p <- p - lr*weightDecay*p
 *     n = clamp(g / max(sqrt(v), eps), -s^0.25, s^0.25)
 *     m <- lerp(m, n, 1 - beta1);   p <- p - lr*m;   v <- beta2*v + (1 - beta2)*g^2
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface ADOPTOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decouple: boolean;
  maximize: boolean;
}

export const adoptReference: ReferenceOptimizer<ADOPTOptions> = {
  name: 'ADOPT',
  init: (n) => ({ step: 0, expAvg: new Float64Array(n), expAvgSq: new Float64Array(n) }),
  step(p, g, state, o) {
    const before = state.step;
    state.step += 1;
    const d = effectiveGradient(p, g, o.maximize, o.decouple ? 0 : o.weightDecay);
    const m = buffer(state, 'expAvg');
    const v = buffer(state, 'expAvgSq');
    if (before === 0) {
      for (let i = 0; i < p.length; i++) v[i] += d[i] * d[i];
      return;
    }
    const [beta1, beta2] = o.betas;
    const clip = before ** 0.25;
    for (let i = 0; i < p.length; i++) {
      if (o.decouple && o.weightDecay !== 0) p[i] -= o.lr * o.weightDecay * p[i];
      const n = Math.min(clip, Math.max(-clip, d[i] / Math.max(Math.sqrt(v[i]), o.eps)));
      m[i] += (1 - beta1) * (n - m[i]);
      p[i] -= o.lr * m[i];
      v[i] = beta2 * v[i] + (1 - beta2) * d[i] * d[i];
    }
  },
};
