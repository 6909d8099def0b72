/**
 * webgpu-optim/ort: step weights that live in ONNX Runtime Web GPU tensors, in place.
 *
 * ORT's WebGPU execution provider creates its own GPUDevice (in onnxruntime-web 1.30 it ignores
 * one set in `ort.env.webgpu.device` and publishes its own there once a WebGPU session exists),
 * and a GPU tensor fed to a session must live on that device. So the engine adopts ORT's device
 * (`ortEngine`), the weights are buffers on it that both sides see without copies
 * (`ortWeight`, or `ortParameter` over a tensor you made with `ort.Tensor.fromGpuBuffer`), and
 * ORT and the optimizer are ordered by the one queue they share: a step submitted before
 * `session.run()` is seen by that run.
 *
 * `ort` is passed in (the namespace of `onnxruntime-web/webgpu` or `onnxruntime-web`), never
 * imported, so this module costs nothing to users without ORT.
 */
import { createEngine, type Engine, type EngineOptions } from '../engine.ts';
import type { Parameter } from '../parameter.ts';
import { STORAGE_USAGE } from '../usage.ts';
import { onnxModel } from './onnx-model.ts';

/** The part of an ORT tensor used here (structural: onnxruntime-web's Tensor satisfies it). */
export interface OrtTensorLike {
  readonly location: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly size: number;
  readonly gpuBuffer: GPUBuffer;
}

/** The part of the onnxruntime-web namespace used here; `T` is its Tensor type. */
export interface OrtLike<T extends OrtTensorLike = OrtTensorLike> {
  readonly env: { readonly webgpu: { readonly device: unknown } };
  readonly InferenceSession: {
    create(
      model: Uint8Array,
      options: { executionProviders: string[] },
    ): Promise<{ release(): Promise<void> }>;
  };
  readonly Tensor: {
    fromGpuBuffer(buffer: GPUBuffer, options: { dataType: 'float32'; dims: readonly number[] }): T;
  };
}

function isDevice(d: unknown): d is GPUDevice {
  return typeof d === 'object' && d !== null && 'queue' in d && 'createBuffer' in d;
}

/**
 * One-node sessions that keep ORT's device alive: ORT 1.30 destroys its WebGPU device when its
 * last WebGPU session is released (and makes a new one for the next session), which would leave
 * an engine on it with a lost device.
 */
const keepAlive = new WeakMap<object, Promise<unknown>>();

/**
 * ORT's WebGPU device. ORT creates it with its first WebGPU session, and destroys it with its
 * last; so a one-node session (Identity) is created once per `ort` namespace and never released,
 * which keeps the device alive for the engines on it whatever sessions the caller releases.
 */
export async function ortDevice(ort: OrtLike): Promise<GPUDevice> {
  if (!keepAlive.has(ort)) keepAlive.set(ort, holdDevice(ort));
  await keepAlive.get(ort);
  const device = await ort.env.webgpu.device;
  if (!isDevice(device)) {
    throw new Error(
      `ortDevice: ort.env.webgpu.device is not a GPUDevice after a WebGPU session was created (got ${String(device)}): is this onnxruntime-web's WebGPU build ('onnxruntime-web/webgpu')?`,
    );
  }
  return device;
}

async function holdDevice(ort: OrtLike): Promise<unknown> {
  const identity = onnxModel({
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', dims: [1] }],
    outputs: [{ name: 'y', dims: [1] }],
  });
  try {
    return await ort.InferenceSession.create(identity, { executionProviders: ['webgpu'] });
  } catch (e) {
    keepAlive.delete(ort); // let a later call try again
    throw new Error(
      `ortDevice: ORT could not create a session with the 'webgpu' execution provider: ${(e as Error).message ?? e}`,
    );
  }
}

/** An engine on ORT's WebGPU device (the engine never destroys a device it adopts). */
export async function ortEngine(
  ort: OrtLike,
  options: Omit<EngineOptions, 'device' | 'gpu'> = {},
): Promise<Engine> {
  return createEngine({ ...options, device: await ortDevice(ort) });
}

export interface OrtParameterOptions {
  /** Gradient buffer on the same device (default: an engine-owned one). */
  grad?: GPUBuffer;
  /** Byte offset of the gradient in `grad`. */
  gradOffset?: number;
  label?: string;
}

/**
 * Wraps a float32 ORT GPU tensor (`location === 'gpu-buffer'`) as a parameter, zero-copy: the
 * optimizer updates the tensor's buffer in place and the next `session.run()` that is given the
 * tensor sees the new values. The tensor's buffer must be on the engine's device (see ortEngine)
 * and have STORAGE | COPY_SRC | COPY_DST usage. Neither side destroys the buffer.
 */
export function ortParameter(
  engine: Engine,
  tensor: OrtTensorLike,
  options: OrtParameterOptions = {},
): Parameter {
  if (tensor.location !== 'gpu-buffer') {
    throw new TypeError(
      `ortParameter: the tensor must live in a GPU buffer (location 'gpu-buffer'), got location '${tensor.location}': create it with ort.Tensor.fromGpuBuffer`,
    );
  }
  if (tensor.type !== 'float32') {
    throw new TypeError(`ortParameter: the tensor must be float32, got ${tensor.type}`);
  }
  return engine.parameter(tensor.gpuBuffer, {
    length: tensor.size,
    ...(options.grad ? { grad: options.grad, gradOffset: options.gradOffset ?? 0 } : {}),
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
}

/** A weight both ORT and the optimizer see: one buffer, an ORT tensor and a parameter over it. */
export interface OrtWeight<T extends OrtTensorLike = OrtTensorLike> {
  readonly buffer: GPUBuffer;
  readonly tensor: T;
  readonly parameter: Parameter;
  /** Disposes the parameter and destroys the buffer (dispose ORT tensors made from it first). */
  dispose(): void;
}

/**
 * Creates a weight on the engine's (ORT's) device holding `values`, shaped `dims` for ORT, e.g.
 * `ortWeight(ort, engine, w, [k, m], 'W')`; feed `weight.tensor` to `session.run()` and give
 * `weight.parameter` to an optimizer.
 */
export function ortWeight<T extends OrtTensorLike>(
  ort: OrtLike<T>,
  engine: Engine,
  values: Float32Array,
  dims: readonly number[],
  label = 'ort-weight',
): OrtWeight<T> {
  const size = dims.reduce((a, b) => a * b, 1);
  if (!dims.every((d) => Number.isInteger(d) && d > 0) || size !== values.length) {
    throw new RangeError(
      `ortWeight: dims [${dims.join(', ')}] must be positive integers whose product is the number of values (${values.length})`,
    );
  }
  const buffer = engine.scoped(label, () =>
    engine.device.createBuffer({ label, size: Math.ceil(size / 4) * 16, usage: STORAGE_USAGE }),
  );
  try {
    const parameter = engine.parameter(buffer, { length: size, label });
    parameter.write(values);
    const tensor = ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims });
    return {
      buffer,
      tensor,
      parameter,
      dispose() {
        parameter.dispose();
        buffer.destroy();
      },
    };
  } catch (e) {
    buffer.destroy();
    throw e;
  }
}
