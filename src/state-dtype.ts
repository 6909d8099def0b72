import {
  isBlockwise,
  MAP_WORDS,
  QUANT_BLOCK,
  QUANT_BLOCK_WORDS,
  type Storage,
} from '../shaders/state-storage.wgsl.ts';
import { describe } from './validate.ts';

export { isBlockwise, MAP_WORDS, QUANT_BLOCK, QUANT_BLOCK_WORDS, type Storage };

/**
 * Low-precision optimizer state (issue 10): the per-group `stateDtype` option, what each state is
 * stored as under it, the storage layouts, and the host-side encoders and decoders that are the
 * CPU reference of the kernels' load and store (shaders/state-storage.wgsl.ts). Pure: no GPU calls.
 *
 * - 'float32': every state as float32 (the default, unchanged).
 * - 'bfloat16': every state as bfloat16, two per u32 word, stochastically rounded (see
 *   toBfloat16; NaN stays NaN).
 * - 'float16': first-moment-like states (expAvg, momentumBuffer, gradAvg, z) as IEEE binary16;
 *   the squared and max accumulators (NON_NEGATIVE: expAvgSq, maxExpAvgSq, sum, squareAvg,
 *   accDelta, expInf) stay float32, since g^2 underflows binary16 (below 6e-8) and expAvgSq
 *   overflows it (above 65504), and eps-sized expInf (Adamax) rounds to 0 and divides by it.
 * - '8bit': bitsandbytes' blockwise 8-bit format: per block of 256 elements a float32 absmax and
 *   one code per element into the dynamic map (signed for signed states, unsigned for
 *   NON_NEGATIVE ones; those round stochastically between the two neighbouring codes, signed
 *   ones to the nearest: see quantizeCode), for tensors of at least `min8bitSize` elements; smaller tensors keep
 *   float32 state (bitsandbytes' min_8bit_size).
 */
export type StateDtype = 'float32' | 'bfloat16' | 'float16' | '8bit';

export const STATE_DTYPES: readonly StateDtype[] = ['float32', 'bfloat16', 'float16', '8bit'];

/** The generic per-group storage options, with their defaults. */
export interface StorageOptions {
  stateDtype: StateDtype;
  /** Under '8bit', tensors with fewer elements keep float32 state (bitsandbytes' min_8bit_size). */
  min8bitSize: number;
}

export const STORAGE_DEFAULTS: StorageOptions = { stateDtype: 'float32', min8bitSize: 4096 };

export const STORAGE_KEYS = Object.keys(STORAGE_DEFAULTS) as Array<keyof StorageOptions>;

/** States that are >= 0 by construction (second moments, accumulators, Adamax's expInf). */
export const NON_NEGATIVE = new Set([
  'expAvgSq',
  'maxExpAvgSq',
  'sum',
  'squareAvg',
  'accDelta',
  'expInf',
]);

/** Throws a RangeError naming the bad storage option and the allowed values. */
export function validateStorage(
  owner: string,
  o: Partial<StorageOptions>,
  /** The rule's step is shaped passes (Adafactor, Muon), which read float32 state only. */
  shaped = false,
): void {
  if (o.stateDtype !== undefined && !STATE_DTYPES.includes(o.stateDtype)) {
    throw new RangeError(
      `${owner}: stateDtype must be one of ${STATE_DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describe(o.stateDtype)}`,
    );
  }
  if (shaped && o.stateDtype !== undefined && o.stateDtype !== 'float32') {
    throw new RangeError(
      `${owner}: stateDtype '${o.stateDtype}' is not available: this optimizer's shaped passes (src/program.ts) keep float32 state; only 'float32' is accepted`,
    );
  }
  const m = o.min8bitSize;
  if (m !== undefined && (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 0)) {
    throw new RangeError(`${owner}: min8bitSize must be an integer >= 0, got ${describe(m)}`);
  }
}

/** The dtype a tensor of `length` elements stores its state in under a group's options. */
export function tensorDtype(o: Partial<StorageOptions>, length: number): StateDtype {
  const dtype = o.stateDtype ?? 'float32';
  const min = o.min8bitSize ?? STORAGE_DEFAULTS.min8bitSize;
  return dtype === '8bit' && length < min ? 'float32' : dtype;
}

