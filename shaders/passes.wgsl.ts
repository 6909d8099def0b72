import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { hyperStruct } from './common.wgsl.ts';
import { COUNTER_HEADER, PASS } from './layout.ts';

/**
 * The passes a shaped step is made of, and their WGSL. An optimizer whose update is not one
 * elementwise body (Adafactor's row and column statistics, Muon's matrix products) declares its
 * step as a list of passes per tensor; src/program.ts binds and dispatches them generically, one
 * tensor after another, and this file owns the kernels. Every pass sees the tensor as
 * [batch, rows, cols] (PASS), the class's scalars as `h.<field>`, and `sum(k)`: the tensor's sum
 * slots, written by earlier passes of the same step.
 *
 * Bindings: 0 the PASS uniform, 1 the table (scalar rows), 2 parameters, 3 gradients, 4 step
 * counters (with skipping or stepped rows), 5 the sums, then the pass's `buffers` in order.
 */

/** One value per element, per row of each matrix, or per column (Adafactor's factored moments). */
export type StateShape = 'param' | 'rows' | 'cols';

/** A matmul dimension: the shorter or the longer side of the tensor's matrix. */
export type Dim = 'short' | 'long';

/**
 * Over every element: the body sees `p` and `g` (vars), each of `elementStates` as a var, the
 * element's index `e`, its matrix `b`, row `r` and column `c`, and `row` = b*rows + r and
 * `col` = b*cols + c (indices into rows- and cols-shaped buffers). With `sums`, it assigns
 * s0..s{count-1}, whose sums over the tensor land in the sum slots slot.. (read in later passes
 * as `sum(k)`).
 */
export interface MapPass {
  kind: 'map';
  /** State and work buffers bound as `<name>Buf: array<f32>`, in binding order. */
  buffers: readonly string[];
  /** Of `buffers`, the states with one value per element, loaded into a var and stored after. */
  elementStates?: readonly string[];
  /** Loads the gradient as `g` (maximize applied); default true. */
  grad?: boolean;
  /** Stores `p` after the body. */
  writesParam?: boolean;
  sums?: { count: number; slot: number };
  body: string;
}

/**
 * A sum along one axis, then a body per output. 'rows': per row of each matrix over its columns,
 * body with `total` and `row`; 'cols': per column over the rows, body with `total` and `col`;
 * both sum `value` of `p`, `g` at element `e`. 'batch': per matrix over its rows, summing `value`
 * of `row`; the body assigns `out`, stored in sum slot `slot + b`.
 */
export interface ReducePass {
  kind: 'reduce';
  over: 'rows' | 'cols' | 'batch';
  buffers: readonly string[];
  value: string;
  body: string;
  slot?: number;
}

/**
 * C = alpha * A * B + beta * D over work buffers (row-major, the tensor's own): A is m x k, B is
 * k x n (with `transB`, B holds n x k and its transpose is used), C and D are m x n. A tiled GEMM
 * in workgroup memory: 64 x 64 outputs per workgroup, 4 x 4 per invocation.
 */
export interface MatmulPass {
  kind: 'matmul';
  c: string;
  a: string;
  b: string;
  transB?: boolean;
  d?: string;
  alpha: string;
  beta?: string;
  /** m, n and k. */
  dims: readonly [Dim, Dim, Dim];
}

export type Pass = MapPass | ReducePass | MatmulPass;

/** What every pass kernel of an optimizer variant shares. */
export interface PassContext {
  fields: readonly string[];
  /** Scalars from the step-indexed ring (skipNonFinite). */
  stepped: boolean;
  /** Gate on the non-finite flag. */
  skip: boolean;
  /** Negate g on load. */
  maximize: boolean;
}

/** Invocations per workgroup of the map, reduce and sum kernels. */
export const PASS_LANES = 256;

/** Sum components a map pass can produce (one vec4 per invocation). */
export const MAX_SUMS = 4;

/** Binding of the pass's first own buffer. */
export const FIRST_PASS_BUFFER = 6;

function header(x: PassContext, buffers: readonly string[], param: boolean, grad: boolean) {
  const own = buffers
    .map(
      (name, i) =>
        `@group(0) @binding(${FIRST_PASS_BUFFER + i}) var<storage, read_write> ${name}Buf: array<f32>;`,
    )
    .join('\n');
  return wgsl`
${PASS.wgsl}
@group(0) @binding(0) var<uniform> launch: Pass;
@group(0) @binding(1) var<storage, read> table: array<u32>;
#if ${param}
@group(0) @binding(2) var<storage, read_write> paramBuf: array<f32>;
#endif
#if ${grad}
@group(0) @binding(3) var<storage, read> gradBuf: array<f32>;
#endif
#if ${x.skip || x.stepped}
@group(0) @binding(4) var<storage, read> counters: array<u32>;
#endif
@group(0) @binding(5) var<storage, read_write> sums: array<f32>;
${own}
${hyperStruct(x.fields, x.stepped)}
fn sum(k: u32) -> f32 { return sums[launch.sums + k]; }
#if ${x.skip}
var<workgroup> gate: u32;
#endif
`;
}

