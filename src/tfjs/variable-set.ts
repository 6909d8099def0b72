import type { Variable } from '@tensorflow/tfjs-core';
import type { Engine } from '../engine.ts';
import type { Optimizer } from '../optimizer.ts';
import type { Parameter } from '../parameter.ts';
import { gpuBuffer, tensorData, type WebGPUBackend } from './backend.ts';

/** The part of the `tf` namespace a VariableSet calls (to detach a shared variable). */
export type TfOps = Pick<typeof import('@tensorflow/tfjs-core'), 'tidy' | 'add'>;

/**
 * One engine optimizer over a fixed list of TF.js variables, each wrapped zero-copy: the engine
 * parameter is the variable's own GPUBuffer, its gradient an engine-owned buffer that each step's
 * gradient tensor is copied into on the GPU.
 *
 * Why a copy rather than wrapping the gradient tensor's buffer: `tf.variableGrads` returns fresh
 * tensors each step, from TF.js's buffer pool, so a wrapped gradient would be a new buffer every
 * step and the optimizer's bind groups and launch tables would be rebuilt every step. A GPU copy
 * (no host round trip) keeps the launches built once; it costs one read and one write of the
 * gradient's bytes, against the optimizer kernel's own several reads and writes per element.
 *
 * A variable's buffer changes when TF.js reassigns it (`variable.assign`, `model.setWeights`):
 * `bind()` notices and points the parameter at the new buffer; the optimizer state is indexed by
 * tensor, not by buffer, so it stays aligned and only the launches are rebuilt.
 */
export class VariableSet {
  private readonly buffers: Array<GPUBuffer | undefined>;
  /** Times a variable was given its own buffer because its data was shared (tests watch it). */
  detached = 0;
  /** Times the launches were rebuilt because a variable's buffer changed. */
  rebinds = 0;

  constructor(
    readonly variables: Variable[],
    readonly params: Parameter[],
    readonly optimizer: Optimizer<object>,
  ) {
    this.buffers = params.map((p) => p.extents[0]!.param);
  }

  /** Wraps `variables` (uploading any still on the CPU) and builds an optimizer over them. */
  static create(
    engine: Engine,
    backend: WebGPUBackend,
    tf: TfOps,
    variables: Variable[],
    make: (params: Parameter[]) => Optimizer<object>,
  ): VariableSet {
    const params: Parameter[] = [];
    let detached = 0;
    try {
      for (const v of variables) {
        if (detachShared(backend, tf, v)) detached++;
        const buffer = gpuBuffer(backend, v.dataId, `variable '${v.name}'`);
        // The variable's shape (a scalar as [1]): Adafactor factors matrices, Muon takes only them.
        const shape = v.shape.length > 0 ? [...v.shape] : [1];
        params.push(engine.parameter(buffer, { length: v.size, label: `tfjs/${v.name}`, shape }));
      }
      const set = new VariableSet(variables, params, make(params));
      set.detached = detached;
      return set;
    } catch (e) {
      for (const p of params) p.dispose();
      throw e;
    }
  }

  /** Whether the set still holds exactly these live variables (same objects, same order). */
  matches(variables: Variable[]): boolean {
    return (
      variables.length === this.variables.length &&
      variables.every((v, i) => v === this.variables[i] && !v.isDisposed)
    );
  }

  /**
   * Makes every parameter point at its variable's current buffer before a step: gives a shared
   * variable its own data first (stepping shared data in place would change the other tensor),
   * uploads one whose values are on the CPU, and rebuilds the launches if a buffer changed.
   */
  bind(backend: WebGPUBackend, tf: TfOps): void {
    let changed = false;
    this.variables.forEach((v, i) => {
      if (detachShared(backend, tf, v)) this.detached++;
      const buffer = gpuBuffer(backend, v.dataId, `variable '${v.name}'`);
      if (buffer !== this.buffers[i]) {
        this.params[i]!.extents[0]!.param = buffer;
        this.buffers[i] = buffer;
        changed = true;
      }
    });
    if (changed) {
      this.rebinds++;
      this.optimizer.rebind();
    }
  }

  /** Records the copies of this step's gradients into the engine-owned gradient buffers. */
  encodeGradients(encoder: GPUCommandEncoder, grads: GPUBuffer[]): void {
    grads.forEach((g, i) => {
      const e = this.params[i]!.extents[0]!;
      encoder.copyBufferToBuffer(g, 0, e.grad, e.gradOffset * 4, e.length * 4);
    });
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const p of this.params) p.dispose();
  }
}

/**
 * A variable made from a tensor shares that tensor's data (`tf.variable(x)`), as do reshapes of
 * it; TF.js never writes data in place, so the adapter gives such a variable a copy of its own
 * (one GPU op, once) and leaves the other tensors as they were. Returns whether it copied.
 */
function detachShared(backend: WebGPUBackend, tf: TfOps, v: Variable): boolean {
  if (tensorData(backend, v.dataId, `variable '${v.name}'`).refCount <= 1) return false;
  const copy = tf.tidy(() => tf.add(v, 0));
  v.assign(copy);
  copy.dispose();
  return true;
}
