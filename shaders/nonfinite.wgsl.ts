import { BINDING, entry } from './common.wgsl.ts';
import {
  BLOCK_ITEMS,
  BLOCK_LANES,
  blockWord,
  classCounterWgsl,
  COUNT,
  COUNTER_HEADER,
  LAUNCH,
} from './layout.ts';

/**
 * Skipping steps with non-finite gradients (PyTorch GradScaler's found_inf) and counting steps,
 * on the GPU alone. `nonFiniteCheck` sets counters.found when any gradient element has an
 * all-ones exponent (Inf or NaN; a bit test, immune to fast-math); the update kernels return
 * early while it is set; `stepCount` then advances the counters (COUNTER_HEADER, CLASS_COUNTERS).
 */
export function nonFiniteCheck(vec: 1 | 4, lanes = false): string {
  const T = vec === 4 ? 'vec4<f32>' : 'f32';
  const U = vec === 4 ? 'vec4<u32>' : 'u32';
  return `
${LAUNCH.wgsl}
@group(0) @binding(${BINDING.launch}) var<uniform> launch: Launch;
@group(0) @binding(${BINDING.table}) var<storage, read> table: array<u32>;
@group(0) @binding(${BINDING.grad}) var<storage, read> gradBuf: array<${T}>;
@group(0) @binding(${BINDING.counters}) var<storage, read_write> counters: array<atomic<u32>>;

${entry(lanes)}
  let gradBase = ${blockWord('grad')};
  let count = ${blockWord('count')};
  var found = false;
  for (var item = 0u; item < ${BLOCK_ITEMS}u; item = item + 1u) {
    let j = ${lanes ? 'item' : `lane + item * ${BLOCK_LANES}u`};
    if (j >= count) { break; }
    let bits = bitcast<${U}>(gradBuf[gradBase + j]) & ${U}(0x7f800000u);
    found = found || any(bits == ${U}(0x7f800000u));
  }
  if (found) { atomicOr(&counters[${COUNTER_HEADER.offset.found}u], 1u); }
}
`;
}

/**
 * One invocation after the update: a skipped step (found set) only counts as skipped; any other
 * step advances every class's step count and marks the states its kernel wrote
 * (table[maskBase + c]) as touched. Then `found` is re-armed for the next step.
 */
const H = COUNTER_HEADER.offset;

export const stepCount = `
${COUNT.wgsl}
@group(0) @binding(${BINDING.launch}) var<uniform> u: Count;
@group(0) @binding(${BINDING.table}) var<storage, read> table: array<u32>;
@group(0) @binding(${BINDING.counters}) var<storage, read_write> counters: array<u32>;

@compute @workgroup_size(1)
fn main() {
  if (counters[${H.found}u] != 0u) {
    counters[${H.skipped}u] = counters[${H.skipped}u] + 1u;
  } else {
    for (var c = 0u; c < u.classes; c = c + 1u) {
      let step = ${classCounterWgsl('c', 'step')};
      let touched = ${classCounterWgsl('c', 'touched')};
      counters[step] = counters[step] + 1u;
      counters[touched] = counters[touched] | table[u.maskBase + c];
    }
  }
  counters[${H.executed}u] = counters[${H.executed}u] + 1u;
  counters[${H.found}u] = 0u;
}
`;
