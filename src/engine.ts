import { DisposedError, GPUOperationError, WebGPUUnavailableError } from './errors.ts';
import { pageElements, padToVec4 } from './limits.ts';
import { Parameter, type Extent, type Run } from './parameter.ts';
import { PipelineCache } from './pipeline-cache.ts';
import { readRuns, writeRuns, zeroRuns } from './transfer.ts';

/** Limits the engine plans with; each may only lower the device's own (tests use small ones). */
export interface PlanningLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface EngineOptions {
  /** Share a device created elsewhere (another library's); the engine then never destroys it. */
  device?: GPUDevice;
  /** 'compatibility' requests a compatibility-mode adapter (OpenGL ES backends). */
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: GPUPowerPreference;
  /** Lower the limits the engine plans buffers and dispatches with (never above the device's). */
  limits?: Partial<PlanningLimits>;
  /**
   * Largest buffer the engine allocates for a page of tensors (default 256 MiB): allocations near
   * maxBufferSize fail on some drivers (SwiftShader refuses 1 GiB though it reports it), and
   * smaller pages cost one dispatch each, nothing more.
   */
  pageBytes?: number;
}

/** Default largest page (see EngineOptions.pageBytes). */
export const DEFAULT_PAGE_BYTES = 256 * 2 ** 20;

/** Options of the zero-copy form: wrap buffers the caller owns. */
export interface WrapOptions {
  /** Byte offset of the parameter in the buffer (multiple of 4). */
  offset?: number;
  /** Number of float32 elements (default: the rest of the buffer). */
  length?: number;
  /** Gradient buffer (default: an engine-owned one). */
  grad?: GPUBuffer;
  /** Byte offset of the gradient in `grad` (multiple of 4). */
  gradOffset?: number;
  label?: string;
}

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * Owns a GPUDevice, the limits it plans with, the pipeline cache and error reporting. Every GPU
 * object is labelled; validation errors, out-of-memory errors and shader compilation messages are
 * turned into GPUOperationErrors naming the label and thrown at the next engine call.
 */
export class Engine {
  readonly queue: GPUQueue;
  readonly limits: PlanningLimits;
  readonly pipelines: PipelineCache;
  /** Float32 elements one page (one binding) may hold. */
  readonly pageElements: number;
  private pendingError: GPUOperationError | undefined;
  private disposed = false;
  private count = 0;

  constructor(
    readonly device: GPUDevice,
    readonly adapterDescription: string,
    private readonly ownsDevice: boolean,
    limits: Partial<PlanningLimits> = {},
    pageBytes = DEFAULT_PAGE_BYTES,
  ) {
    this.queue = device.queue;
    const lower = (name: keyof PlanningLimits) =>
      Math.min(device.limits[name], limits[name] ?? Infinity);
    this.limits = {
      maxStorageBufferBindingSize: lower('maxStorageBufferBindingSize'),
      maxBufferSize: lower('maxBufferSize'),
      maxComputeWorkgroupsPerDimension: lower('maxComputeWorkgroupsPerDimension'),
    };
    this.pageElements = pageElements(
      Math.min(this.limits.maxStorageBufferBindingSize, pageBytes),
      this.limits.maxBufferSize,
    );
    this.pipelines = new PipelineCache(device, (label, message) => this.report(label, message));
    device.addEventListener('uncapturederror', (event) => {
      this.report('uncaptured', (event as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Records a GPU error to be thrown by the next engine call (the first one wins). */
  report(label: string, message: string): void {
    this.pendingError ??= new GPUOperationError(label, message);
  }

  /** Throws (once) the first GPU error recorded since the last call. */
  throwIfFailed(): void {
    const error = this.pendingError;
    if (error) {
      this.pendingError = undefined;
      throw error;
    }
  }

  checkLive(): void {
    if (this.disposed) throw new DisposedError('the engine has been disposed');
  }

  /**
   * Runs `encode` inside validation and out-of-memory error scopes; an error is reported with
   * `label`. Returns what `encode` returns.
   */
  scoped<T>(label: string, encode: () => T): T {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    try {
      return encode();
    } finally {
      for (let i = 0; i < 2; i++) {
        void this.device.popErrorScope().then((e) => e && this.report(label, e.message));
      }
    }
  }

  /** Waits for all submitted work, then throws any GPU error it produced. */
  async sync(): Promise<void> {
    this.checkLive();
    await this.queue.onSubmittedWorkDone();
    // Error scopes resolve after the work they cover; give their callbacks a turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.throwIfFailed();
  }

  createBuffer(label: string, size: number, usage: GPUBufferUsageFlags = STORAGE()): GPUBuffer {
    return this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(size / 16) * 16),
      usage,
    });
  }

  /**
   * A GPU-resident parameter: `engine.parameter(values)` copies a Float32Array,
   * `engine.parameter(n)` is zero-filled, `engine.parameter(buffer, options)` wraps caller-owned
   * buffers without copying (the engine never destroys them).
   */
  parameter(source: Float32Array | number | GPUBuffer, options: WrapOptions = {}): Parameter {
    this.checkLive();
    this.throwIfFailed();
    const label = options.label ?? `param${this.count++}`;
    if (typeof source === 'number' || source instanceof Float32Array) {
      const n = typeof source === 'number' ? source : source.length;
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`engine.parameter: length must be a positive integer, got ${n}`);
      }
      const p = new Parameter(this, n, this.allocate(n, label), 'engine', label);
      if (source instanceof Float32Array) p.write(source);
      return p;
    }
    return this.wrap(source, options, label);
  }

