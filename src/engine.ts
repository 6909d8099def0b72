import {
  DeviceLostError,
  DisposedError,
  GPUOperationError,
  WebGPUUnavailableError,
} from './errors.ts';
import { pageElements, padToVec4 } from './limits.ts';
import { Parameter, type Extent, type Run } from './parameter.ts';
import { PipelineCache, type PipelineView } from './pipeline-cache.ts';
import { readRuns, writeRuns, zeroRuns } from './transfer.ts';
import { STORAGE_USAGE } from './usage.ts';
import { checkKnownKeys, describe } from './validate.ts';

/** Limits the engine plans with; each may only lower the device's own (tests use small ones). */
export interface PlanningLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface EngineOptions {
  /** Share a device created elsewhere (another library's); the engine then never destroys it. */
  device?: GPUDevice;
  /** Where to request an adapter from: any object shaped like navigator.gpu (default navigator.gpu). */
  gpu?: GPU;
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
  /** The tensor's shape (default [length]); its product must equal the length. */
  shape?: readonly number[];
}

/** Options of engine.parameter(values | n). */
export type ParameterOptions = Pick<WrapOptions, 'label' | 'shape'>;

/**
 * Largest tensor the engine accepts, in elements (16 GiB of float32): past that a request is a
 * mistake (2**40 elements would be 4 TiB), and planning it would hang the page.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 32;

/** Smallest byte size a planning limit or page may have: one vec4. */
const MIN_BYTES = 16;

/** Something the engine frees on dispose(), e.g. a cached clipping launch. */
export interface Releasable {
  destroy(): void;
}

/**
 * Owns a GPUDevice, the limits it plans with, the pipeline cache and error reporting. Every GPU
 * object is labelled; validation errors, out-of-memory errors and shader compilation messages are
 * turned into GPUOperationErrors naming the label and thrown at the next engine call.
 */
export class Engine {
  readonly queue: GPUQueue;
  readonly limits: PlanningLimits;
  readonly pipelines: PipelineView;
  /** Float32 elements one page (one binding) may hold. */
  readonly pageElements: number;
  /**
   * Resolves with a DeviceLostError when the device is lost for any reason but this engine's own
   * dispose(); from then on every call throws that error.
   */
  readonly lost: Promise<DeviceLostError>;
  private lostError: DeviceLostError | undefined;
  private pendingError: GPUOperationError | undefined;
  private disposed = false;
  private count = 0;
  private readonly onUncaptured: (event: Event) => void;
  /** Engine-owned objects keyed by what they serve (clipping launches per parameter list). */
  private readonly cache = new Map<string, { params: Parameter[]; value: Releasable }>();
  /** Live parameters and optimizers, freed by dispose(). */
  private readonly live = new Set<{ dispose(): void }>();
  /** Buffers to destroy once work in flight is known to have succeeded (or at dispose()). */
  private readonly deferred = new Set<GPUBuffer>();

