import { muonPasses } from '../../shaders/muon.wgsl.ts';
import { muonReference, type MuonOptions } from '../reference/muon.ts';
import { boolean, check, describe, nonNegative } from '../validate.ts';
import { defineSpec } from './spec.ts';

const ADJUST_LR_FNS = [null, 'original', 'match_rms_adamw'];

/**
 * Muon (Jordan et al. 2024, https://kellerjordan.github.io/posts/muon/) as torch.optim.Muon, for
 * 2-D parameters (hidden layers' weight matrices; pair it with AdamW for the rest):
 *
 *   b <- lerp(b, g, 1 - momentum);  u = nesterov ? lerp(g, b, momentum) : b
 *   X = u / max(||u||_F, eps), transposed when rows > cols
 *   nsSteps times: G = X X^T;  X <- a X + (b G + c G G) X        ((a, b, c) = nsCoefficients)
 *   p <- p * (1 - lr*weightDecay) - lr * ratio * X
 *   ratio = sqrt(max(1, rows/cols)) (adjustLrFn null or 'original'), 0.2 sqrt(max(rows, cols))
 *   ('match_rms_adamw')
 *
 * The Newton-Schulz products are tiled GEMMs in workgroup memory, in float32 (torch uses
 * bfloat16 there on GPUs).
 */
export const muonSpec = defineSpec<MuonOptions>()({
  name: 'Muon',
  defaults: {
    lr: 1e-3,
    weightDecay: 0.1,
    momentum: 0.95,
    nesterov: true,
    nsCoefficients: [3.4445, -4.775, 2.0315],
    eps: 1e-7,
    nsSteps: 5,
    adjustLrFn: null,
  },
  validate(o) {
    check('Muon', o as never, {
      lr: nonNegative,
      weightDecay: nonNegative,
      momentum: nonNegative,
      nesterov: boolean,
      eps: nonNegative,
    });
    const k = o.nsCoefficients as unknown;
    if (
      !Array.isArray(k) ||
      k.length !== 3 ||
      !k.every((v) => typeof v === 'number' && Number.isFinite(v))
    )
      throw new RangeError(
        `Muon: nsCoefficients must be three finite numbers [a, b, c], got ${describe(k)}`,
      );
    if (!Number.isInteger(o.nsSteps) || o.nsSteps < 0 || o.nsSteps >= 100)
      throw new RangeError(
        `Muon: nsSteps must be an integer in [0, 100), got ${describe(o.nsSteps)}`,
      );
    if (!ADJUST_LR_FNS.includes(o.adjustLrFn))
      throw new RangeError(
        `Muon: adjustLrFn must be null, 'original' or 'match_rms_adamw', got ${describe(o.adjustLrFn)}`,
      );
  },
  variant: (o) => ({ nesterov: o.nesterov, matchRms: o.adjustLrFn === 'match_rms_adamw' }),
  states: () => ({ momentumBuffer: 0 }),
  program: (o, shape) => {
    const [rows, cols] = shape as [number, number];
    const short = Math.min(rows, cols);
    return {
      passes: muonPasses(o.nesterov, o.adjustLrFn === 'match_rms_adamw', o.nsSteps),
      sums: 1,
      work: { x: rows * cols, y: rows * cols, gram: short * short, poly: short * short },
    };
  },
  programOptions: ['nsSteps'],
  checkShape: (shape) =>
    shape.length === 2
      ? undefined
      : 'Muon only supports 2-D parameters (optimize biases, norms and embeddings with AdamW)',
  fields: ['lr', 'decay', 'momentum', 'oneMinusMomentum', 'eps', 'nsA', 'nsB', 'nsC'],
  scalars(o, state) {
    state.step += 1;
    const [nsA, nsB, nsC] = o.nsCoefficients;
    return {
      lr: o.lr,
      decay: 1 - o.lr * o.weightDecay,
      momentum: o.momentum,
      oneMinusMomentum: 1 - o.momentum,
      eps: o.eps,
      nsA,
      nsB,
      nsC,
    };
  },
  maximize: false,
  l2: false,
  reference: muonReference,
  testOptions: [
    { lr: 0.02 },
    {
      lr: 0.02,
      nesterov: false,
      weightDecay: 0,
      momentum: 0.8,
      nsSteps: 3,
      adjustLrFn: 'match_rms_adamw',
    },
  ],
});