  private allocate(n: number, label: string): Extent[] {
    const extents: Extent[] = [];
    for (let start = 0; start < n; start += this.pageElements) {
      const length = Math.min(this.pageElements, n - start);
      const bytes = padToVec4(length) * 4;
      const suffix = n > this.pageElements ? `[${start}]` : '';
      extents.push({
        start,
        length,
        param: this.createBuffer(`${label}${suffix}`, bytes),
        paramOffset: 0,
        grad: this.createBuffer(`${label}.grad${suffix}`, bytes),
        gradOffset: 0,
      });
    }
    return extents;
  }

  private wrap(buffer: GPUBuffer, o: WrapOptions, label: string): Parameter {
    const offset = o.offset ?? 0;
    const gradOffset = o.gradOffset ?? 0;
    for (const [name, value] of [
      ['offset', offset],
      ['gradOffset', gradOffset],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value % 4 !== 0) {
        throw new RangeError(
          `engine.parameter: ${name} must be a non-negative multiple of 4 bytes, got ${value}`,
        );
      }
    }
    const length = o.length ?? Math.floor((buffer.size - offset) / 4);
    if (!Number.isInteger(length) || length < 1 || offset + length * 4 > buffer.size) {
      throw new RangeError(
        `engine.parameter: length ${length} at byte offset ${offset} does not fit in ${buffer.label || 'the buffer'} (${buffer.size} bytes)`,
      );
    }
    if (o.grad && gradOffset + length * 4 > o.grad.size) {
      throw new RangeError(
        `engine.parameter: gradient of ${length} elements at byte offset ${gradOffset} does not fit in ${o.grad.label || 'the gradient buffer'} (${o.grad.size} bytes)`,
      );
    }
    if (length > this.pageElements) {
      throw new RangeError(
        `engine.parameter: a wrapped buffer region may hold at most ${this.pageElements} elements (one binding), got ${length}`,
      );
    }
    const grad = o.grad ?? this.createBuffer(`${label}.grad`, padToVec4(length) * 4);
    const extent: Extent = {
      start: 0,
      length,
      param: buffer,
      paramOffset: offset / 4,
      grad,
      gradOffset: o.grad ? gradOffset / 4 : 0,
    };
    const p = new Parameter(this, length, [extent], 'caller', label);
    if (!o.grad) ownedGrads.add(p);
    return p;
  }

  /** Frees what the engine owns of a disposed parameter. */
  release(p: Parameter): void {
    for (const e of p.extents) {
      if (p.ownership === 'engine') {
        e.param.destroy();
        e.grad.destroy();
      } else if (p.ownership === 'packed' && e.page && --e.page.live === 0) {
        e.page.param.destroy();
        e.page.grad.destroy();
      } else if (p.ownership === 'caller' && ownedGrads.has(p)) {
        e.grad.destroy();
      }
    }
  }

  writeRuns(runs: Run[], data: Float32Array, label: string): void {
    this.checkLive();
    writeRuns(this.queue, runs, data, label);
  }

  readRuns(runs: Run[], length: number): Promise<Float32Array> {
    this.checkLive();
    this.throwIfFailed();
    return readRuns(this, runs, length);
  }

  zeroRuns(runs: Run[]): void {
    this.checkLive();
    const encoder = this.device.createCommandEncoder({ label: 'zero' });
    zeroRuns(encoder, runs);
    this.queue.submit([encoder.finish()]);
  }

  /** Destroys the device when the engine created it; every later call throws a DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsDevice) this.device.destroy();
  }
}

/** Caller-wrapped parameters whose gradient buffer the engine allocated (and so frees). */
const ownedGrads = new WeakSet<Parameter>();

/**
 * Acquires a device (or adopts `options.device`) with the adapter's largest storage-binding,
 * buffer and dispatch limits. Rejects with a WebGPUUnavailableError that says why when WebGPU
 * cannot be used.
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  if (options.device) {
    return new Engine(options.device, 'shared device', false, options.limits, options.pageBytes);
  }
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  if (!gpu) {
    throw new WebGPUUnavailableError(
      'WebGPU is not available here (navigator.gpu is undefined): use a browser with WebGPU enabled, in a secure context (https or localhost)',
    );
  }
  const adapterOptions: GPURequestAdapterOptions & { featureLevel?: string } = {};
  if (options.featureLevel) adapterOptions.featureLevel = options.featureLevel;
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (!adapter) {
    throw new WebGPUUnavailableError(
      'WebGPU is enabled but no GPU adapter was found (navigator.gpu.requestAdapter() returned null)',
    );
  }
  const wanted = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupsPerDimension',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupStorageSize',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const name of wanted) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = (['timestamp-query'] as const).filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'webgpu-optim',
      requiredLimits,
      requiredFeatures,
    });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice failed: ${(e as Error).message}`);
  }
  const info = adapter.info;
  const description =
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
    'unknown adapter';
  const engine = new Engine(device, description, true, options.limits, options.pageBytes);
  void device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') engine.report('device', `device lost: ${lost.message}`);
  });
  return engine;
}
