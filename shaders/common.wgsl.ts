import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import {
  BLOCK_ITEMS,
  BLOCK_LANES,
  BLOCK_WORDS,
  blockWord,
  classCounterWgsl,
  COUNTER_HEADER,
  LAUNCH,
  REDUCE,
} from './layout.ts';
import {
  blockwiseShared,
  blockwiseStores,
  isBlockwise,
  stateDecl,
  stateLoad,
  stateStore,
  storageHelpers,
  storageSetup,
  type Storage,
} from './state-storage.wgsl.ts';

/**
 * The generic launcher's WGSL. An optimizer supplies only its math (`body`), the per-tensor
 * scalars it reads (`fields`, available as `h.<field>`) and its state names (each a local `var` of
 * type T, loaded before and stored after the body). This file owns bindings, the block-table
 * lookup, bounds checks, vec4/scalar access, the 2-D grid, and the reductions behind
 * per-tensor norms (LAMB, LARS, gradient clipping).
 *
 * Bindings: see BINDING below.
 */
export interface ElementwiseKernel {
  /** Pipeline label, e.g. 'adam/amsgrad'. */
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
  /** Binds and loads the gradient (false for kernels over gradients bound as `p`, e.g. clipping). */
  grad?: boolean;
  /** Per-tensor norms the body reads as `norm(k)` (and a norm pass writes), 0 for none. */
  norms?: number;
  /** Gate on the skip flag: do nothing when a non-finite gradient was found this step. */
  skipFlag?: boolean;
  /** Scalars come from the step-indexed ring of the tensor's state class (optimizer steps). */
  stepped?: boolean;
  /** Fields computed on the GPU: 1.0 while the state with that bit was never written. */
  fresh?: Readonly<Record<string, number>>;
  /** A lane launch: each invocation updates one tiny tensor of its own (see planStep). */
  lanes?: boolean;
  /** Store the state variables after the body (default: the update pass does, the norm pass not). */
  stores?: boolean;
  /** How each state is stored (default float32; see shaders/state-storage.wgsl.ts). */
  storage?: Readonly<Record<string, Storage>>;
}

/** Whether the kernel's states are blockwise 8-bit (then all are; planStep gives them own blocks). */
const blockwise = (k: ElementwiseKernel): boolean =>
  k.states.some((s) => isBlockwise(k.storage?.[s]));

/**
 * Binding indices shared by the host (src/launcher.ts) and every kernel: 0 launch uniform,
 * 1 block table + scalar ring, 2 parameters, 3 gradients, 4 step counters, then the state
 * buffers, then the norm scratch.
 */
export const BINDING = { launch: 0, table: 1, param: 2, grad: 3, counters: 4 } as const;

/** First binding index of the state buffers. */
export const FIRST_STATE_BINDING = 5;

/** Binding of the scratch buffer (partial sums and norms) for a kernel with `states` states. */
export const scratchBinding = (states: number) => FIRST_STATE_BINDING + states;

/**
 * WGSL struct `Hyper` with one f32 per field and a loader for a state class's row. With
 * `stepped`, the rows form a ring indexed by step: the class's row for its next step t (its GPU
 * counter + 1) is at rowBase + (t & ringMask) * rowStride + class * fields (the ring's size is a
 * power of two, so no division), so the host never needs
 * to know which steps were skipped. `fresh` fields are not read from the row: each is 1.0 while
 * the named bit of the class's `touched` counter is clear (no applied step wrote that state).
 */
