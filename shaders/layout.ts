/**
 * Every layout the host and the kernels share, declared once: each declaration generates the
 * WGSL struct (or the word offsets a kernel indexes with) and the typed host packer, so no
 * struct is written twice and no offset is a bare number in two files. The constants both
 * sides need live here too; shaders/ imports nothing from src/.
 */

/** A 32-bit field's WGSL type. */
export type WordType = 'u32' | 'f32';

/** A struct of 32-bit words, in declaration order. */
export interface Layout<F extends string> {
  readonly name: string;
  readonly fields: readonly F[];
  /** Word index of each field. */
  readonly offset: Readonly<Record<F, number>>;
  readonly words: number;
  /** `struct Name { a: u32, b: f32 }` */
  readonly wgsl: string;
  /** Writes `values` into `out` from word `at` (a new array by default); f32 fields as bits. */
  pack(
    values: Readonly<Record<F, number>>,
    out?: Uint32Array,
    at?: number,
  ): Uint32Array<ArrayBuffer>;
  /** Reads the fields back from words written by pack (the round trip tested in Node). */
  unpack(words: Uint32Array, at?: number): Record<F, number>;
}

/** Declares a layout: `layout('Launch', { blockBase: 'u32', ... })`. */
export function layout<F extends string>(name: string, types: Record<F, WordType>): Layout<F> {
  const fields = Object.keys(types) as F[];
  const offset = Object.fromEntries(fields.map((f, i) => [f, i])) as Record<F, number>;
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  return {
    name,
    fields,
    offset,
    words: fields.length,
    wgsl: `struct ${name} { ${fields.map((f) => `${f}: ${types[f]}`).join(', ')} }`,
    pack(values, given, at = 0) {
      const out = (given ?? new Uint32Array(fields.length)) as Uint32Array<ArrayBuffer>;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        if (types[f] === 'f32') {
          f32[0] = values[f];
          out[at + i] = bits[0]!;
        } else out[at + i] = values[f];
      }
      return out;
    },
    unpack(words, at = 0) {
      const values = {} as Record<F, number>;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        if (types[f] === 'f32') {
          bits[0] = words[at + i]!;
          values[f] = f32[0]!;
        } else values[f] = words[at + i]!;
      }
      return values;
    },
  };
}

/** Invocations per workgroup. */
export const BLOCK_LANES = 256;

/**
 * Items (vec4s or scalars) each invocation updates, BLOCK_LANES apart so that a workgroup's
 * accesses stay contiguous: the block-table row and the per-tensor scalars are read once per
 * invocation for all of them. On SwiftShader (16M parameters, same-bytes stream kernel = 1) 1
 * item per lane ran at 0.68, 8 at 0.89 and 16 at 0.94-0.99; 16 vec4s (64 floats) per thread is
 * also the scale of Apex's multi_tensor_apply chunks per thread.
 */
export const BLOCK_ITEMS = 16;

/** Items per block. */
export const BLOCK_SIZE = BLOCK_LANES * BLOCK_ITEMS;

/**
 * One block-table row. Offsets count the launch's items (vec4s or scalars); `partial` is the
 * block's slot in the norm scratch (a tensor's blocks are consecutive), `row` its state class.
 */
export const BLOCK_ROW = layout('BlockRow', {
  param: 'u32',
  grad: 'u32',
  state: 'u32',
  count: 'u32',
  tensor: 'u32',
  partial: 'u32',
  row: 'u32',
});

/** u32 words per block row. */
export const BLOCK_WORDS = BLOCK_ROW.words;

/** WGSL: the word of block-row field `f` for the row starting at `row`. */
export const blockWord = (f: (typeof BLOCK_ROW.fields)[number], row = 'row') =>
  `table[${row} + ${BLOCK_ROW.offset[f]}u]`;

/** The uniform of every block kernel (one 256-byte slot per dispatch). */
export const LAUNCH = layout('Launch', {
  blockBase: 'u32',
  blockCount: 'u32',
  rowBase: 'u32',
  normBase: 'u32',
  rowStride: 'u32',
  /** Ring size - 1 (the size is a power of two). */
  ringMask: 'u32',
});

/**
 * The uniform of every pass of a shaped step (shaders/passes.wgsl.ts), one per tensor and pass:
 * where the class's scalar row is (as in LAUNCH), where the tensor's elements and gradient start,
 * its view as [batch, rows, cols] (a vector is [1, 1, n]), its slots in the sums buffer, and the
 * product dimensions of a matmul pass.
 */
export const PASS = layout('Pass', {
  rowBase: 'u32',
  rowStride: 'u32',
  ringMask: 'u32',
  cls: 'u32',
  param: 'u32',
  grad: 'u32',
  batch: 'u32',
  rows: 'u32',
  cols: 'u32',
  count: 'u32',
  /** First of the tensor's slots in the sums buffer. */
  sums: 'u32',
  /** First per-workgroup partial slot (shared by all tensors: their passes run one after another). */
  partials: 'u32',
  /** Workgroups of a map pass (it strides over the tensor). */
  groups: 'u32',
  /** 1 when rows > cols: matrix passes work on the transpose (Muon). */
  transposed: 'u32',
  /** A matmul's C[m x n] = A[m x k] * B[k x n]. */
  m: 'u32',
  n: 'u32',
  k: 'u32',
});

/** The uniform of the norm reductions (per block, then per tensor). */
export const REDUCE = layout('Reduce', {
  count: 'u32',
  partialTable: 'u32',
  normBase: 'u32',
  blockBase: 'u32',
});

/** The uniform of the step-count kernel. */
export const COUNT = layout('Count', { classes: 'u32', maskBase: 'u32' });

/** The uniform of clipGradNorm's total. */
export const CLIP_TOTAL = layout('Total', {
  tensorCount: 'u32',
  normBase: 'u32',
  slot: 'u32',
  maxNorm: 'f32',
});

/**
 * The step-counter buffer (u32 words), which the GPU alone advances: this header, then per
 * state class c a CLASS_COUNTERS record at COUNTER_HEADER.words + CLASS_COUNTERS.words * c.
 * `found` is set by the non-finite check and cleared by the count kernel after the update;
 * `skipped` counts steps skipped for non-finite gradients, `executed` every step that ran.
 */
export const COUNTER_HEADER = layout('Counters', {
  found: 'u32',
  skipped: 'u32',
  executed: 'u32',
  reserved: 'u32',
});

/** Per state class: applied steps (torch's state['step']), and a bit per state some applied step wrote. */
export const CLASS_COUNTERS = layout('ClassCounters', { step: 'u32', touched: 'u32' });

/** Word of class `c`'s counter field `f` (host side). */
export const classCounter = (c: number, f: (typeof CLASS_COUNTERS.fields)[number]) =>
  COUNTER_HEADER.words + CLASS_COUNTERS.words * c + CLASS_COUNTERS.offset[f];

/** WGSL: the word of class `index`'s counter field `f`. */
export const classCounterWgsl = (index: string, f: (typeof CLASS_COUNTERS.fields)[number]) =>
  `${COUNTER_HEADER.words}u + ${CLASS_COUNTERS.words}u * ${index} + ${CLASS_COUNTERS.offset[f]}u`;

/** u32 words of the counter buffer for `classes` state classes. */
export const counterWords = (classes: number) =>
  COUNTER_HEADER.words + CLASS_COUNTERS.words * classes;

/** Compile-time switches of a kernel; each distinct set is compiled once and cached. */
export type Variant = Record<string, boolean>;