/** How state `name` is stored under `dtype` (see the module comment). */
export function storageOf(dtype: StateDtype, name: string): Storage {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'bfloat16':
      return 'bf16';
    case 'float16':
      return NON_NEGATIVE.has(name) ? 'f32' : 'f16';
    case '8bit':
      return NON_NEGATIVE.has(name) ? 'u8' : 's8';
  }
}

/** The key of a segment's state buffer: float32 ones keep the state's name. */
export const bufferKey = (name: string, s: Storage): string =>
  s === 'f32' ? name : `${name}/${s}`;

/** Bytes of a segment's buffer for `s`: `elements` page elements, or `blockwise` 8-bit-layout ones. */
export function bufferBytes(s: Storage, elements: number, blockwise: number): number {
  if (s === 'f32') return elements * 4;
  if (s === 'bf16' || s === 'f16') return Math.ceil(elements / 2) * 4;
  return (MAP_WORDS + (blockwise / QUANT_BLOCK) * QUANT_BLOCK_WORDS) * 4;
}

/** u32 words holding `length` elements of one run (16-bit: 2 a word; 8-bit: whole blocks). */
export function runWords(s: Storage, length: number): number {
  if (s === 'f32') return length;
  if (s === 'bf16' || s === 'f16') return Math.ceil(length / 2);
  return Math.ceil(length / QUANT_BLOCK) * QUANT_BLOCK_WORDS;
}

/** Word offset of a run whose first element is at `offset` in its buffer's element coordinates. */
export function runWordOffset(s: Storage, offset: number): number {
  if (s === 'f32') return offset;
  if (s === 'bf16' || s === 'f16') return offset / 2; // runs start at multiples of 4 elements
  return MAP_WORDS + (offset / QUANT_BLOCK) * QUANT_BLOCK_WORDS;
}

