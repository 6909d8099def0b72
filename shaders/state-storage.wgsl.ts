import { BLOCK_LANES } from './layout.ts';

/**
 * WGSL load and store of low-precision state (issue 10; the formats and their CPU reference are
 * in src/state-dtype.ts). A kernel still sees each state as a float32 `var` of type T: it is
 * loaded with `load_<name>(si)` before the body and stored after it, so the optimizer's math
 * never changes.
 *
 * - 'bf16' / 'f16': two halves a u32 (element 2k in the low half of word k). A vec4 item reads
 *   and writes a vec2<u32>. A scalar item shares its word with a neighbour invocation, so its
 *   store clears its own half with atomicAnd and sets it with atomicOr (array<atomic<u32>>): the
 *   neighbour's half is never written by this invocation, so no store is lost.
 * - 'u8' / 's8' (blockwise): per 256 elements 64 words of codes and the float32 absmax; the map
 *   heads the buffer (MAP_WORDS); non-negative states' codes are stochastically rounded, signed
 *   ones' rounded to nearest (src/state-dtype.ts). Storing needs the block's new absmax, a
 *   reduction over the lanes that hold the block (64 lanes of vec4 items, or all 256 scalar
 *   lanes), so these kernels loop over all BLOCK_ITEMS items in uniform control flow (no
 *   data-dependent break) with barriers between; see blockwiseStores.
 */
/** How one state buffer is stored: float32, bfloat16, float16, or 8-bit unsigned/signed map codes. */
export type Storage = 'f32' | 'bf16' | 'f16' | 'u8' | 's8';

/** Elements per 8-bit block (torchao's and bitsandbytes' optimizer block size). */
export const QUANT_BLOCK = 256;
/** u32 words per stored 8-bit block: 64 words of 4 codes, then the block's float32 absmax. */
export const QUANT_BLOCK_WORDS = QUANT_BLOCK / 4 + 1;
/**
 * u32 words at the head of every 8-bit state buffer: the 256 map values as float32
 * (bitsandbytes likewise keeps qmap in the state).
 */
export const MAP_WORDS = 256;
const BLOCK_WORDS = QUANT_BLOCK_WORDS;

export const isBlockwise = (s: Storage | undefined): boolean => s === 'u8' || s === 's8';

/** The expression loading item si of state `name` (float32 state: the plain index, as before). */
export const stateLoad = (name: string, s: Storage | undefined): string =>
  !s || s === 'f32' ? `${name}Buf[si]` : `load_${name}(si)`;

/** The statement storing item si of a float32 or 16-bit state (blockwise: see blockwiseStores). */
export const stateStore = (name: string, s: Storage | undefined): string =>
  !s || s === 'f32' ? `  ${name}Buf[si] = ${name};` : `  store_${name}(si, ${name});`;

/**
 * Statements at the start of a kernel using its storages: stochastic rounding reads the step t
 * being applied from the class's counter (`counterWord`, a WGSL expression; such kernels bind
 * the counters).
 */
export function storageSetup(storages: Iterable<Storage>, counterWord: string): string {
  return [...storages].some(stochastic) ? `  roundingStep = counters[${counterWord}] + 1u;` : '';
}

/** Storages whose stores round stochastically (and read the step t). */
export const stochastic = (s: Storage): boolean => s === 'bf16' || s === 'u8';

