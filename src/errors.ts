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

/**
 * Thrown by every call after the GPU device was lost (driver reset, `device.destroy()` by another
 * library, a tab in the background on some platforms). `reason` and `message` are the
 * GPUDeviceLostInfo's. Recover with a new engine, new parameters and `loadCheckpoint`.
 */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(
      `the GPU device was lost (${reason || 'unknown'}${detail ? `: ${detail}` : ''}); create a new engine and restore from a checkpoint`,
    );
  }
}