  constructor(
    readonly device: GPUDevice,
    readonly adapterDescription: string,
    private readonly ownsDevice: boolean,
    limits: Partial<PlanningLimits> = {},
    pageBytes = DEFAULT_PAGE_BYTES,
    /** @internal Dawn's GPU object when the engine created it: kept alive as long as the device. */
    readonly provider?: GPU,
  ) {
    this.queue = device.queue;
    this.limits = planningLimits(device.limits, limits);
    this.pageElements = pageElements(
      Math.min(this.limits.maxStorageBufferBindingSize, pageBytes),
      this.limits.maxBufferSize,
    );
    this.pipelines = PipelineCache.of(device).view((label, message) => this.report(label, message));
    this.onUncaptured = (event) => {
      this.report('uncaptured', (event as GPUUncapturedErrorEvent).error.message);
    };
    // Every GPU call of the engine runs in error scopes, so on a device of its own anything
    // uncaptured is a leftover of its work; on an adopted device it is another library's.
    if (ownsDevice) device.addEventListener('uncapturederror', this.onUncaptured);
    this.lost = new Promise((resolve) => {
      void device.lost.then((info) => {
        if (this.disposed) return; // our own dispose() destroyed it
        this.lostError = new DeviceLostError(info.reason, info.message);
        resolve(this.lostError);
      });
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

  /** Throws a DisposedError after dispose(), a DeviceLostError after the device was lost. */
  checkLive(): void {
    if (this.disposed) throw new DisposedError('the engine has been disposed');
    if (this.lostError) throw this.lostError;
  }

  /** The DeviceLostError, once the device is lost (so failed reads say why). */
  get lostReason(): DeviceLostError | undefined {
    return this.lostError;
  }

  /** @internal Tracks a parameter or optimizer, freed by dispose() if still alive. */
  track(object: { dispose(): void }): void {
    this.live.add(object);
  }

  /** @internal */
  untrack(object: { dispose(): void }): void {
    this.live.delete(object);
  }

  /**
   * @internal An engine-owned object serving `params` (e.g. a clipping launch), built on first
   * use and rebuilt (the old one destroyed) when `valid` says it no longer fits; destroyed when
   * one of its parameters is disposed, or by dispose().
   */
  cached<T extends Releasable>(
    key: string,
    params: Parameter[],
    valid: (value: T) => boolean,
    build: () => T,
  ): T {
    const hit = this.cache.get(key);
    if (hit && valid(hit.value as T)) return hit.value as T;
    hit?.value.destroy();
    const value = build();
    this.cache.set(key, { params, value });
    return value;
  }

  /**
   * @internal Destroys `buffers` once `done` resolves true (e.g. a copy's error scopes came back
   * clean), or at dispose() if that comes first; `done` resolving false keeps them.
   */
  destroyWhen(done: Promise<boolean>, buffers: GPUBuffer[]): void {
    for (const b of buffers) this.deferred.add(b);
    void done.then(
      (ok) => {
        for (const b of buffers) {
          if (ok && this.deferred.has(b)) b.destroy();
          this.deferred.delete(b);
        }
      },
      () => {},
    );
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
    this.checkLive();
    this.throwIfFailed();
  }

  createBuffer(label: string, size: number, usage: GPUBufferUsageFlags = STORAGE_USAGE): GPUBuffer {
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
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`engine.parameter: options must be an object, got ${describe(options)}`);
    }
    const isBuffer = isGPUBuffer(source);
    checkKnownKeys(
      'engine.parameter',
      options,
      isBuffer ? ['offset', 'length', 'grad', 'gradOffset', 'label', 'shape'] : ['label', 'shape'],
    );
    if (options.label !== undefined && typeof options.label !== 'string') {
      throw new TypeError(
        `engine.parameter: label must be a string, got ${describe(options.label)}`,
      );
    }
    if (isBuffer) return this.wrap(source, options, options.label ?? `param${this.count++}`);
    if (typeof source !== 'number' && !(source instanceof Float32Array)) {
      throw new TypeError(
        `engine.parameter: expected a Float32Array of values, a length, or a GPUBuffer to wrap, got ${describe(source)}`,
      );
    }
    const n = typeof source === 'number' ? source : source.length;
    checkLength(n, this.limits.maxBufferSize);
    const shape = checkShape(options.shape, n);
    const label = options.label ?? `param${this.count++}`;
    return this.scoped(label, () => {
      const p = new Parameter(this, n, this.allocate(n, label), 'engine', label, shape);
      if (source instanceof Float32Array) p.write(source);
      return p;
    });
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
    if (o.grad !== undefined && !isGPUBuffer(o.grad)) {
      throw new TypeError(`engine.parameter: grad must be a GPUBuffer, got ${describe(o.grad)}`);
    }
    const offset = o.offset ?? 0;
    const gradOffset = o.gradOffset ?? 0;
    for (const [name, value] of [
      ['offset', offset],
      ['gradOffset', gradOffset],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value % 4 !== 0) {
        throw new RangeError(
          `engine.parameter: ${name} must be a non-negative multiple of 4 bytes, got ${describe(value)}`,
        );
      }
    }
    const length = o.length ?? Math.floor((buffer.size - offset) / 4);
    if (!Number.isInteger(length) || length < 1 || offset + length * 4 > buffer.size) {
      throw new RangeError(
        `engine.parameter: length ${describe(length)} at byte offset ${offset} does not fit in ${buffer.label || 'the buffer'} (${buffer.size} bytes)`,
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
    const shape = checkShape(o.shape, length);
    const grad =
      o.grad ?? this.scoped(label, () => this.createBuffer(`${label}.grad`, padToVec4(length) * 4));
    const extent: Extent = {
      start: 0,
      length,
      param: buffer,
      paramOffset: offset / 4,
      grad,
      gradOffset: o.grad ? gradOffset / 4 : 0,
    };
    const p = new Parameter(this, length, [extent], 'caller', label, shape);
    if (!o.grad) ownedGrads.add(p);
    return p;
  }

  /** Frees what the engine owns of a disposed parameter, and every cached object serving it. */
  release(p: Parameter): void {
    for (const [key, entry] of this.cache) {
      if (entry.params.includes(p)) {
        entry.value.destroy();
        this.cache.delete(key);
      }
    }
    this.live.delete(p);
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
    this.scoped(label, () => writeRuns(this.queue, runs, data, label));
  }

  async readRuns(runs: Run[], length: number): Promise<Float32Array> {
    this.checkLive();
    this.throwIfFailed();
    try {
      return await this.scoped('readback', () => readRuns(this, runs, length));
    } catch (e) {
      // A read cut short by device loss says so (device.lost resolves a moment later).
      if ((e as Error).name === 'AbortError')
        await Promise.race([this.lost, new Promise((resolve) => setTimeout(resolve, 1000))]);
      throw this.lostError ?? e;
    }
  }

  zeroRuns(runs: Run[]): void {
    this.checkLive();
    this.scoped('zero', () => {
      const encoder = this.device.createCommandEncoder({ label: 'zero' });
      zeroRuns(encoder, runs);
      this.queue.submit([encoder.finish()]);
    });
  }

  /** Reads `words` u32/f32 words from the start of an engine buffer. */
  readBuffer(buffer: GPUBuffer, words: number): Promise<Float32Array> {
    return this.readRuns([{ buffer, offset: 0, length: words, start: 0 }], words);
  }

  /**
   * Frees everything the engine owns (live parameters and optimizers, caches), stops listening
   * to the device, and destroys the device when the engine created it. Every later call throws a
   * DisposedError.
   */
  dispose(): void {
    if (this.disposed) return;
    for (const object of [...this.live]) object.dispose();
    for (const entry of this.cache.values()) entry.value.destroy();
    this.cache.clear();
    for (const b of this.deferred) b.destroy();
    this.deferred.clear();
    this.disposed = true;
    if (this.ownsDevice) this.device.removeEventListener('uncapturederror', this.onUncaptured);
    if (this.ownsDevice) this.device.destroy();
  }
}

/** Caller-wrapped parameters whose gradient buffer the engine allocated (and so frees). */
const ownedGrads = new WeakSet<Parameter>();

/** Names createEngine accepts (a typo must not be silently ignored). */
const ENGINE_OPTIONS = ['device', 'gpu', 'featureLevel', 'powerPreference', 'limits', 'pageBytes'];
const LIMIT_NAMES = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Checks the form of createEngine's options before any GPU work. */
function checkEngineOptions(o: EngineOptions): void {
  if (o === null || typeof o !== 'object') {
    throw new TypeError(`createEngine: options must be an object, got ${describe(o)}`);
  }
  checkKnownKeys('createEngine', o, ENGINE_OPTIONS);
  if (o.limits !== undefined) {
    if (o.limits === null || typeof o.limits !== 'object')
      throw new TypeError(`createEngine: limits must be an object, got ${describe(o.limits)}`);
    checkKnownKeys('createEngine: limits', o.limits, LIMIT_NAMES, 'limit');
    for (const name of LIMIT_NAMES) {
      const v = o.limits[name];
      const min = name === 'maxComputeWorkgroupsPerDimension' ? 1 : MIN_BYTES;
      if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) {
        throw new RangeError(
          `createEngine: limits.${name} must be an integer >= ${min}, got ${describe(v)}`,
        );
      }
    }
  }
  if (
    o.pageBytes !== undefined &&
    (!Number.isSafeInteger(o.pageBytes) || o.pageBytes < MIN_BYTES)
  ) {
    throw new RangeError(
      `createEngine: pageBytes must be an integer >= ${MIN_BYTES}, got ${describe(o.pageBytes)}`,
    );
  }
  if (
    o.featureLevel !== undefined &&
    o.featureLevel !== 'core' &&
    o.featureLevel !== 'compatibility'
  ) {
    throw new RangeError(
      `createEngine: featureLevel must be 'core' or 'compatibility', got ${describe(o.featureLevel)}`,
    );
  }
}

/** The limits to plan with: the device's, lowered where asked (never raised: that throws). */
export function planningLimits(
  device: Pick<GPUSupportedLimits, (typeof LIMIT_NAMES)[number]>,
  asked: Partial<PlanningLimits>,
): PlanningLimits {
  const out = {} as PlanningLimits;
  for (const name of LIMIT_NAMES) {
    const v = asked[name];
    if (v !== undefined && v > device[name]) {
      throw new RangeError(
        `createEngine: limits.${name} ${v} is above the device's ${device[name]} (limits may only lower the device's)`,
      );
    }
    out[name] = v ?? device[name];
  }
  return out;
}

/** A tensor length: a positive integer no larger than MAX_TENSOR_ELEMENTS. */
function checkLength(n: unknown, maxBufferSize: number): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`engine.parameter: length must be a positive integer, got ${describe(n)}`);
  }
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new RangeError(
      `engine.parameter: length ${n} is more than the ${MAX_TENSOR_ELEMENTS} elements (16 GiB) a tensor may have (the device's largest buffer is ${maxBufferSize} bytes; larger tensors span pages)`,
    );
  }
}

