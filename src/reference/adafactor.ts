/**
 * Adafactor (Shazeer & Stern 2018, https://arxiv.org/abs/1804.04235) as torch.optim.Adafactor
 * (torch >= 2.5, torch/optim/_adafactor.py), in float64. For a tensor of 2+ dimensions seen as
 * matrices [batch, rows, cols] (the last two dimensions):
 *
 *   g <- -g if maximize;  t <- t + 1;  w = t^beta2Decay;  rho = min(lr, 1/sqrt(t))
 *   alpha = max(eps2, RMS(p)) * rho                        (p before this step's decay)
 *   p <- p * (1 - lr*weightDecay)
 *   rowVar <- lerp(rowVar, mean over cols of g^2, w);  colVar <- lerp(colVar, mean over rows of g^2, w)
 *   v = rowVar (x) colVar / max(mean over rows of rowVar, eps1)     (per matrix)
 *   vectors (0 or 1 dimension): variance <- lerp(variance, g^2, w);  v = variance
 *   u = g / sqrt(max(v, eps1^2));  p <- p - alpha / max(1, RMS(u)/d) * u
 *
 * eps1 null means float32's machine epsilon (torch uses the parameter dtype's).
 */
import { matrixView } from '../shape.ts';
import { buffer, type ReferenceOptimizer, type ReferenceState } from './types.ts';

export interface AdafactorOptions {
  lr: number;
  beta2Decay: number;
  eps: [number | null, number];
  d: number;
  weightDecay: number;
  maximize: boolean;
}

/** torch.finfo(torch.float32).eps, eps1's default. */
export const FLOAT32_EPS = 2 ** -23;

const rms = (x: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s) / Math.sqrt(x.length);
};

/** Whether Adafactor factors a tensor of this shape (2+ dimensions). */
export const factored = (shape: readonly number[]) => shape.length > 1;

export const adafactorReference: ReferenceOptimizer<AdafactorOptions> = {
  name: 'Adafactor',
  init(n, _o, shape = [n]): ReferenceState {
    if (!factored(shape)) return { step: 0, variance: new Float64Array(n) };
    const { batch, rows, cols } = matrixView(shape);
    return {
      step: 0,
      rowVar: new Float64Array(batch * rows),
      colVar: new Float64Array(batch * cols),
    };
  },
  step(p, g0, state, o, shape = [p.length]) {
    const t = (state.step += 1);
    const g = o.maximize ? g0.map((x) => -x) : g0;
    const eps1 = o.eps[0] ?? FLOAT32_EPS;
    const eps2 = o.eps[1];
    const w = t ** o.beta2Decay;
    const rho = Math.min(o.lr, 1 / Math.sqrt(t));
    const alpha = Math.max(eps2, rms(p)) * rho;
    if (o.weightDecay !== 0) for (let i = 0; i < p.length; i++) p[i] *= 1 - o.lr * o.weightDecay;
    const v = new Float64Array(p.length);
    if (factored(shape)) {
      const { batch, rows, cols } = matrixView(shape);
      const rowVar = buffer(state, 'rowVar');
      const colVar = buffer(state, 'colVar');
      for (let b = 0; b < batch; b++) {
        const at = (r: number, c: number) => (b * rows + r) * cols + c;
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let c = 0; c < cols; c++) s += g[at(r, c)]! ** 2;
          rowVar[b * rows + r] += w * (s / cols - rowVar[b * rows + r]!);
        }
        for (let c = 0; c < cols; c++) {
          let s = 0;
          for (let r = 0; r < rows; r++) s += g[at(r, c)]! ** 2;
          colVar[b * cols + c] += w * (s / rows - colVar[b * cols + c]!);
        }
        let mean = 0;
        for (let r = 0; r < rows; r++) mean += rowVar[b * rows + r]!;
        mean = Math.max(mean / rows, eps1);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++)
            v[at(r, c)] = (rowVar[b * rows + r]! * colVar[b * cols + c]!) / mean;
      }
    } else {
      const variance = buffer(state, 'variance');
      for (let i = 0; i < p.length; i++) {
        variance[i] += w * (g[i]! * g[i]! - variance[i]!);
        v[i] = variance[i]!;
      }
    }
    const u = v.map((x, i) => g[i]! / Math.sqrt(Math.max(x, eps1 * eps1)));
    const scale = alpha / Math.max(1, rms(u) / o.d);
    for (let i = 0; i < p.length; i++) p[i] -= scale * u[i]!;
  },
};