export function hyperStruct(
  fields: readonly string[],
  stepped = false,
  fresh: Readonly<Record<string, number>> = {},
): string {
  const members = fields.map((f) => `  ${f}: f32,`).join('\n');
  const loads = fields
    .map((f, i) =>
      stepped && f in fresh
        ? `select(0.0, 1.0, (touched & ${1 << fresh[f]!}u) == 0u)`
        : `bitcast<f32>(table[o + ${i}u])`,
    )
    .join(',\n    ');
  const where = stepped
    ? `let t = counters[${classCounterWgsl('index', 'step')}] + 1u;
  let touched = counters[${classCounterWgsl('index', 'touched')}];
  let o = launch.rowBase + (t & launch.ringMask) * launch.rowStride + index * ${fields.length}u;`
    : `let o = launch.rowBase + index * ${fields.length}u;`;
  return `struct Hyper {\n${members}\n  _pad: f32,\n}
fn hyper(index: u32) -> Hyper {
  ${where}
  return Hyper(${loads}${fields.length ? ',' : ''} 0.0);
}`;
}

/** The skip gate: a non-finite gradient was found this step. */
const skipGuard = `if (counters[${COUNTER_HEADER.offset.found}u] != 0u) { return; }`;

/** Squared-norm accumulator type for k norms. */
const accType = (k: number) => (k === 1 ? 'f32' : `vec${k}<f32>`);

/** Module scope shared by the update and norm kernels. */
function header(k: ElementwiseKernel, access: 'read' | 'read_write'): string {
  const norms = k.norms ?? 0;
  const storage = (s: string): Storage => k.storage?.[s] ?? 'f32';
  const states = k.states
    .map((s, i) => stateDecl(s, storage(s), FIRST_STATE_BINDING + i, k.vec, access))
    .join('\n');
  const shared = blockwise(k) && k.stores !== false ? blockwiseShared(k.vec) : '';
  return wgsl`
alias T = ${k.vec === 4 ? 'vec4<f32>' : 'f32'};
${LAUNCH.wgsl}
@group(0) @binding(0) var<uniform> launch: Launch;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, ${access}> paramBuf: array<T>;
#if ${k.grad !== false}
@group(0) @binding(3) var<storage, read> gradBuf: array<T>;
#endif
${storageHelpers(k.states.map(storage))}
${states}
${shared}
#if ${norms > 0}
@group(0) @binding(${scratchBinding(k.states.length)}) var<storage, read_write> scratch: array<f32>;
fn norm(tensor: u32, k: u32) -> f32 { return scratch[launch.normBase + tensor * ${norms}u + k]; }
#endif
#if ${k.skipFlag === true || k.stepped === true}
@group(0) @binding(${BINDING.counters}) var<storage, read> counters: array<u32>;
#endif
${hyperStruct(k.fields, k.stepped === true, k.fresh)}
`;
}

/** Reads the block row and the tensor's scalars, once per invocation (and the storages' setup). */
const blockHeader = (k: ElementwiseKernel) => `${blockHeaderText}
${storageSetup(
  k.states.map((s) => k.storage?.[s] ?? 'f32'),
  classCounterWgsl(blockWord('row'), 'step'),
)}`;

const blockHeaderText = `
  let paramBase = ${blockWord('param')};
  let gradBase = ${blockWord('grad')};
  let stateBase = ${blockWord('state')};
  let count = ${blockWord('count')};
  let tensor = ${blockWord('tensor')};
  let h = hyper(${blockWord('row')});`;

/**
 * Opens the loop over this invocation's items (closed by the caller): BLOCK_LANES apart in a
 * block, consecutive in a lane block (the invocation's tiny tensor is all its own). Blockwise
 * kernels reduce across lanes after the body, so their loop stays uniform: it ends when the
 * whole workgroup is past the block, and lanes past it run with `live` false.
 */
const itemLoop = (k: ElementwiseKernel) =>
  blockwise(k)
    ? `
  for (var item = 0u; item < ${BLOCK_ITEMS}u; item = item + 1u) {
  if (item * ${BLOCK_LANES}u >= count) { break; }
  let j = lane + item * ${BLOCK_LANES}u;
  let live = j < count;`
    : `
  for (var item = 0u; item < ${BLOCK_ITEMS}u; item = item + 1u) {
  let j = ${k.lanes ? 'item' : `lane + item * ${BLOCK_LANES}u`};
  if (j >= count) { break; }`;