/**
 * Opens the entry point: every declared binding is used (so the auto layout holds all of them),
 * and with skipping, the whole workgroup leaves when a non-finite gradient was found (read
 * through workgroupUniformLoad, so barriers after it stay in uniform control flow).
 */
function open(
  x: PassContext,
  buffers: readonly string[],
  param: boolean,
  grad: boolean,
  size = `${PASS_LANES}`,
) {
  const uses = [
    'table',
    'sums',
    ...(param ? ['paramBuf'] : []),
    ...(grad ? ['gradBuf'] : []),
    ...(x.skip || x.stepped ? ['counters'] : []),
    ...buffers.map((b) => `${b}Buf`),
  ]
    .map((b) => `  _ = &${b};`)
    .join('\n');
  return wgsl`@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32, @builtin(local_invocation_id) lid: vec3<u32>) {
${uses}
#if ${x.skip}
  if (lane == 0u) { gate = counters[${COUNTER_HEADER.offset.found}u]; }
  if (workgroupUniformLoad(&gate) != 0u) { return; }
#endif
  let wg = wid.x + wid.y * grid.x;
  let h = hyper(launch.cls);
  _ = h;`;
}

/** Loads g at element e (maximize applied). */
const loadGrad = (x: PassContext) =>
  `var g = gradBuf[launch.grad + e];${x.maximize ? '\n    g = -g;' : ''}`;

/** Sums `partial[0..PASS_LANES)` into partial[0] (every invocation takes part). */
const treeSum = `
  for (var s = ${PASS_LANES / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lane < s) { partial[lane] = partial[lane] + partial[lane + s]; }
  }
  workgroupBarrier();`;

export function mapKernel(x: PassContext, pass: MapPass): string {
  const grad = pass.grad !== false;
  // Element coordinates only for bodies that use them.
  const indexed = /\b(b|r|c|row|col)\b/.test(pass.body);
  const states = pass.elementStates ?? [];
  const loads = states.map((s) => `    var ${s} = ${s}Buf[e];`).join('\n');
  const stores = states.map((s) => `    ${s}Buf[e] = ${s};`).join('\n');
  const k = pass.sums?.count ?? 0;
  const declare = Array.from({ length: k }, (_, j) => `    var s${j} = 0.0;`).join('\n');
  const acc = Array.from({ length: MAX_SUMS }, (_, j) => (j < k ? `s${j}` : '0.0')).join(', ');
  const writes = Array.from({ length: k }, (_, j) => `  sums[slot + ${j}u] = acc[${j}];`).join(
    '\n',
  );
  return wgsl`${header(x, pass.buffers, true, grad)}
${open(x, pass.buffers, true, grad)}
  var acc = vec4<f32>(0.0);
  // The element's matrix b, row r and column c advance with e by carries (divisions only once).
  let stride = launch.groups * ${PASS_LANES}u;
  let e0 = wg * ${PASS_LANES}u + lane;
#if ${indexed}
  let dc = stride % launch.cols;
  let dq = stride / launch.cols;
  let dr = dq % launch.rows;
  let db = dq / launch.rows;
  var c = e0 % launch.cols;
  var r = (e0 / launch.cols) % launch.rows;
  var b = e0 / launch.cols / launch.rows;
#endif
  for (var e = e0; e < launch.count; e = e + stride) {
#if ${indexed}
    let row = b * launch.rows + r;
    let col = b * launch.cols + c;
    _ = row;
    _ = col;
#endif
    var p = paramBuf[launch.param + e];
#if ${grad}
    ${loadGrad(x)}
#endif
${loads}
${declare}
${pass.body}
#if ${pass.writesParam === true}
    paramBuf[launch.param + e] = p;
#endif
${stores}
    acc = acc + vec4<f32>(${acc});
#if ${indexed}
    c = c + dc;
    r = r + dr;
    b = b + db;
    if (c >= launch.cols) { c = c - launch.cols; r = r + 1u; }
    if (r >= launch.rows) { r = r - launch.rows; b = b + 1u; }
#endif
  }
#if ${k > 0}
  let slot = launch.partials + (wg * ${PASS_LANES}u + lane) * ${MAX_SUMS}u;
${writes}
#endif
}
`;
}

