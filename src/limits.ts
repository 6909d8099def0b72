/** Pure sizing math: buffer pages, workgroup grids. Kept free of GPU calls so Node tests cover it. */

/** Elements (float32) that one page may hold: the largest multiple of 4 that fits in one binding and one buffer. */
export function pageElements(maxBindingBytes: number, maxBufferBytes: number): number {
  const bytes = Math.min(maxBindingBytes, maxBufferBytes);
  return Math.floor(bytes / 16) * 4;
}

/** Rounds n up to a multiple of 4 (tensors start on vec4 boundaries in engine-owned buffers). */
export function padToVec4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/**
 * A 2-D grid of workgroups covering `count` of them when one dimension allows at most `maxPerDim`.
 * Callers split work so that count <= maxPerDim^2; the kernel linearises `x + y * gridX`.
 */
export function workgroupGrid(count: number, maxPerDim: number): [number, number] {
  if (count <= 0) return [0, 1];
  if (count > maxPerDim * maxPerDim) {
    throw new RangeError(`workgroupGrid: ${count} workgroups exceed ${maxPerDim}^2`);
  }
  const y = Math.ceil(count / maxPerDim);
  const x = Math.ceil(count / y);
  return [x, y];
}

/** Splits `count` items into consecutive [start, end) chunks of at most `size`. */
export function chunks(count: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < count; s += size) out.push([s, Math.min(count, s + size)]);
  return out;
}
