import { gaussian, seededRandom } from '../shared/random.ts';

/**
 * 2-D loss surfaces the optimizers race on. Each has a host function (for the contour plot and the
 * swarm's loss curve) and the same function with its analytic gradient in WGSL (for the kernel
 * that writes the gradients the optimizers read).
 */
export interface Surface {
  id: string;
  label: string;
  /** Plot window [xMin, xMax, yMin, yMax]. */
  domain: [number, number, number, number];
  start: [number, number];
  /** Draw contours of log(f - fMin + 1e-3): for surfaces spanning many decades. */
  logContours: boolean;
  /** f >= 0 with minimum 0: plot loss curves on a log scale. */
  logLoss: boolean;
  /** Where the global minimum is, when known (drawn as a star). */
  minimum?: [number, number];
  f(x: number, y: number): number;
  /** WGSL defining `fn surfaceLoss(p: vec2f) -> f32` and `fn surfaceGrad(p: vec2f) -> vec2f`. */
  wgsl: string;
}

/**
 * f = 0.1 x^2 + 3.56 y^2: curvatures 0.2 and 7.12. Gradient descent with lr 0.28 multiplies y by
 * 1 - 0.28*7.12 = -0.99 each step (a zig-zag that barely decays) while crawling in x: seed 000's
 * oscillation. AdaGrad's per-coordinate scaling walks straight in.
 */
const bowl: Surface = {
  id: 'bowl',
  label: 'Ill-conditioned bowl  0.1x² + 3.56y²',
  domain: [-6, 6, -3, 3],
  start: [-5, 2],
  logContours: false,
  logLoss: true,
  minimum: [0, 0],
  f: (x, y) => 0.1 * x * x + 3.56 * y * y,
  wgsl: /* wgsl */ `
fn surfaceLoss(p: vec2f) -> f32 { return 0.1 * p.x * p.x + 3.56 * p.y * p.y; }
fn surfaceGrad(p: vec2f) -> vec2f { return vec2f(0.2 * p.x, 7.12 * p.y); }`,
};

/** Rosenbrock's banana valley (1-x)^2 + 100 (y-x^2)^2, minimum at (1, 1). */
const rosenbrock: Surface = {
  id: 'rosenbrock',
  label: 'Rosenbrock  (1−x)² + 100(y−x²)²',
  domain: [-2, 2, -1, 3],
  start: [-1.5, 2.5],
  logContours: true,
  logLoss: true,
  minimum: [1, 1],
  f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
  wgsl: /* wgsl */ `
fn surfaceLoss(p: vec2f) -> f32 { let a = 1.0 - p.x; let b = p.y - p.x * p.x; return a * a + 100.0 * b * b; }
fn surfaceGrad(p: vec2f) -> vec2f {
  let b = p.y - p.x * p.x;
  return vec2f(-2.0 * (1.0 - p.x) - 400.0 * p.x * b, 200.0 * b);
}`,
};

/** Beale's function: flat plateaus and sharp ridges, minimum at (3, 0.5). */
const beale: Surface = {
  id: 'beale',
  label: 'Beale',
  domain: [-4.5, 4.5, -4.5, 4.5],
  start: [1, 1.5],
  logContours: true,
  logLoss: true,
  minimum: [3, 0.5],
  f: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
  wgsl: /* wgsl */ `
fn bealeTerms(p: vec2f) -> vec3f {
  return vec3f(1.5, 2.25, 2.625) - p.x + p.x * vec3f(p.y, p.y * p.y, p.y * p.y * p.y);
}
fn surfaceLoss(p: vec2f) -> f32 { let t = bealeTerms(p); return dot(t, t); }
fn surfaceGrad(p: vec2f) -> vec2f {
  let t = bealeTerms(p);
  let y = p.y;
  let dx = 2.0 * dot(t, vec3f(y - 1.0, y * y - 1.0, y * y * y - 1.0));
  let dy = 2.0 * dot(t, p.x * vec3f(1.0, 2.0 * y, 3.0 * y * y));
  return vec2f(dx, dy);
}`,
};

/** A saddle at the origin, x^2 - y^2 + y^4/4, with minima at (0, ±√2): who escapes, and how fast. */
const saddle: Surface = {
  id: 'saddle',
  label: 'Saddle  x² − y² + y⁴/4',
  domain: [-3, 3, -3, 3],
  start: [-2.5, 0.001],
  logContours: false,
  logLoss: false,
  minimum: [0, Math.SQRT2],
  f: (x, y) => x * x - y * y + y ** 4 / 4,
  wgsl: /* wgsl */ `
fn surfaceLoss(p: vec2f) -> f32 { return p.x * p.x - p.y * p.y + 0.25 * p.y * p.y * p.y * p.y; }
fn surfaceGrad(p: vec2f) -> vec2f { return vec2f(2.0 * p.x, -2.0 * p.y + p.y * p.y * p.y); }`,
};

/**
 * A seeded random smooth surface, as in seed article 002: a sum of Gaussian bumps and wells
 * f = 0.02|p|^2 + sum_k a_k exp(-|p - c_k|^2 / (2 s_k^2)) (the faint bowl keeps it bounded below).
 */
export function randomSurface(seed: number): Surface {
  const random = seededRandom(seed);
  const bumps = Array.from({ length: 10 }, (_, k) => ({
    a: k < 6 ? -(0.6 + random() * 1.4) : 0.4 + random() * 1.0,
    cx: (random() * 2 - 1) * 4,
    cy: (random() * 2 - 1) * 4,
    s: 0.8 + Math.abs(gaussian(random)) * 0.6,
  }));
  const f = (x: number, y: number) =>
    0.02 * (x * x + y * y) +
    bumps.reduce(
      (sum, b) => sum + b.a * Math.exp(-((x - b.cx) ** 2 + (y - b.cy) ** 2) / (2 * b.s * b.s)),
      0,
    );
  const n = (v: number) => v.toFixed(6);
  const terms = bumps
    .map(
      (b) =>
        `  { let d = p - vec2f(${n(b.cx)}, ${n(b.cy)}); let e = ${n(b.a)} * exp(-dot(d, d) * ${n(1 / (2 * b.s * b.s))});` +
        ` loss += e; grad += -e * d * ${n(1 / (b.s * b.s))}; }`,
    )
    .join('\n');
  return {
    id: 'random',
    label: `Random smooth (seed ${seed})`,
    domain: [-5, 5, -5, 5],
    start: [-4, 4],
    logContours: false,
    logLoss: false,
    f,
    wgsl: /* wgsl */ `
fn surfaceLossGrad(p: vec2f) -> vec3f {
  var loss = 0.02 * dot(p, p);
  var grad = 0.04 * p;
${terms}
  return vec3f(grad, loss);
}
fn surfaceLoss(p: vec2f) -> f32 { return surfaceLossGrad(p).z; }
fn surfaceGrad(p: vec2f) -> vec2f { return surfaceLossGrad(p).xy; }`,
  };
}

export function surfaceById(id: string, seed = 2): Surface {
  const s = [bowl, rosenbrock, beale, saddle].find((x) => x.id === id);
  return s ?? randomSurface(seed);
}

export const SURFACE_IDS = ['bowl', 'rosenbrock', 'beale', 'saddle', 'random'] as const;
export const SURFACE_LABELS: Record<string, string> = {
  bowl: bowl.label,
  rosenbrock: rosenbrock.label,
  beale: beale.label,
  saddle: saddle.label,
  random: 'Random smooth surface (seeded)',
};