/** A shape: positive integers whose product is `length` (default [length]). */
function checkShape(shape: unknown, length: number): number[] {
  if (shape === undefined) return [length];
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    shape.some((d) => !Number.isSafeInteger(d) || d < 1)
  ) {
    throw new RangeError(
      `engine.parameter: shape must be a non-empty array of positive integers, got ${describe(shape)}`,
    );
  }
  const product = shape.reduce((a: number, b: number) => a * b, 1);
  if (product !== length) {
    throw new RangeError(
      `engine.parameter: shape [${shape.join(', ')}] holds ${product} elements, the tensor has ${length}`,
    );
  }
  return [...shape];
}

function isGPUBuffer(x: unknown): x is GPUBuffer {
  if (typeof GPUBuffer !== 'undefined' && x instanceof GPUBuffer) return true;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as GPUBuffer).size === 'number' &&
    typeof (x as GPUBuffer).destroy === 'function' &&
    typeof (x as GPUBuffer).mapAsync === 'function'
  );
}

/**
 * Acquires a device (or adopts `options.device`) with the adapter's largest storage-binding,
 * buffer and dispatch limits. Rejects with a WebGPUUnavailableError that says why when WebGPU
 * cannot be used.
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  checkEngineOptions(options);
  if (options.device) {
    return new Engine(options.device, 'shared device', false, options.limits, options.pageBytes);
  }
  const gpu = options.gpu ?? (typeof navigator === 'undefined' ? undefined : navigator.gpu);
  if (gpu) return engineOn(gpu, options);
  if (!isNode()) {
    throw new WebGPUUnavailableError(
      'WebGPU is not available here (navigator.gpu is undefined): use a browser with WebGPU enabled, in a secure context (https or localhost)',
    );
  }
  const dawn = await loadDawn();
  // The engine keeps Dawn's GPU object: once it is collected, Dawn's instance goes with it and
  // the device's callbacks crash the process.
  return engineOn(dawn, options, dawn);
}

/** Node, Deno and Bun all set process.versions.node; browsers (and workers) do not. */
function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** The `webgpu` npm package (Dawn), an optional peer dependency. */
interface DawnModule {
  create(flags: string[]): GPU;
}

