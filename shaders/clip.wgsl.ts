import { BLOCK_LANES, CLIP_TOTAL } from './layout.ts';

/**
 * Gradient clipping kernels. The gradients are bound as `p` (the launcher's parameter slot), so
 * the generic norm pass and update kernel apply: `clipNormPass` feeds ||g|| per tensor,
 * `clipTotal` turns the per-tensor norms into PyTorch's total norm and clip coefficient, and
 * `clipScale` multiplies every gradient by it.
 */
export const clipNormPass = 'n0 = p;';
export const clipScale = 'p = p * norm(tensor, 0u);';
export const clipValueBody = 'p = clamp(p, T(-h.clipValue), T(h.clipValue));';

/**
 * One workgroup: total = sqrt(sum of per-tensor norms^2) (torch: the norm of the stacked
 * per-tensor norms), coef = min(1, maxNorm / (total + 1e-6)); writes total to results[slot] and
 * coef over every tensor's norm slot, where clipScale reads it.
 */
export const clipTotal = `
${CLIP_TOTAL.wgsl}
@group(0) @binding(0) var<uniform> u: Total;
@group(0) @binding(1) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(2) var<storage, read_write> results: array<f32>;
var<workgroup> sums: array<f32, ${BLOCK_LANES}>;

@compute @workgroup_size(${BLOCK_LANES})
fn main(@builtin(local_invocation_index) lane: u32) {
  var acc = 0.0;
  for (var i = lane; i < u.tensorCount; i = i + ${BLOCK_LANES}u) {
    let n = scratch[u.normBase + i];
    acc = acc + n * n;
  }
  sums[lane] = acc;
  workgroupBarrier();
  for (var s = ${BLOCK_LANES / 2}u; s > 0u; s = s >> 1u) {
    if (lane < s) { sums[lane] = sums[lane] + sums[lane + s]; }
    workgroupBarrier();
  }
  let total = sqrt(sums[0]);
  let coef = min(1.0, u.maxNorm / (total + 1e-6));
  if (lane == 0u) { results[u.slot] = total; }
  for (var i = lane; i < u.tensorCount; i = i + ${BLOCK_LANES}u) {
    scratch[u.normBase + i] = coef;
  }
}
`;
