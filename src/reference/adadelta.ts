/**
 * Adadelta (Zeiler 2012, https://arxiv.org/abs/1212.5701), as torch.optim.Adadelta
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html):
 *
 *   g <- -g if maximize;  g <- g + weightDecay*p
 *   squareAvg <- rho*squareAvg + (1 - rho)*g^2
 *   d = sqrt(accDelta + eps) / sqrt(squareAvg + eps) * g
 *   accDelta <- rho*accDelta + (1 - rho)*d^2
 *   p <- p - lr*d
 */
import { effectiveGradient } from './gradient.ts';
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface AdadeltaOptions {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

export const adadeltaReference: ReferenceOptimizer<AdadeltaOptions> = {
  name: 'Adadelta',
  init: (n) => ({ step: 0, squareAvg: new Float64Array(n), accDelta: new Float64Array(n) }),
  step(p, g, state, options) {
    state.step += 1;
    const { lr, rho, eps } = options;
    const d = effectiveGradient(p, g, options.maximize, options.weightDecay);
    const squareAvg = buffer(state, 'squareAvg');
    const accDelta = buffer(state, 'accDelta');
    for (let i = 0; i < p.length; i++) {
      squareAvg[i] = rho * squareAvg[i] + (1 - rho) * d[i] * d[i];
      const delta = (Math.sqrt(accDelta[i] + eps) / Math.sqrt(squareAvg[i] + eps)) * d[i];
      accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
      p[i] -= lr * delta;
    }
  },
};