/**
 * Adds up a map pass's per-workgroup partials (launch.groups of them) into sum slots
 * slot..slot+count-1 of the tensor: one workgroup.
 */
export function finishSumsKernel(x: PassContext, slot: number, count: number): string {
  const writes = Array.from(
    { length: count },
    (_, j) => `    sums[launch.sums + ${slot + j}u] = partial[0][${j}];`,
  ).join('\n');
  return `${header(x, [], false, false)}
var<workgroup> partial: array<vec4<f32>, ${PASS_LANES}>;
${open(x, [], false, false)}
  var acc = vec4<f32>(0.0);
  for (var i = lane; i < launch.groups * ${PASS_LANES}u; i = i + ${PASS_LANES}u) {
    acc = acc + vec4<f32>(${Array.from({ length: MAX_SUMS }, (_, j) => `sums[launch.partials + i * ${MAX_SUMS}u + ${j}u]`).join(', ')});
  }
  partial[lane] = acc;
${treeSum}
  if (lane == 0u) {
${writes}
  }
}
`;
}

/**
 * `total`, the sum of `value` over i in [0, count), in chunks of 16 (the error of a two-level sum,
 * not of one long running sum, as torch's cascaded reductions). `at` are the statements that
 * define what `value` reads for index i.
 */
const chunkedSum = (i: string, count: string, at: string, value: string) => `
    var total = 0.0;
    var chunk = 0.0;
    for (var ${i} = 0u; ${i} < ${count}; ${i} = ${i} + 1u) {
${at}
      chunk = chunk + (${value});
      if ((${i} & 15u) == 15u) { total = total + chunk; chunk = 0.0; }
    }
    total = total + chunk;`;

/** Loads p and g (maximize applied) at element `e` for a reduction's value. */
const elementAt = (x: PassContext, e: string) => `      let e = ${e};
      let p = paramBuf[launch.param + e];
      _ = p;
      ${loadGrad(x)}`;

/**
 * One invocation per output line, summing along it: a row of each matrix over its columns
 * ('rows'), a column over the rows ('cols', reading consecutive columns across a workgroup), or
 * a matrix's rows of a rows-shaped value ('batch'). No workgroup barrier: software GPUs pay
 * dearly for each, and a line sum is one pass over its data anyway.
 */
export function reduceKernel(x: PassContext, pass: ReducePass): string {
  const onTensor = pass.over !== 'batch';
  const line = { rows: 'row', cols: 'col', batch: 'b' }[pass.over];
  const lines = {
    rows: 'launch.batch * launch.rows',
    cols: 'launch.batch * launch.cols',
    batch: 'launch.batch',
  }[pass.over];
  const sum =
    pass.over === 'rows'
      ? chunkedSum('c', 'launch.cols', elementAt(x, 'row * launch.cols + c'), pass.value)
      : pass.over === 'cols'
        ? `
    let b = col / launch.cols;
    let c = col % launch.cols;${chunkedSum('r', 'launch.rows', elementAt(x, '(b * launch.rows + r) * launch.cols + c'), pass.value)}`
        : chunkedSum('r', 'launch.rows', '      let row = b * launch.rows + r;', pass.value);
  const finish =
    pass.over === 'batch'
      ? `    var out = 0.0;
${pass.body}
    sums[launch.sums + ${pass.slot ?? 0}u + b] = out;`
      : pass.body;
  return `${header(x, pass.buffers, onTensor, onTensor)}
${open(x, pass.buffers, onTensor, onTensor)}
  for (var ${line} = wg * ${PASS_LANES}u + lane; ${line} < ${lines}; ${line} = ${line} + launch.groups * ${PASS_LANES}u) {${sum}
${finish}
  }
}
`;
}

/** Outputs per workgroup side; each invocation computes 4 rows x one vec4 of columns. */
export const GEMM_TILE = 64;
/** The k-tile: 64 x 32 floats of A and 32 x 64 of B in workgroup memory (16 KiB). */
const GEMM_K = 32;

/**
 * The tiled GEMM: a 16 x 16 workgroup computes a 64 x 64 block of C, each invocation 4 rows of
 * one vec4 of columns (four vec4 accumulators), staging 64 x 32 of A and 32 x 64 of B in
 * workgroup memory per k-tile. The 32-deep k-tile halves the barriers of a 16-deep one (software
 * GPUs pay dearly for each) and fills the 16 KiB every adapter grants.
 */
