import type { Surface } from './surfaces.ts';

/**
 * The gradient kernel of a race: one invocation per point, reading the points (parameters) and
 * writing the surface gradient into the gradient buffer the optimizers read. Each racer's points
 * sit in their own region of `points` (`stride` floats apart, x and y interleaved). While
 * `step < historyCapacity` it also records (x, y, loss) at slot `step`, so trajectories stay on
 * the GPU until the page draws them. Racers whose bit is set in `evalMask` (schedule-free ones:
 * their parameters hold y, where gradients are taken, while the point to show is x) are recorded
 * by surfaceRecordWgsl instead, while the optimizer has them at x.
 */
export function surfaceGradientWgsl(surface: Surface, record = false): string {
  return /* wgsl */ `
struct Race { count: u32, racers: u32, stride: u32, step: u32, historyCapacity: u32, evalMask: u32 }
@group(0) @binding(0) var<uniform> race: Race;
@group(0) @binding(1) var<storage, read> points: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> history: array<vec4f>;
${surface.wgsl}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= race.count * race.racers) { return; }
  let base = (i / race.count) * race.stride + 2u * (i % race.count);
  let p = vec2f(points[base], points[base + 1u]);
  let recordedHere = ((race.evalMask >> (i / race.count)) & 1u) == ${record ? '1u' : '0u'};
${
  record
    ? '  _ = &grads;'
    : `  let g = surfaceGrad(p);
  grads[base] = g.x;
  grads[base + 1u] = g.y;`
}
  if (race.step < race.historyCapacity && recordedHere) {
    history[race.step * race.count * race.racers + i] = vec4f(p, surfaceLoss(p), 0.0);
  }
}`;
}

/** The history records of the racers in `evalMask`, taken while their parameters hold x. */
export const surfaceRecordWgsl = (surface: Surface) => surfaceGradientWgsl(surface, true);

/** Floats per racer region: 2 per point, padded to a vec4 so every region is 16-byte aligned. */
export function regionStride(count: number): number {
  return Math.ceil((2 * count) / 4) * 4;
}
