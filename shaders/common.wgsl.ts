import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { BLOCK_LANES, BLOCK_WORDS } from '../src/plan.ts';

/**
 * The one generic elementwise launcher's WGSL. An optimizer supplies only its math (`body`), the
 * per-tensor scalars it reads (`fields`, available as `h.<field>`) and its state names (each a
 * local variable of type T, loaded before and stored after the body). This file owns bindings,
 * the block-table lookup, bounds checks, vec4/scalar access and the 2-D grid.
 */
export interface ElementwiseKernel {
  /** Pipeline label, e.g. 'adam/amsgrad/vec4'. */
  label: string;
  vec: 1 | 4;
  /** Scalars per tensor, in row order; the WGSL struct and the host packing both come from it. */
  fields: readonly string[];
  /** State buffers, in binding order. */
  states: readonly string[];
  /** Statements updating `p` and the state variables from `g` (a `var` the body may change). */
  body: string;
  /** Negate g first (PyTorch's maximize). */
  maximize: boolean;
  /** Add L2 weight decay `g += h.weightDecay * p` before the body. */
  l2: boolean;
  /** Extra module-scope declarations (bindings after the states, helpers). */
  declarations?: string;
  /** Statements run after the bounds check and before loading (e.g. a skip flag test). */
  guard?: string;
}

/** First binding index of the state buffers. */
export const FIRST_STATE_BINDING = 4;

/** WGSL struct `Hyper` with one f32 per field and a loader from the table at `rowBase`. */
export function hyperStruct(fields: readonly string[]): string {
  const members = fields.map((f) => `  ${f}: f32,`).join('\n');
  const loads = fields.map((_, i) => `bitcast<f32>(table[o + ${i}u])`).join(',\n    ');
  return `struct Hyper {\n${members}\n  _pad: f32,\n}
fn hyper(tensor: u32) -> Hyper {
  let o = launch.rowBase + tensor * ${fields.length}u;
  return Hyper(${loads}${fields.length ? ',' : ''} 0.0);
}`;
}

export function elementwiseKernel(k: ElementwiseKernel): string {
  const T = k.vec === 4 ? 'vec4<f32>' : 'f32';
  const stateBindings = k.states
    .map(
      (s, i) =>
        `@group(0) @binding(${FIRST_STATE_BINDING + i}) var<storage, read_write> ${s}Buf: array<T>;`,
    )
    .join('\n');
  const loads = k.states.map((s) => `  var ${s} = ${s}Buf[si];`).join('\n');
  const stores = k.states.map((s) => `  ${s}Buf[si] = ${s};`).join('\n');
  return wgsl`
alias T = ${T};
struct Launch { blockBase: u32, blockCount: u32, rowBase: u32, partialBase: u32 }
@group(0) @binding(0) var<uniform> launch: Launch;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> paramBuf: array<T>;
@group(0) @binding(3) var<storage, read> gradBuf: array<T>;
${stateBindings}
${hyperStruct(k.fields)}
${k.declarations ?? ''}

@compute @workgroup_size(${BLOCK_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let b = wid.x + wid.y * grid.x;
  if (b >= launch.blockCount) { return; }
  let row = (launch.blockBase + b) * ${BLOCK_WORDS}u;
  if (lane >= table[row + 3u]) { return; }
  ${k.guard ?? ''}
  let pi = table[row] + lane;
  let si = table[row + 2u] + lane;
  let tensor = table[row + 4u];
  let h = hyper(tensor);
  var p = paramBuf[pi];
  var g = gradBuf[table[row + 1u] + lane];
${loads}
#if ${k.maximize}
  g = -g;
#endif
#if ${k.l2}
  g = g + h.weightDecay * p;
#endif
${k.body}
  paramBuf[pi] = p;
${stores}
}
`;
}
