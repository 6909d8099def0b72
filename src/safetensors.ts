/**
 * The safetensors file format (https://github.com/huggingface/safetensors), pure and host-only:
 *
 *   8 bytes   N, the header length, a little-endian u64
 *   N bytes   a UTF-8 JSON object { "<name>": { "dtype", "shape", "data_offsets": [begin, end] },
 *             ..., "__metadata__": { string: string } }, padded with spaces to a multiple of 8
 *   the rest  the tensors' raw little-endian bytes; offsets count from the end of the header
 *
 * The decoder checks what the reference implementation checks (header length within the file,
 * a JSON object, known dtypes, sizes that match the shapes, tensors that tile the data exactly:
 * no overlap, no gap, nothing after the last) and throws a SafetensorsError naming the problem.
 */

/** A malformed safetensors file; the message says what is wrong and where. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Bytes per element of each safetensors dtype. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** A tensor to write: F32 from a Float32Array, F64 from a Float64Array. */
export interface TensorInput {
  shape: readonly number[];
  data: Float32Array | Float64Array;
}

/** A decoded tensor: `data` is a Float32Array (F32), a Float64Array (F64), else the raw bytes. */
export interface Tensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** The reference implementation's limit on the header (100 MB), against hostile lengths. */
const MAX_HEADER = 100_000_000;
const METADATA = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function product(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Encodes tensors (in the order given: put F64 ones first to keep them 8-byte aligned) and
 * string metadata. The header is padded with spaces to a multiple of 8, as the reference does.
 */
export function encodeSafetensors(
  tensors: ReadonlyArray<readonly [string, TensorInput]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new TypeError(`safetensors: metadata '${key}' must be a string, got ${typeof value}`);
    }
  }
  if (Object.keys(metadata).length > 0) header[METADATA] = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA || name in header) {
      throw new TypeError(`safetensors: tensor name '${name}' is reserved or repeated`);
    }
    const dtype = t.data instanceof Float64Array ? 'F64' : 'F32';
    if (
      !t.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      product(t.shape) !== t.data.length
    ) {
      throw new RangeError(
        `safetensors: tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} elements`,
      );
    }
    const end = offset + t.data.byteLength;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of tensors) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

function littleEndianBytes(data: Float32Array | Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const f64 = data instanceof Float64Array;
  data.forEach((v, i) => (f64 ? view.setFloat64(i * 8, v, true) : view.setFloat32(i * 4, v, true)));
  return out;
}

function fail(message: string): never {
  throw new SafetensorsError(`safetensors: ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes and checks a whole file; the tensors' data are copies (the input is not kept). */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`safetensors: expected a Uint8Array, got ${typeof bytes}`);
  }
  if (bytes.length < 8) {
    fail(`the file has ${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > MAX_HEADER) fail(`header length ${headerLength} exceeds ${MAX_HEADER} bytes`);
  if (headerLength > bytes.length - 8) {
    fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    fail(`the header must be a JSON object, starts with '${text[0] ?? ''}'`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) fail('the header must be a JSON object');

  const metadata: Record<string, string> = {};
  const meta = header[METADATA];
  if (meta !== undefined) {
    if (!isObject(meta)) fail(`${METADATA} must be an object of strings`);
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== 'string') fail(`${METADATA}.${k} must be a string, got ${typeof v}`);
      metadata[k] = v;
    }
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const entries: Array<{
    name: string;
    dtype: string;
    shape: number[];
    begin: number;
    end: number;
  }> = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA) continue;
    if (!isObject(info)) fail(`tensor '${name}' must be an object`);
    for (const key of Object.keys(info)) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') {
        fail(`tensor '${name}' has unknown field '${key}'`);
      }
    }
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      fail(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has shape ${JSON.stringify(shape)}, expected non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, expected [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`tensor '${name}' has data_offsets [${begin}, ${end}]: begin > end`);
    if (end > dataLength) {
      fail(
        `tensor '${name}' has data_offsets [${begin}, ${end}] beyond the ${dataLength} data bytes`,
      );
    }
    const size = product(shape as number[]) * DTYPE_BYTES[dtype]!;
    if (size !== end - begin) {
      fail(
        `tensor '${name}' (${dtype}, shape [${(shape as number[]).join(', ')}]) needs ${size} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  // The tensors must tile the data exactly, as the reference requires.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: (typeof entries)[number] | undefined;
  for (const e of sorted) {
    if (e.begin < at) {
      fail(
        `tensor '${e.name}' [${e.begin}, ${e.end}) overlaps '${previous!.name}' [${previous!.begin}, ${previous!.end})`,
      );
    }
    if (e.begin > at) fail(`data bytes [${at}, ${e.begin}) belong to no tensor`);
    at = e.end;
    previous = e;
  }
  if (at !== dataLength) fail(`data bytes [${at}, ${dataLength}) belong to no tensor`);

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const raw = bytes.slice(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typed(e.dtype, raw) });
  }
  return { tensors, metadata };
}

function typed(dtype: string, raw: Uint8Array): Float32Array | Float64Array | Uint8Array {
  if (dtype !== 'F32' && dtype !== 'F64') return raw;
  const size = DTYPE_BYTES[dtype]!;
  if (LITTLE_ENDIAN)
    return dtype === 'F32' ? new Float32Array(raw.buffer) : new Float64Array(raw.buffer);
  const view = new DataView(raw.buffer);
  const n = raw.length / size;
  return dtype === 'F32'
    ? Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true))
    : Float64Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true));
}