// ---- 16-bit codecs ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits of float32 x rounded to nearest, ties to even; NaN stays a (quiet) NaN. */
export function bfloat16Nearest(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The kernels' rounding hash of float32 bits u and step t (32 bits, unsigned). */
export function bfloat16Hash(u: number, t = 0): number {
  let h = Math.imul((u ^ Math.imul(t, 0x27d4eb2f)) >>> 0, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The kernels' 16-bit bfloat16 rounding threshold for float32 bits u at step t. */
export const bfloat16Threshold = (u: number, t = 0): number => bfloat16Hash(u, t) & 0xffff;

/**
 * bfloat16 bits of float32 x as the state stores them at step t (the step being applied; 0 when
 * the host encodes a loaded dict): stochastic rounding, x's magnitude bits plus a pseudo-random
 * threshold in [0, 2^16) then truncated, the threshold a hash of x's bits and t (deterministic:
 * the GPU's to the bit). Round-to-nearest would freeze the EMAs of Adam-like rules in bfloat16:
 * with beta2 = 0.999, v <- 0.999 v + 0.001 g^2 changes v by less than half an ulp (2^-9 to 2^-8
 * relative), so v stops tracking g^2 (the bench's least squares: final loss +31% with nearest).
 * Exact bfloat16 values are kept, the result is one of the two neighbours of x, Inf stays Inf,
 * NaN a (quiet) NaN.
 */
export function toBfloat16(x: number, t = 0): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return (((u + bfloat16Threshold(u, t)) >>> 0) >>> 16) & 0xffff;
}

export function fromBfloat16(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/**
 * IEEE binary16 bits of float32 x, round to nearest even with subnormals (WGSL pack2x16float on
 * finite values in range); |x| >= 65520 becomes +-Inf and NaN a quiet NaN, as torch's cast (the
 * kernels select these themselves: pack2x16float's result is indeterminate there).
 */
export function toFloat16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00;
  const exp = a >>> 23;
  if (exp >= 113) {
    // Normal binary16: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
    const base = ((exp - 112) << 10) | ((a >>> 13) & 0x3ff);
    const rest = a & 0x1fff;
    const up = rest > 0x1000 || (rest === 0x1000 && (base & 1) === 1) ? 1 : 0;
    return sign | (base + up);
  }
  if (exp < 102) return sign; // below half the smallest subnormal (2^-25): +-0
  // Subnormal binary16: value = m * 2^-24, m = round(mantissa * 2^(exp - 127 - 23 + 24)).
  const mant = (a & 0x7fffff) | 0x800000;
  const shift = 126 - exp; // 14..24
  const m = mant >>> shift;
  const rest = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  const up = rest > half || (rest === half && (m & 1) === 1) ? 1 : 0;
  return sign | (m + up);
}

export function fromFloat16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ---- 8-bit dynamic maps ----

/**
 * bitsandbytes' `create_dynamic_map(signed, max_exponent_bits=7, total_bits=8)`
 * (bitsandbytes/functional.py): for each decade i = 0..6 the midpoints of linspace(0.1, 1, n+1)
 * times 10^(i-6), n = 2^i (signed, with their negatives) or 2^(i+1) (unsigned), plus 0 and 1,
 * sorted: 256 float32 values in [-1, 1] (signed: -0.99297.. to 1) or [0, 1] (unsigned), dense
 * near 0. Computed in float64 and rounded once (torch computes linspace in float32, so a few
 * values may differ from torch's in the last bit; the format stores the map with the codes).
 */
export function createDynamicMap(signed: boolean): Float32Array {
  const maxExponentBits = 7;
  const data: number[] = [];
  for (let i = 0; i < maxExponentBits; i++) {
    const items = signed ? 2 ** i + 1 : 2 ** (i + 1) + 1;
    const scale = 10 ** (-(maxExponentBits - 1) + i);
    for (let k = 0; k < items - 1; k++) {
      const lo = 0.1 + (0.9 * k) / (items - 1);
      const hi = 0.1 + (0.9 * (k + 1)) / (items - 1);
      const mean = (lo + hi) / 2;
      data.push(scale * mean);
      if (signed) data.push(-scale * mean);
    }
  }
  data.push(0, 1);
  if (data.length !== 256) throw new Error(`dynamic map has ${data.length} values (internal)`);
  return Float32Array.from(data.sort((a, b) => a - b));
}

export const SIGNED_MAP = createDynamicMap(true);
export const UNSIGNED_MAP = createDynamicMap(false);

/** The head of an 8-bit state buffer (MAP_WORDS): the map's 256 float32 values. */
export function mapHeader(s: 'u8' | 's8'): Float32Array<ArrayBuffer> {
  return Float32Array.from(s === 's8' ? SIGNED_MAP : UNSIGNED_MAP);
}

/** The kernels' stochastic-rounding fraction in [0, 1) for float32 value bits u at step t. */
export function roundingFraction(u: number, t = 0): number {
  return (bfloat16Hash(u, t) >>> 8) * 2 ** -24;
}

/**
 * The code of float32 value v in a block with float32 absmax a at step t. With k the largest
 * entry with fround(map[k] * a) <= v (0 if none) and lo, hi the scaled entries k and k + 1:
 * k + 1 when fround(v - lo) > fround(r * fround(hi - lo)), else k. `stochastic` (the unsigned
 * map: second moments) draws r = roundingFraction(bits of v, t), so the code is k + 1 with
 * probability (v - lo) / (hi - lo) and its expected value is v; otherwise (signed: first
 * moments) r = 1/2, the nearest entry, a tie going to the lower code. Values on a scaled entry
 * keep their code; 0 codes the map's 0 whatever the absmax.
 *
 * Why: nearest codes freeze a second moment, v <- 0.999 v + 0.001 g^2 moving less than half a
 * code gap (the bench's least squares: Adam 52% above float32's final loss with nearest v
 * codes, +2% stochastic); first moments (beta1 = 0.9) move 10% a step and do not stall, and
 * stochastic m codes only added noise (the demo MLP: +21% stochastic, +7% nearest). Only float32
 * products, differences and comparisons, as the kernel does them (a GPU that fuses v - map[k] * a
 * into an FMA may pick the other neighbour on a threshold; SwiftShader matches bit for bit).
 */
export function quantizeCode(
  v: number,
  a: number,
  map: Float32Array,
  t = 0,
  stochastic = false,
): number {
  if (v === 0) return map.indexOf(0); // the map's 0, whatever the absmax (0 included)
  let k = 0;
  for (let s = 128; s > 0; s >>= 1) {
    const j = k + s;
    if (j <= 255 && Math.fround(map[j]! * a) <= v) k = j;
  }
  if (k === 255) return 255;
  const lo = Math.fround(map[k]! * a);
  const hi = Math.fround(map[k + 1]! * a);
  f32[0] = v;
  const r = stochastic ? roundingFraction(u32[0]!, t) : 0.5;
  return Math.fround(v - lo) > Math.fround(r * Math.fround(hi - lo)) ? k + 1 : k;
}

const MAPS = { s8: SIGNED_MAP, u8: UNSIGNED_MAP };

/**
 * Encodes `values` (one run: a tensor, or its piece in one page) as stored: 16-bit halves two a
 * word (element 2k in the low half of word k), or 8-bit blocks of 256 (64 code words, 4 codes a
 * word from the low byte, then the absmax; the padding of the last block codes 0).
 */
export function encodeRun(s: Storage, values: Float32Array, t = 0): Uint32Array {
  const n = values.length;
  const out = new Uint32Array(runWords(s, n));
  if (s === 'f32') {
    out.set(new Uint32Array(values.buffer, values.byteOffset, n));
    return out;
  }
  if (s === 'bf16' || s === 'f16') {
    const enc = s === 'bf16' ? (x: number) => toBfloat16(x, t) : toFloat16;
    for (let i = 0; i < n; i++) out[i >> 1]! |= enc(values[i]!) << ((i & 1) * 16);
    return out;
  }
  const map = MAPS[s];
  const fout = new Float32Array(out.buffer);
  for (let b = 0; b * QUANT_BLOCK < n; b++) {
    const lo = b * QUANT_BLOCK;
    const hi = Math.min(n, lo + QUANT_BLOCK);
    let a = 0;
    for (let i = lo; i < hi; i++) a = Math.max(a, Math.abs(values[i]!));
    const base = b * QUANT_BLOCK_WORDS;
    for (let i = lo; i < lo + QUANT_BLOCK; i++) {
      const code = quantizeCode(i < hi ? values[i]! : 0, a, map, t, s === 'u8');
      out[base + ((i - lo) >> 2)]! |= code << (((i - lo) & 3) * 8);
    }
    fout[base + QUANT_BLOCK / 4] = a;
  }
  return out;
}

/** Decodes `length` elements of one run from its stored words (the inverse of encodeRun). */
export function decodeRun(s: Storage, words: Uint32Array, length: number): Float32Array {
  if (s === 'f32') return new Float32Array(words.buffer, words.byteOffset, length).slice();
  const out = new Float32Array(length);
  if (s === 'bf16' || s === 'f16') {
    const dec = s === 'bf16' ? fromBfloat16 : fromFloat16;
    for (let i = 0; i < length; i++) out[i] = dec((words[i >> 1]! >>> ((i & 1) * 16)) & 0xffff);
    return out;
  }
  const map = MAPS[s];
  const fw = new Float32Array(words.buffer, words.byteOffset, words.length);
  for (let i = 0; i < length; i++) {
    const base = Math.floor(i / QUANT_BLOCK) * QUANT_BLOCK_WORDS;
    const code = (words[base + ((i % QUANT_BLOCK) >> 2)]! >>> ((i & 3) * 8)) & 0xff;
    out[i] = Math.fround(map[code]! * fw[base + QUANT_BLOCK / 4]!);
  }
  return out;
}

/**
 * Float32 values as state stored in `s` holds them (encode then decode), run by run: the CPU
 * reference of a kernel's store at step t (bfloat16 rounding) followed by a load. `runs` are
 * the element counts of the tensor's runs (8-bit blocks restart at each).
 */
export function roundTrip(
  s: Storage,
  values: ArrayLike<number>,
  runs: readonly number[],
  t = 0,
): Float32Array {
  const all = Float32Array.from(values);
  if (s === 'f32') return all;
  let at = 0;
  for (const n of runs) {
    const part = all.subarray(at, at + n);
    part.set(decodeRun(s, encodeRun(s, part, t), n));
    at += n;
  }
  return all;
}

/** Unit roundoff of a storage relative to the largest value of a block (8-bit: half the widest gap). */
export function unitRoundoff(s: Storage): number {
  switch (s) {
    case 'f32':
      return 2 ** -24;
    case 'bf16':
      return 2 ** -8;
    case 'f16':
      return 2 ** -11;
    default: {
      const map = MAPS[s];
      let gap = 0;
      for (let k = 0; k + 1 < map.length; k++) gap = Math.max(gap, map[k + 1]! - map[k]!);
      return gap / 2;
    }
  }
}
