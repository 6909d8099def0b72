import type { MlpLayout } from './mlp-layout.ts';

/**
 * The MLP's kernels. Sizes and tensor offsets are WGSL constants (a model of another size is
 * another pipeline), so the loops unroll and the activations live in private arrays.
 */

/** Constants and `forward(x)`, which leaves the activations in private memory for the backward pass. */
function forwardWgsl(l: MlpLayout): string {
  const t = l.tensors;
  return /* wgsl */ `
const H = ${l.hidden}u;
const C = ${l.classes}u;
const P = ${l.total}u;
const W1 = ${t.w1.offset}u; const B1 = ${t.b1.offset}u;
const W2 = ${t.w2.offset}u; const B2 = ${t.b2.offset}u;
const W3 = ${t.w3.offset}u; const B3 = ${t.b3.offset}u;
var<private> h1: array<f32, ${l.hidden}>;
var<private> h2: array<f32, ${l.hidden}>;
var<private> z: array<f32, ${l.classes}>;

fn forward(x: vec2f) {
  for (var j = 0u; j < H; j++) {
    h1[j] = tanh(params[B1 + j] + x.x * params[W1 + j] + x.y * params[W1 + H + j]);
  }
  for (var k = 0u; k < H; k++) {
    var a = params[B2 + k];
    for (var j = 0u; j < H; j++) { a += h1[j] * params[W2 + j * H + k]; }
    h2[k] = tanh(a);
  }
  for (var c = 0u; c < C; c++) {
    var a = params[B3 + c];
    for (var k = 0u; k < H; k++) { a += h2[k] * params[W3 + k * C + c]; }
    z[c] = a;
  }
}

/** Softmax of z, in place. */
fn softmax() {
  var m = z[0];
  for (var c = 1u; c < C; c++) { m = max(m, z[c]); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { z[c] = exp(z[c] - m); s += z[c]; }
  for (var c = 0u; c < C; c++) { z[c] /= s; }
}
`;
}

const TRAIN_BINDINGS = /* wgsl */ `
struct Train { batchStart: u32, batchSize: u32, step: u32, dataCount: u32, historyCapacity: u32 }
@group(0) @binding(0) var<uniform> train: Train;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> data: array<vec4f>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<vec2f>;
`;

/**
 * One invocation per sample of the mini-batch: forward, cross-entropy, backward. Writes that
 * sample's gradient of the mean batch loss into row `s` of `partial` (P floats, the parameter
 * layout) and (loss, correct) into `stats[s]`.
 */
export function sampleGradientWgsl(l: MlpLayout): string {
  return /* wgsl */ `${TRAIN_BINDINGS}${forwardWgsl(l)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let s = id.x;
  if (s >= train.batchSize) { return; }
  let d = data[order[(train.batchStart + s) % train.dataCount]];
  let label = u32(d.z);
  forward(d.xy);
  var best = 0u;
  for (var c = 1u; c < C; c++) { if (z[c] > z[best]) { best = c; } }
  softmax();
  let loss = -log(max(z[label], 1e-30));
  let row = s * P;
  let inv = 1.0 / f32(train.batchSize);
  // dL/dz = (softmax - onehot) / batch; z now holds the softmax.
  for (var c = 0u; c < C; c++) { z[c] = (z[c] - select(0.0, 1.0, c == label)) * inv; }
  var d2: array<f32, ${l.hidden}>;
  for (var k = 0u; k < H; k++) {
    var g = 0.0;
    for (var c = 0u; c < C; c++) {
      partial[row + W3 + k * C + c] = h2[k] * z[c];
      g += params[W3 + k * C + c] * z[c];
    }
    d2[k] = g * (1.0 - h2[k] * h2[k]);
    partial[row + B2 + k] = d2[k];
  }
  for (var c = 0u; c < C; c++) { partial[row + B3 + c] = z[c]; }
  for (var j = 0u; j < H; j++) {
    var g = 0.0;
    for (var k = 0u; k < H; k++) {
      partial[row + W2 + j * H + k] = h1[j] * d2[k];
      g += params[W2 + j * H + k] * d2[k];
    }
    let d1 = g * (1.0 - h1[j] * h1[j]);
    partial[row + B1 + j] = d1;
    partial[row + W1 + j] = d.x * d1;
    partial[row + W1 + H + j] = d.y * d1;
  }
  stats[s] = vec2f(loss, select(0.0, 1.0, best == label));
}`;
}

/**
 * One invocation per parameter: sums the batch's rows of `partial` into the gradient buffer the
 * optimizer reads. Invocation P also averages (loss, accuracy) into `history[step]`.
 */
export function reduceGradientWgsl(l: MlpLayout): string {
  return /* wgsl */ `
struct Train { batchStart: u32, batchSize: u32, step: u32, dataCount: u32, historyCapacity: u32 }
const P = ${l.total}u;
@group(0) @binding(0) var<uniform> train: Train;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;
@group(0) @binding(4) var<storage, read_write> history: array<vec2f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let j = id.x;
  if (j < P) {
    var g = 0.0;
    for (var s = 0u; s < train.batchSize; s++) { g += partial[s * P + j]; }
    grads[j] = g;
  } else if (j == P && train.step < train.historyCapacity) {
    var sum = vec2f(0.0);
    for (var s = 0u; s < train.batchSize; s++) { sum += stats[s]; }
    history[train.step] = sum / f32(train.batchSize);
  }
}`;
}

/** One invocation per pixel of a G x G grid over [-1.5, 1.5]^2: class probabilities (up to 4). */
export function decisionGridWgsl(l: MlpLayout, grid: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> probs: array<vec4f>;
${forwardWgsl(l)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= ${grid * grid}u) { return; }
  let cell = vec2f(f32(i % ${grid}u), f32(i / ${grid}u)) + 0.5;
  forward(vec2f(-1.5, 1.5) + vec2f(cell.x, -cell.y) * (3.0 / ${grid}.0));
  softmax();
  var p = vec4f(0.0);
  for (var c = 0u; c < C; c++) { p[c] = z[c]; }
  probs[i] = p;
}`;
}

/** The square the decision grid covers, [min, max] on both axes. */
export const GRID_EXTENT: [number, number] = [-1.5, 1.5];