/** The state stores after the body: per item, or (blockwise) through the block reduction. */
const storeStates = (k: ElementwiseKernel): string => {
  if (!blockwise(k)) return k.states.map((s) => stateStore(s, k.storage?.[s])).join('\n');
  const [blocks, others] = [true, false].map((b) =>
    k.states.filter((s) => isBlockwise(k.storage?.[s]) === b),
  );
  const plain = others!.map((s) => stateStore(s, k.storage?.[s])).join('\n');
  return `${plain ? `  if (live) {\n${plain}\n  }\n` : ''}${blockwiseStores(blocks!, k.vec)}`;
};

/** Loads item j's p, g and states and applies maximize and L2 decay. */
function prologue(k: ElementwiseKernel): string {
  const loads = k.states.map((s) => `  var ${s} = ${stateLoad(s, k.storage?.[s])};`).join('\n');
  return wgsl`
  let pi = paramBase + j;
  let si = stateBase + j;
  var p = paramBuf[pi];
#if ${k.grad !== false}
  var g = gradBuf[gradBase + j];
#endif
${loads}
#if ${k.maximize}
  g = -g;
#endif
#if ${k.l2}
  g = g + h.weightDecay * p;
#endif`;
}

/**
 * The entry point, up to the block row this invocation works from. In a lane block the row is
 * the lane's own (its tiny tensor's), found through the block's first lane row and lane count.
 */
export const entry = (lanes: boolean | undefined) => `@compute @workgroup_size(${BLOCK_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let b = wid.x + wid.y * grid.x;
  if (b >= launch.blockCount) { return; }
${
  lanes
    ? `  let block = (launch.blockBase + b) * ${BLOCK_WORDS}u;
  if (lane >= ${blockWord('count', 'block')}) { return; }
  let row = (${blockWord('param', 'block')} + lane) * ${BLOCK_WORDS}u;`
    : `  let row = (launch.blockBase + b) * ${BLOCK_WORDS}u;`
}`;

/** The update kernel: per item (vec4 or scalar), state loaded, body applied, all stored. */
export function elementwiseKernel(k: ElementwiseKernel): string {
  const stores = k.stores === false ? '' : storeStates(k);
  const storeParam = blockwise(k) ? 'if (live) { paramBuf[pi] = p; }' : 'paramBuf[pi] = p;';
  return wgsl`${header(k, 'read_write')}
${entry(k.lanes)}
#if ${k.skipFlag === true}
  ${skipGuard}
#endif
${blockHeader(k)}
${itemLoop(k)}
${prologue(k)}
${k.body}
  ${storeParam}
${stores}
  }
}
`;
}

/**
 * The norm pass: runs the body (which assigns n0..n{k-1}; the states are stored only with
 * `stores`, for rules whose norm pass advances them) over the invocation's items and writes each invocation's sums of squares to its own
 * slot, scratch[(partial * BLOCK_LANES + lane) * k + j]. No workgroup memory and no barrier:
 * software GPUs (SwiftShader) run any kernel with a barrier several times slower, and the extra
 * scratch traffic is k floats per BLOCK_ITEMS items.
 */