/** Imports Dawn (`webgpu`) and creates its GPU object, or says why it cannot. */
async function loadDawn(): Promise<GPU> {
  // A specifier in a variable: bundlers must neither bundle Dawn's native module into the browser
  // build nor fail on it; Node resolves it from the caller's node_modules at run time.
  const specifier = 'webgpu';
  let dawn: DawnModule;
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (e) {
    throw new WebGPUUnavailableError(
      `WebGPU is not available here: navigator.gpu is undefined and the 'webgpu' package (Dawn for Node) could not be loaded (${(e as Error).message}); install it with \`npm install webgpu\`, or pass createEngine({ gpu }) any object shaped like navigator.gpu`,
    );
  }
  try {
    return dawn.create([]);
  } catch (e) {
    throw new WebGPUUnavailableError(
      `the 'webgpu' package (Dawn) failed to start: ${(e as Error).message}`,
    );
  }
}

/** Requests an adapter and a device from `gpu` (navigator.gpu or Dawn's) and builds the engine. */
async function engineOn(gpu: GPU, options: EngineOptions, provider?: GPU): Promise<Engine> {
  const adapterOptions: GPURequestAdapterOptions & { featureLevel?: string } = {};
  if (options.featureLevel) adapterOptions.featureLevel = options.featureLevel;
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (!adapter) {
    throw new WebGPUUnavailableError(
      provider
        ? "Dawn (the 'webgpu' package) found no GPU adapter (requestAdapter() returned null): on Linux it needs the Vulkan loader (libvulkan.so.1) and a Vulkan driver; without a GPU, a software one (README: Node)"
        : 'WebGPU is enabled but no GPU adapter was found (navigator.gpu.requestAdapter() returned null)',
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
  try {
    return new Engine(device, description, true, options.limits, options.pageBytes, provider);
  } catch (e) {
    device.destroy();
    throw e;
  }
}
