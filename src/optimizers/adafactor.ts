import { adafactorMatrixPasses, adafactorVectorPasses } from '../../shaders/adafactor.wgsl.ts';
import {
  adafactorReference,
  factored,
  FLOAT32_EPS,
  type AdafactorOptions,
} from '../reference/adafactor.ts';
import { matrixView } from '../shape.ts';
import { boolean, check, describe, nonNegative } from '../validate.ts';
import { defineSpec, type StateShape } from './spec.ts';

/**
 * Adafactor (Shazeer & Stern 2018, https://arxiv.org/abs/1804.04235) as torch.optim.Adafactor:
 * second moments factored into per-row and per-column statistics for tensors of 2+ dimensions
 * (m + n floats for an m x n matrix instead of m*n), a relative step size and update clipping:
 *
 *   w = t^beta2Decay;  rho = min(lr, 1/sqrt(t));  alpha = max(eps2, RMS(p)) * rho
 *   p <- p * (1 - lr*weightDecay)
 *   rowVar <- lerp(rowVar, mean_cols g^2, w);  colVar <- lerp(colVar, mean_rows g^2, w)
 *   v = rowVar colVar^T / max(mean(rowVar), eps1)     (vectors: variance <- lerp(variance, g^2, w))
 *   u = g / sqrt(max(v, eps1^2));  p <- p - alpha / max(1, RMS(u)/d) * u
 *
 * Every reduction (row and column sums, RMS(p), RMS(u)) runs on the GPU; torch reads RMS(p) and
 * RMS(u) back with .item(), this engine never does.
 */
export const adafactorSpec = defineSpec<AdafactorOptions>()({
  name: 'Adafactor',
  defaults: {
    lr: 1e-2,
    beta2Decay: -0.8,
    eps: [null, 1e-3],
    d: 1,
    weightDecay: 0,
    maximize: false,
  },
  validate(o) {
    check('Adafactor', o as never, {
      lr: nonNegative,
      weightDecay: nonNegative,
      maximize: boolean,
    });
    if (typeof o.beta2Decay !== 'number' || !(o.beta2Decay <= 0))
      throw new RangeError(`Adafactor: beta2Decay must be <= 0, got ${describe(o.beta2Decay)}`);
    const eps = o.eps as unknown;
    if (!Array.isArray(eps) || eps.length !== 2)
      throw new RangeError(
        `Adafactor: eps must be a pair [eps1 or null, eps2], got ${describe(eps)}`,
      );
    if (eps[0] !== null) nonNegative('Adafactor', 'eps[0]', eps[0]);
    nonNegative('Adafactor', 'eps[1]', eps[1]);
    if (typeof o.d !== 'number' || !(o.d >= 1) || !Number.isFinite(o.d))
      throw new RangeError(`Adafactor: d must be >= 1, got ${describe(o.d)}`);
  },
  variant: () => ({}),
  states: () => ({ rowVar: 0, colVar: 0, variance: 0 }),
  stateShapes: (_o, shape): Record<string, StateShape> =>
    factored(shape) ? { rowVar: 'rows', colVar: 'cols' } : { variance: 'param' },
  program: (_o, shape) =>
    factored(shape)
      ? { passes: adafactorMatrixPasses, sums: 2 + matrixView(shape).batch, work: {} }
      : { passes: adafactorVectorPasses, sums: 2, work: {} },
  fields: ['w', 'rho', 'decay', 'eps1', 'eps1sq', 'eps2', 'd'],
  scalars(o, state) {
    const t = (state.step += 1);
    const eps1 = o.eps[0] ?? FLOAT32_EPS;
    return {
      w: t ** o.beta2Decay,
      rho: Math.min(o.lr, 1 / Math.sqrt(t)),
      decay: 1 - o.lr * o.weightDecay,
      eps1,
      eps1sq: eps1 * eps1,
      eps2: o.eps[1],
      d: o.d,
    };
  },
  maximize: true,
  l2: false,
  reference: adafactorReference,
  testOptions: [
    {},
    { lr: 0.05, beta2Decay: -0.5, eps: [1e-30, 1e-3], d: 2, weightDecay: 0.1, maximize: true },
  ],
});