export function matmulKernel(x: PassContext, pass: MatmulPass): string {
  const unique = matmulBuffers(pass);
  const loadB = pass.transB
    ? `${pass.b}Buf[gc * launch.k + gk]`
    : `${pass.b}Buf[gk * launch.n + gc]`;
  const beta = pass.d ? ` + (${pass.beta ?? '1.0'}) * ${pass.d}Buf[gr * launch.n + gc]` : '';
  const perThread = (GEMM_TILE * GEMM_K) / 256;
  return `${header(x, unique, false, false)}
var<workgroup> tileA: array<f32, ${GEMM_TILE * GEMM_K}>;
var<workgroup> tileB: array<vec4<f32>, ${(GEMM_K * GEMM_TILE) / 4}>;
${open(x, unique, false, false, '16, 16')}
  let tilesY = (launch.m + ${GEMM_TILE - 1}u) / ${GEMM_TILE}u;
  let tilesX = (launch.n + ${GEMM_TILE - 1}u) / ${GEMM_TILE}u;
  for (var ty = wid.y; ty < tilesY; ty = ty + grid.y) {
  for (var tx = wid.x; tx < tilesX; tx = tx + grid.x) {
  let row0 = ty * ${GEMM_TILE}u;
  let col0 = tx * ${GEMM_TILE}u;
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < launch.k; k0 = k0 + ${GEMM_K}u) {
    for (var q = 0u; q < ${perThread}u; q = q + 1u) {
      let i = lane + q * 256u;
      let ar = i / ${GEMM_K}u;
      let ak = i % ${GEMM_K}u;
      var a = 0.0;
      if (row0 + ar < launch.m && k0 + ak < launch.k) { a = ${pass.a}Buf[(row0 + ar) * launch.k + k0 + ak]; }
      tileA[i] = a;
    }
    for (var q = 0u; q < ${perThread / 4}u; q = q + 1u) {
      let v = lane + q * 256u;
      let bk = v / ${GEMM_TILE / 4}u;
      let gk = k0 + bk;
      var b4 = vec4<f32>(0.0);
      for (var j = 0u; j < 4u; j = j + 1u) {
        let gc = col0 + (v % ${GEMM_TILE / 4}u) * 4u + j;
        if (gk < launch.k && gc < launch.n) { b4[j] = ${loadB}; }
      }
      tileB[v] = b4;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${GEMM_K}u; kk = kk + 1u) {
      let bv = tileB[kk * ${GEMM_TILE / 4}u + lid.x];
      for (var i = 0u; i < 4u; i = i + 1u) {
        acc[i] = fma(vec4<f32>(tileA[(lid.y * 4u + i) * ${GEMM_K}u + kk]), bv, acc[i]);
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      let gr = row0 + lid.y * 4u + i;
      let gc = col0 + lid.x * 4u + j;
      if (gr < launch.m && gc < launch.n) {
        ${pass.c}Buf[gr * launch.n + gc] = (${pass.alpha}) * acc[i][j]${beta};
      }
    }
  }
  }
  }
}
`;
}

/**
 * The GEMM for products too small to fill a 64 x 64 tile (Muon's Gram matrix of a row vector, a
 * 5 x 7 matrix): one invocation per output, no workgroup memory and no barrier. A tiny product
 * in the tiled kernel costs a whole tile and its barriers (about 3 ms a dispatch on SwiftShader).
 */
export function smallMatmulKernel(x: PassContext, pass: MatmulPass): string {
  const unique = matmulBuffers(pass);
  const loadB = pass.transB ? `${pass.b}Buf[j * launch.k + q]` : `${pass.b}Buf[q * launch.n + j]`;
  const beta = pass.d ? ` + (${pass.beta ?? '1.0'}) * ${pass.d}Buf[o]` : '';
  return `${header(x, unique, false, false)}
${open(x, unique, false, false)}
  for (var o = wg * ${PASS_LANES}u + lane; o < launch.m * launch.n; o = o + launch.groups * ${PASS_LANES}u) {
    let i = o / launch.n;
    let j = o - i * launch.n;
    var acc = 0.0;
    for (var q = 0u; q < launch.k; q = q + 1u) { acc = fma(${pass.a}Buf[i * launch.k + q], ${loadB}, acc); }
    ${pass.c}Buf[o] = (${pass.alpha}) * acc${beta};
  }
}
`;
}

/** Whether an m x n product takes the small kernel: less than a quarter of one tile's outputs. */
export const smallProduct = (m: number, n: number) => m * n < (GEMM_TILE * GEMM_TILE) / 4;

/** The buffers a matmul binds, in binding order (each once). */
export const matmulBuffers = (pass: MatmulPass): string[] => [
  ...new Set([pass.c, pass.a, pass.b, ...(pass.d ? [pass.d] : [])]),
];

/** The kernel of one pass. */
export function passKernel(x: PassContext, pass: Pass): string {
  if (pass.kind === 'map') return mapKernel(x, pass);
  if (pass.kind === 'reduce') return reduceKernel(x, pass);
  return matmulKernel(x, pass);
}
