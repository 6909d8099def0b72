import type { Engine } from './engine.ts';
import type { Run } from './parameter.ts';
import { COPY_DST, MAP_MODE_READ, MAP_READ } from './usage.ts';

/** Host <-> GPU copies of a tensor spread over runs (see Parameter.extents). */

/** Uploads `data` into `runs`; checks the length first so a mismatch writes nothing. */
export function writeRuns(queue: GPUQueue, runs: Run[], data: Float32Array, label: string): void {
  const length = runs.reduce((n, r) => n + r.length, 0);
  if (!(data instanceof Float32Array) || data.length !== length) {
    const got = data instanceof Float32Array ? `length ${data.length}` : String(data);
    throw new RangeError(`${label}: expected a Float32Array of length ${length}, got ${got}`);
  }
  for (const r of runs)
    queue.writeBuffer(r.buffer, r.offset * 4, data as Float32Array<ArrayBuffer>, r.start, r.length);
}

/** Copies `runs` into one staging buffer, maps it, and returns the values. */
export async function readRuns(engine: Engine, runs: Run[], length: number): Promise<Float32Array> {
  const staging = engine.createBuffer('readback', length * 4, MAP_READ | COPY_DST);
  const encoder = engine.device.createCommandEncoder({ label: 'readback' });
  for (const r of runs)
    encoder.copyBufferToBuffer(r.buffer, r.offset * 4, staging, r.start * 4, r.length * 4);
  engine.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(MAP_MODE_READ, 0, length * 4);
    return new Float32Array(staging.getMappedRange(0, length * 4).slice(0));
  } finally {
    staging.destroy();
  }
}

/** Encodes zero-fills of `runs`. */
export function zeroRuns(encoder: GPUCommandEncoder, runs: Run[]): void {
  for (const r of runs) encoder.clearBuffer(r.buffer, r.offset * 4, r.length * 4);
}
