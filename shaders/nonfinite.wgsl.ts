import { BLOCK_ITEMS, BLOCK_LANES, BLOCK_WORDS } from '../src/plan.ts';
import { SKIP_CANDIDATES } from './common.wgsl.ts';

/**
 * Skipping steps with non-finite gradients (PyTorch GradScaler's found_inf), without a readback.
 * flags = [found, skipped, dropped, _]: `nonFiniteCheck` sets `found` when any gradient element
 * has an all-ones exponent (Inf or NaN; a bit test, immune to fast-math), the update kernels
 * return early while it is set, and `nonFiniteCount` then counts the step as skipped and clears
 * `found` for the next one.
 */
export function nonFiniteCheck(vec: 1 | 4): string {
  const T = vec === 4 ? 'vec4<f32>' : 'f32';
  const U = vec === 4 ? 'vec4<u32>' : 'u32';
  return `
struct Launch { blockBase: u32, blockCount: u32, rowBase: u32, normBase: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> launch: Launch;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read> gradBuf: array<${T}>;
@group(0) @binding(4) var<storage, read_write> flags: array<atomic<u32>>;

@compute @workgroup_size(${BLOCK_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let b = wid.x + wid.y * grid.x;
  if (b >= launch.blockCount) { return; }
  let row = (launch.blockBase + b) * ${BLOCK_WORDS}u;
  let gradBase = table[row + 1u];
  let count = table[row + 3u];
  var found = false;
  for (var item = 0u; item < ${BLOCK_ITEMS}u; item = item + 1u) {
    let j = lane + item * ${BLOCK_LANES}u;
    if (j >= count) { break; }
    let bits = bitcast<${U}>(gradBuf[gradBase + j]) & ${U}(0x7f800000u);
    found = found || any(bits == ${U}(0x7f800000u));
  }
  if (found) { atomicOr(&flags[0], 1u); }
}
`;
}

/** One invocation after the update: count a skipped (or dropped) step and re-arm the flag. */
export const nonFiniteCount = `
@group(0) @binding(0) var<uniform> rowBase: vec4<u32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> flags: array<u32>;

@compute @workgroup_size(1)
fn main() {
  let unconfirmed = flags[1] - table[rowBase.x];
  if (flags[0] != 0u || unconfirmed >= ${SKIP_CANDIDATES}u) {
    flags[1] = flags[1] + 1u;
    if (flags[0] == 0u) { flags[2] = flags[2] + 1u; }
  }
  flags[0] = 0u;
}
`;
