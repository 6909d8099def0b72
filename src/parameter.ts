import { DisposedError } from './errors.ts';
import type { Engine } from './engine.ts';

/**
 * A run of a tensor's elements that sits contiguously in one parameter buffer and one gradient
 * buffer. Offsets and lengths count float32 elements. A tensor is one extent, or several when it
 * is larger than one buffer binding may be.
 */
export interface Extent {
  /** Index within the tensor of the first element of the run. */
  start: number;
  length: number;
  param: GPUBuffer;
  paramOffset: number;
  grad: GPUBuffer;
  gradOffset: number;
  /** The engine-owned page the run lives in, when packed by an optimizer. */
  page?: Page;
}

/** A pair of engine-owned buffers (parameters, gradients) holding many tensors back to back. */
export interface Page {
  param: GPUBuffer;
  grad: GPUBuffer;
  /** Elements allocated (a multiple of 4). */
  elements: number;
  /** Tensors still alive on the page; the buffers are destroyed when it reaches 0. */
  live: number;
}

/** Who owns the buffers a parameter lives in, which decides what the engine may move or destroy. */
export type Ownership = 'engine' | 'packed' | 'caller';

/** The gradient of a parameter: same length, same extents, separate buffers. */
export class Gradient {
  constructor(private readonly owner: Parameter) {}

  get length(): number {
    return this.owner.length;
  }

  /** Uploads `data` (a Float32Array of the parameter's length; RangeError otherwise, with nothing written). */
  write(data: Float32Array): void {
    this.owner.checkLive();
    this.owner.engine.writeRuns(this.owner.gradRuns(), data, `${this.owner.label}.grad`);
  }

  /** Reads the gradient back to the host. */
  read(): Promise<Float32Array> {
    this.owner.checkLive();
    return this.owner.engine.readRuns(this.owner.gradRuns(), this.owner.length);
  }

  /** Sets every element to zero on the GPU. */
  zero(): void {
    this.owner.checkLive();
    this.owner.engine.zeroRuns(this.owner.gradRuns());
  }
}

/** A region of a buffer, in float32 elements. */
export interface Run {
  buffer: GPUBuffer;
  offset: number;
  length: number;
  start: number;
}

/**
 * A GPU-resident float32 tensor with its gradient. Created by `engine.parameter(...)`. An optimizer
 * may move an engine-owned parameter into a shared page (same values, one dispatch for many
 * tensors); `extents` always says where it lives now.
 */
export class Parameter {
  readonly grad: Gradient;
  /** The tensor's shape (default [length]); its product is the length. */
  readonly shape: readonly number[];
  extents: Extent[];
  ownership: Ownership;
  private disposed = false;

  constructor(
    readonly engine: Engine,
    readonly length: number,
    extents: Extent[],
    ownership: Ownership,
    readonly label: string,
    shape: readonly number[] = [length],
  ) {
    this.shape = Object.freeze([...shape]);
    this.extents = extents;
    this.ownership = ownership;
    this.grad = new Gradient(this);
    engine.track(this);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws a DisposedError when the parameter (or its engine) has been disposed. */
  checkLive(): void {
    this.engine.checkLive();
    if (this.disposed) throw new DisposedError(`${this.label} has been disposed`);
  }

  paramRuns(): Run[] {
    return this.extents.map((e) => ({
      buffer: e.param,
      offset: e.paramOffset,
      length: e.length,
      start: e.start,
    }));
  }

  gradRuns(): Run[] {
    return this.extents.map((e) => ({
      buffer: e.grad,
      offset: e.gradOffset,
      length: e.length,
      start: e.start,
    }));
  }

  /** Uploads new values (a Float32Array of the parameter's length; RangeError otherwise, with nothing written). */
  write(data: Float32Array): void {
    this.checkLive();
    this.engine.writeRuns(this.paramRuns(), data, this.label);
  }

  /** Reads the values back to the host. */
  read(): Promise<Float32Array> {
    this.checkLive();
    return this.engine.readRuns(this.paramRuns(), this.length);
  }

  /** Frees engine-owned memory; caller-owned buffers are never destroyed. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.release(this);
  }
}
