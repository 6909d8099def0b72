/**
 * WebGPU's buffer-usage and map-mode flags as numbers (values fixed by the WebGPU spec), so the
 * engine runs where the GPUBufferUsage / GPUMapMode globals do not exist (Node with Dawn).
 */
export const MAP_READ = 0x0001;
export const COPY_SRC = 0x0004;
export const COPY_DST = 0x0008;
export const UNIFORM = 0x0040;
export const STORAGE = 0x0080;

/** GPUMapMode.READ. */
export const MAP_MODE_READ = 0x0001;

/** What the engine's storage buffers are created with. */
export const STORAGE_USAGE = STORAGE | COPY_SRC | COPY_DST;