/** Module-scope helpers for the storages a kernel uses (each once). */
export function storageHelpers(storages: Iterable<Storage>): string {
  const used = new Set(storages);
  const out: string[] = [];
  if ([...used].some(stochastic))
    out.push(`// The step t being applied (storageSetup) and the rounding hash of a value's bits and t.
var<private> roundingStep: u32;
fn roundingHash(u: u32) -> u32 {
  var h = (u ^ (roundingStep * 0x27d4eb2fu)) * 0x9e3779b1u;
  h = h ^ (h >> 15u);
  h = h * 0x85ebca77u;
  return h ^ (h >> 13u);
}`);
  if (used.has('bf16'))
    out.push(`// Stochastic rounding: add a pseudo-random 16-bit threshold, a hash of x's bits and of the step
// t being applied, before truncating (round-to-nearest freezes v <- 0.999 v + 0.001 g^2: the
// change is below half an ulp). Exact bfloat16 values are kept; NaN stays NaN; Inf stays Inf.
fn bf16Bits(x: f32) -> u32 {
  let u = bitcast<u32>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) { return (u >> 16u) | 0x40u; }
  return (u + (roundingHash(u) & 0xffffu)) >> 16u;
}
fn encode_bf16(v: vec2<f32>) -> u32 { return bf16Bits(v.x) | (bf16Bits(v.y) << 16u); }
fn decode_bf16(w: u32) -> vec2<f32> { return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }`);
  if (used.has('f16'))
    out.push(`fn f16Fix(x: f32, h: u32) -> u32 {
  let u = bitcast<u32>(x);
  let a = u & 0x7fffffffu;
  let sign = (u >> 16u) & 0x8000u;
  if (a > 0x7f800000u) { return sign | 0x7e00u; }
  if (a >= 0x477ff000u) { return sign | 0x7c00u; }
  return h;
}
fn encode_f16(v: vec2<f32>) -> u32 {
  // pack2x16float's whole word is indeterminate when either half is out of range or NaN: pack
  // only in-range values, and let f16Fix write those halves.
  let h = pack2x16float(select(vec2<f32>(0.0), v, abs(v) < vec2<f32>(65520.0)));
  return f16Fix(v.x, h & 0xffffu) | (f16Fix(v.y, h >> 16u) << 16u);
}
fn decode_f16(w: u32) -> vec2<f32> { return unpack2x16float(w); }`);
  return out.join('\n');
}

/** The binding of state `name` and its load/store (or load/code) functions. */
export function stateDecl(
  name: string,
  s: Storage,
  binding: number,
  vec: 1 | 4,
  access: 'read' | 'read_write',
): string {
  const buf = `${name}Buf`;
  const at = `@group(0) @binding(${binding})`;
  if (s === 'f32') return `${at} var<storage, ${access}> ${buf}: array<T>;`;
  if (s === 'bf16' || s === 'f16') {
    if (vec === 4)
      return `${at} var<storage, read_write> ${buf}: array<vec2<u32>>;
fn load_${name}(si: u32) -> T { let w = ${buf}[si]; return vec4<f32>(decode_${s}(w.x), decode_${s}(w.y)); }
fn store_${name}(si: u32, v: T) { ${buf}[si] = vec2<u32>(encode_${s}(v.xy), encode_${s}(v.zw)); }`;
    return `${at} var<storage, read_write> ${buf}: array<atomic<u32>>;
fn load_${name}(si: u32) -> T { return decode_${s}(atomicLoad(&${buf}[si >> 1u]))[si & 1u]; }
fn store_${name}(si: u32, v: T) {
  let shift = (si & 1u) * 16u;
  atomicAnd(&${buf}[si >> 1u], ~(0xffffu << shift));
  atomicOr(&${buf}[si >> 1u], (encode_${s}(vec2<f32>(v, 0.0)) & 0xffffu) << shift);
}`;
  }
  // Blockwise 8-bit: item si of a vec4 kernel is one code word; of a scalar kernel one byte.
  const per = vec === 4 ? 64 : 256;
  const deq = (c: string) => `bitcast<f32>(${buf}[${c}])`;
  const load =
    vec === 4
      ? `let w = ${buf}[base + si % 64u];
  return vec4<f32>(${[0, 8, 16, 24].map((b) => deq(`(w >> ${b}u) & 255u`)).join(', ')}) * a;`
      : `let w = ${buf}[base + (si % 256u) / 4u];
  return ${deq('(w >> ((si & 3u) * 8u)) & 255u')} * a;`;
  return `${at} var<storage, read_write> ${buf}: array<u32>;
fn base_${name}(si: u32) -> u32 { return ${MAP_WORDS}u + (si / ${per}u) * ${BLOCK_WORDS}u; }
fn load_${name}(si: u32) -> T {
  let base = base_${name}(si);
  let a = bitcast<f32>(${buf}[base + 64u]);
  ${load}
}
// Between the scaled neighbours lo <= v < hi: non-negative states (u8) round stochastically,
// signed ones to the nearest (a tie to the lower code); quantizeCode in src/state-dtype.ts is
// the reference, bit for bit.
fn code_${name}(v: f32, a: f32) -> u32 {
  if (v == 0.0) { return ${s === 's8' ? 127 : 0}u; } // the map's 0, whatever the absmax
  var k = 0u;
  for (var s = 128u; s > 0u; s = s >> 1u) {
    let j = k + s;
    if (j <= 255u && bitcast<f32>(${buf}[j]) * a <= v) { k = j; }
  }
  if (k == 255u) { return 255u; }
  let lo = bitcast<f32>(${buf}[k]) * a;
  let hi = bitcast<f32>(${buf}[k + 1u]) * a;
  let r = ${s === 's8' ? '0.5' : `f32(roundingHash(bitcast<u32>(v)) >> 8u) * ${2 ** -24}`};
  return select(k, k + 1u, v - lo > r * (hi - lo));
}`;
}

