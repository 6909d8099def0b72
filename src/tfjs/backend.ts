/**
 * The few internals of @tensorflow/tfjs-backend-webgpu (4.x) the TF.js adapter relies on, in one
 * place, each checked at run time so a backend that changed shape fails with a clear message
 * rather than a wrong step. TF.js is never imported: the caller's `tf` namespace is passed in.
 */
import { COPY_DST, COPY_SRC, STORAGE } from '../usage.ts';

/** What the webgpu backend keeps per tensor (backend_webgpu.d.ts `TensorData`). */
export interface TensorData {
  /** Values cached on the CPU (before upload, or after a read); stale once we write the buffer. */
  values: unknown;
  dtype: string;
  shape: number[];
  /** Tensors sharing this data (a variable and the tensor it was made from, reshapes...). */
  refCount: number;
  resource?: unknown;
}

/** The members of tfjs-backend-webgpu's WebGPUBackend the adapter uses. */
export interface WebGPUBackend {
  device: GPUDevice;
  /** The encoder TF.js is recording into (null when nothing is pending). */
  commandEncoder?: GPUCommandEncoder | null;
  tensorMap: { get(dataId: object): TensorData | undefined };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** The usage every buffer the engine binds must carry (TF.js's tensors are created with it). */
const NEEDED_USAGE = STORAGE | COPY_SRC | COPY_DST;

/** TF.js's current backend, if it is the webgpu one; a TypeError that says which it is otherwise. */
export function webgpuBackend(tf: {
  backend(): unknown;
  getBackend(): string | undefined;
}): WebGPUBackend {
  const b = tf.backend() as Partial<WebGPUBackend> | undefined;
  const ok =
    b !== undefined &&
    typeof b.device === 'object' &&
    typeof b.tensorMap?.get === 'function' &&
    typeof b.uploadToGPU === 'function' &&
    typeof b.submitQueue === 'function' &&
    typeof b.ensureCommandEncoderReady === 'function' &&
    typeof b.endComputePassEncoder === 'function';
  if (!ok) {
    throw new TypeError(
      `tfjsOptimizer: TF.js's backend is '${tf.getBackend()}', not 'webgpu' (import '@tensorflow/tfjs-backend-webgpu' and await tf.setBackend('webgpu'))`,
    );
  }
  return b as WebGPUBackend;
}

/** The backend's record of a tensor's data. */
export function tensorData(backend: WebGPUBackend, dataId: object, what: string): TensorData {
  const data = backend.tensorMap.get(dataId);
  if (!data)
    throw new Error(`tfjsOptimizer: ${what} has no data on the webgpu backend (disposed?)`);
  return data;
}

/**
 * The GPUBuffer holding a float32 tensor on TF.js's device, uploaded first when its values are
 * still on the CPU (TF.js runs small ops on the CPU and uploads lazily).
 */
export function gpuBuffer(backend: WebGPUBackend, dataId: object, what: string): GPUBuffer {
  const data = tensorData(backend, dataId, what);
  if (data.dtype !== 'float32') {
    throw new TypeError(`tfjsOptimizer: ${what} must be float32, got ${data.dtype}`);
  }
  if (data.resource == null) backend.uploadToGPU(dataId);
  const buffer = data.resource as GPUBuffer | undefined;
  if (!buffer || typeof buffer.size !== 'number' || typeof buffer.mapAsync !== 'function') {
    throw new TypeError(`tfjsOptimizer: ${what} is not held in a GPUBuffer (a texture?)`);
  }
  if ((buffer.usage & NEEDED_USAGE) !== NEEDED_USAGE) {
    throw new TypeError(
      `tfjsOptimizer: ${what}'s buffer has usage 0x${buffer.usage.toString(16)}; STORAGE|COPY_SRC|COPY_DST (0x${NEEDED_USAGE.toString(16)}) is needed to step it in place`,
    );
  }
  return buffer;
}

/**
 * Submits TF.js's pending command encoder (the kernels that computed the gradients, pending
 * uploads), so our dispatches, submitted next on the same queue, run after them.
 */
export function flush(backend: WebGPUBackend): void {
  if (backend.commandEncoder === null) return; // nothing pending
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** Drops TF.js's CPU copy of values we have just overwritten on the GPU. */
export function invalidate(backend: WebGPUBackend, dataId: object): void {
  const data = backend.tensorMap.get(dataId);
  if (data) data.values = null;
}
