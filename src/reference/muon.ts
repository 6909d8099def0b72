/**
 * Muon (Jordan et al. 2024, https://kellerjordan.github.io/posts/muon/) as torch.optim.Muon
 * (torch/optim/_muon.py), in float64, for a matrix p of shape [A, B]:
 *
 *   b <- lerp(b, g, 1 - momentum);  u = nesterov ? lerp(g, b, momentum) : b
 *   X = u (transposed when A > B);  X <- X / max(||X||_F, eps)
 *   nsSteps times: G = X X^T;  X <- a X + (b' G + c G G) X      ((a, b', c) = nsCoefficients)
 *   p <- p * (1 - lr*weightDecay) - lr * ratio * X (transposed back)
 *   ratio = sqrt(max(1, A/B)) ('original', the default) or 0.2 sqrt(max(A, B)) ('match_rms_adamw')
 *
 * torch runs Newton-Schulz in bfloat16 on GPUs; this reference (and the engine) use float64
 * (float32), see README.
 */
import { buffer, type ReferenceOptimizer } from './types.ts';

export interface MuonOptions {
  lr: number;
  weightDecay: number;
  momentum: number;
  nesterov: boolean;
  nsCoefficients: [number, number, number];
  eps: number;
  nsSteps: number;
  adjustLrFn: null | 'original' | 'match_rms_adamw';
}

/** torch's _adjust_lr ratio for a parameter of shape [A, B]. */
export function muonLrRatio(fn: MuonOptions['adjustLrFn'], A: number, B: number): number {
  return fn === 'match_rms_adamw' ? 0.2 * Math.sqrt(Math.max(A, B)) : Math.sqrt(Math.max(1, A / B));
}

/** C = A (m x k) times B (k x n), row-major. */
function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let q = 0; q < k; q++) {
      const x = a[i * k + q]!;
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[q * n + j]!;
    }
  return c;
}

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
  return t;
}

/** Newton-Schulz orthogonalization of a rows x cols matrix (torch's _zeropower_via_newtonschulz). */
export function newtonSchulz(
  u: Float64Array,
  rows: number,
  cols: number,
  o: MuonOptions,
): Float64Array {
  const [a, b, c] = o.nsCoefficients;
  const flip = rows > cols;
  const [m, n] = flip ? [cols, rows] : [rows, cols];
  let x = flip ? transpose(u, rows, cols) : Float64Array.from(u);
  let norm = 0;
  for (const v of x) norm += v * v;
  const scale = Math.max(Math.sqrt(norm), o.eps);
  x = x.map((v) => v / scale);
  for (let s = 0; s < o.nsSteps; s++) {
    const gram = matmul(x, transpose(x, m, n), m, n, m);
    const gg = matmul(gram, gram, m, m, m);
    const poly = gram.map((v, i) => b * v + c * gg[i]!);
    const px = matmul(poly, x, m, m, n);
    x = x.map((v, i) => a * v + px[i]!);
  }
  return flip ? transpose(x, m, n) : x;
}

export const muonReference: ReferenceOptimizer<MuonOptions> = {
  name: 'Muon',
  init: (n) => ({ step: 0, momentumBuffer: new Float64Array(n) }),
  step(p, g, state, o, shape = [p.length, 1]) {
    state.step += 1;
    const [rows, cols] = shape as [number, number];
    const buf = buffer(state, 'momentumBuffer');
    const u = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      buf[i] += (1 - o.momentum) * (g[i]! - buf[i]!);
      u[i] = o.nesterov ? g[i]! + o.momentum * (buf[i]! - g[i]!) : buf[i]!;
    }
    const x = newtonSchulz(u, rows, cols, o);
    const lr = o.lr * muonLrRatio(o.adjustLrFn, rows, cols);
    for (let i = 0; i < p.length; i++) p[i] = p[i]! * (1 - o.lr * o.weightDecay) - lr * x[i]!;
  },
};