/** Workgroup memory of a blockwise kernel that stores: the absmax reduction and (scalar) codes. */
export function blockwiseShared(vec: 1 | 4): string {
  return `var<workgroup> blockMax: array<vec4<f32>, ${BLOCK_LANES}>;
var<workgroup> blockPart: array<vec4<f32>, ${BLOCK_LANES / (vec === 4 ? 8 : 16)}>;
${vec === 1 ? `var<workgroup> blockCodes: array<vec4<u32>, ${BLOCK_LANES}>;` : ''}`;
}

/**
 * Stores the blockwise states after the body, in uniform control flow (every lane of the
 * workgroup runs it; `live` says whether this lane holds an item). Each lane contributes the
 * max |value| of its item per state; a tree over the lanes of each 256-element block gives the
 * block's new absmax; then the lanes write their codes (a vec4 item: one word) and the first
 * lane of the block the absmax. Scalar items pack 4 codes a word through workgroup memory, the
 * word written by its first lane (padding past the tensor's end codes 0, as the host writes it).
 */
export function blockwiseStores(states: readonly string[], vec: 1 | 4): string {
  const G = vec === 4 ? 64 : 256;
  const comps = ['x', 'y', 'z', 'w'];
  const mag = (s: string) =>
    vec === 4 ? `max(max(abs(${s}.x), abs(${s}.y)), max(abs(${s}.z), abs(${s}.w)))` : `abs(${s})`;
  const mine = states.map((s) => mag(s)).concat(Array(4 - states.length).fill('0.0'));
  const amax = (i: number) => `blockAbsmax.${comps[i]}`;
  const writes =
    vec === 4
      ? states
          .map((s, i) => {
            const codes = comps
              .map((c, b) => `(code_${s}(${s}.${c}, ${amax(i)}) << ${8 * b}u)`)
              .join(' | ');
            return `    let base${i} = base_${s}(si);
    ${s}Buf[base${i} + si % 64u] = ${codes};
    if (si % 64u == 0u) { ${s}Buf[base${i} + 64u] = bitcast<u32>(${amax(i)}); }`;
          })
          .join('\n')
      : states
          .map((s, i) => {
            const word = [0, 1, 2, 3]
              .map((b) => `(blockCodes[lane + ${b}u].${comps[i]} << ${8 * b}u)`)
              .join(' | ');
            return `    let base${i} = base_${s}(si);
    if ((lane & 3u) == 0u) { ${s}Buf[base${i} + (si % 256u) / 4u] = ${word}; }
    if (si % 256u == 0u) { ${s}Buf[base${i} + 64u] = bitcast<u32>(${amax(i)}); }`;
          })
          .join('\n');
  const codes =
    vec === 1
      ? `  blockCodes[lane] = vec4<u32>(${states
          .map((s, i) => `code_${s}(select(0.0, ${s}, live), ${amax(i)})`)
          .concat(Array(4 - states.length).fill('0u'))
          .join(', ')});
  workgroupBarrier();`
      : '';
  // Two levels of F lanes (F * F = G): each F-th lane folds its F neighbours into blockPart,
  // then every lane folds its block's F parts; two barriers an item (blockMax is written again
  // only after the second, blockPart only after the next item's first).
  const F = vec === 4 ? 8 : 16;
  return `  blockMax[lane] = select(vec4<f32>(0.0), vec4<f32>(${mine.join(', ')}), live);
  workgroupBarrier();
  if (lane % ${F}u == 0u) {
    var m = blockMax[lane];
    for (var i = 1u; i < ${F}u; i = i + 1u) { m = max(m, blockMax[lane + i]); }
    blockPart[lane / ${F}u] = m;
  }
  workgroupBarrier();
  let first = (lane - lane % ${G}u) / ${F}u;
  var blockAbsmax = blockPart[first];
  for (var i = 1u; i < ${F}u; i = i + 1u) { blockAbsmax = max(blockAbsmax, blockPart[first + i]); }
${codes}
  if (live) {
${writes}
  }`;
}
