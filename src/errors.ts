/** Errors the engine raises; every message names the object or kernel it concerns. */

/** A WebGPU validation/out-of-memory error or a shader compilation message, tagged with the label of the kernel or buffer that caused it. */
export class GPUOperationError extends Error {
  override name = 'GPUOperationError';
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(`${label}: ${message}`);
  }
}

/** Thrown when WebGPU cannot be used at all (no navigator.gpu, no adapter, device request failed). */
export class WebGPUUnavailableError extends Error {
  override name = 'WebGPUUnavailableError';
}

/** Thrown when a disposed parameter, optimizer or engine is used. */
export class DisposedError extends Error {
  override name = 'DisposedError';
}
