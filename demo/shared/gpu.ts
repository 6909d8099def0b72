import type { Engine } from '../../src/index.ts';

/**
 * The few GPU calls the demo kernels need (buffers, one dispatch, a readback), each inside the
 * engine's error scopes so a validation error surfaces at the next `engine.sync()`.
 */

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A storage buffer, optionally filled with `data`. */
export function storageBuffer(
  engine: Engine,
  label: string,
  bytes: number,
  data?: ArrayBufferView,
): GPUBuffer {
  const buffer = engine.createBuffer(label, bytes, STORAGE);
  if (data) engine.queue.writeBuffer(buffer, 0, data as GPUAllowSharedBufferSource);
  return buffer;
}

/** A uniform buffer of `bytes` (rounded up to 16). */
export function uniformBuffer(engine: Engine, label: string, bytes: number): GPUBuffer {
  return engine.createBuffer(label, bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
}

/** A compute kernel: a cached pipeline plus a bind group over `buffers` (binding i = buffers[i]). */
export interface Kernel {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
}

export function kernel(engine: Engine, label: string, code: string, buffers: GPUBuffer[]): Kernel {
  return engine.scoped(label, () => {
    const pipeline = engine.pipelines.get(label, code);
    const bindGroup = engine.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { label, pipeline, bindGroup };
  });
}

/** Encodes one dispatch of `threads` invocations (workgroups of 64) into `pass`. */
export function dispatch(pass: GPUComputePassEncoder, k: Kernel, threads: number): void {
  pass.setPipeline(k.pipeline);
  pass.setBindGroup(0, k.bindGroup);
  pass.dispatchWorkgroups(Math.ceil(threads / 64));
}

/** Encodes `encode` into one compute pass and submits it, inside the engine's error scopes. */
export function submitPass(
  engine: Engine,
  label: string,
  encode: (pass: GPUComputePassEncoder) => void,
): void {
  engine.scoped(label, () => {
    const encoder = engine.device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass({ label });
    encode(pass);
    pass.end();
    engine.queue.submit([encoder.finish()]);
  });
}

/** Copies the first `bytes` of `buffer` back to the host. */
export async function readBuffer(
  engine: Engine,
  buffer: GPUBuffer,
  bytes: number,
): Promise<Float32Array> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = engine.createBuffer(
    `${buffer.label}.readback`,
    size,
    GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  );
  engine.scoped(`${buffer.label}.readback`, () => {
    const encoder = engine.device.createCommandEncoder({ label: `${buffer.label}.readback` });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    engine.queue.submit([encoder.finish()]);
  });
  await staging.mapAsync(GPUMapMode.READ, 0, size);
  const out = new Float32Array(staging.getMappedRange(0, size).slice(0));
  staging.destroy();
  return out.subarray(0, bytes / 4);
}