export function normKernel(k: ElementwiseKernel): string {
  const K = k.norms ?? 1;
  const stores = k.stores ? storeStates(k) : '';
  const sq = (x: string) => (k.vec === 4 ? `dot(${x}, ${x})` : `${x} * ${x}`);
  const declare = Array.from({ length: K }, (_, j) => `    var n${j} = T(0.0);`).join('\n');
  const squares = Array.from({ length: K }, (_, j) => sq(`n${j}`)).join(', ');
  const writes = Array.from(
    { length: K },
    (_, j) => `  scratch[slot + ${j}u] = acc${K === 1 ? '' : `[${j}]`};`,
  ).join('\n');
  // A lane's tensor is all its own: it writes the norms themselves, the reduction skips it.
  const finals = Array.from(
    { length: K },
    (_, j) => `  scratch[slot + ${j}u] = sqrt(acc${K === 1 ? '' : `[${j}]`});`,
  ).join('\n');
  return wgsl`${header({ ...k, norms: K }, 'read_write')}
${entry(k.lanes)}
#if ${k.skipFlag === true}
  ${skipGuard}
#endif
  var acc = ${accType(K)}(0.0);
${blockHeader(k)}
${itemLoop(k)}
${prologue(k)}
${declare}
${k.body}
${stores}
    acc = acc + ${blockwise(k) ? `select(${accType(K)}(0.0), ${accType(K)}(${squares}), live)` : `${accType(K)}(${squares})`};
  }
#if ${k.lanes === true}
  let slot = launch.normBase + tensor * ${K}u;
${finals}
#else
  let slot = (${blockWord('partial')} * ${BLOCK_LANES}u + lane) * ${K}u;
${writes}
#endif
}
`;
}

/**
 * A sum of `count` consecutive k-vectors of scratch from `first`, in chunks of 16 (error of a
 * two-level sum, not of one long running sum).
 */
function chunkedSum(K: number): string {
  const load =
    K === 1
      ? 'scratch[i]'
      : `${accType(K)}(${Array.from({ length: K }, (_, j) => `scratch[i * ${K}u + ${j}u]`).join(', ')})`;
  return `fn chunkedSum(first: u32, count: u32) -> ${accType(K)} {
  var total = ${accType(K)}(0.0);
  for (var c = 0u; c < count; c = c + 16u) {
    var chunk = ${accType(K)}(0.0);
    for (var i = first + c; i < first + min(count, c + 16u); i = i + 1u) { chunk = chunk + ${load}; }
    total = total + chunk;
  }
  return total;
}`;
}

const laneIndex = `@compute @workgroup_size(${BLOCK_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let i = (wid.x + wid.y * grid.x) * ${BLOCK_LANES}u + lane;`;

/**
 * Second stage, one invocation per block: sums the block's BLOCK_LANES invocation slots into
 * scratch[r.blockBase + partial * k + j].
 */
export function blockSumKernel(K: number): string {
  const writes = Array.from(
    { length: K },
    (_, j) => `  scratch[r.blockBase + i * ${K}u + ${j}u] = s${K === 1 ? '' : `[${j}]`};`,
  ).join('\n');
  return `
${REDUCE.wgsl}
@group(0) @binding(0) var<uniform> r: Reduce;
@group(0) @binding(2) var<storage, read_write> scratch: array<f32>;
${chunkedSum(K)}
${laneIndex}
  if (i >= r.count) { return; }
  let s = chunkedSum(i * ${BLOCK_LANES}u, ${BLOCK_LANES}u);
${writes}
}
`;
}

/**
 * Third stage, one invocation per tensor: sums the tensor's block sums (its partial slots
 * table[partialTable + t] .. table[partialTable + t + 1]) and writes the norm, or the squared
 * norm when `sqrt` is false, to scratch[normBase + t * k + j].
 */
export function reduceKernel(K: number, sqrt: boolean): string {
  const writes = Array.from({ length: K }, (_, j) => {
    const v = `s${K === 1 ? '' : `[${j}]`}`;
    return `  scratch[r.normBase + t * ${K}u + ${j}u] = ${sqrt ? `sqrt(${v})` : v};`;
  }).join('\n');
  return `
${REDUCE.wgsl}
@group(0) @binding(0) var<uniform> r: Reduce;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> scratch: array<f32>;
${chunkedSum(K)}
${laneIndex}
  let t = i;
  if (t >= r.count) { return; }
  let first = table[r.partialTable + t];
  let blocks = table[r.partialTable + t + 1u] - first;
  if (blocks == 0u) { return; } // a tensor in a lane block: its norm is already written
  let s = chunkedSum(r.blockBase / ${K}u + first, blocks);
${writes}
}
`;
}
