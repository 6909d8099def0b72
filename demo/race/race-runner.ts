import type { Engine, Optimizer, Parameter } from '../../src/index.ts';
import {
  readBuffer,
  storageBuffer,
  submitPass,
  uniformBuffer,
  dispatch,
  kernel,
  type Kernel,
} from '../shared/gpu.ts';
import { createOptimizer, type OptimizerChoice } from '../shared/optimizer-choices.ts';
import { regionStride, surfaceGradientWgsl, surfaceRecordWgsl } from './surface-kernel.ts';
import type { Surface } from './surfaces.ts';

/**
 * Runs every chosen optimizer on one surface from the same start points, all on the GPU. Each
 * racer's points are one Parameter of 2*count elements wrapping its region of a shared buffer
 * (zero-copy), so the gradient kernel writes straight where the optimizers read. Nothing is read
 * back while stepping; `history()` and `positions()` read back when the page draws.
 */
export class RaceRunner {
  /** Steps taken so far. */
  steps = 0;
  readonly count: number;
  readonly stride: number;
  private readonly points: GPUBuffer;
  private readonly grads: GPUBuffer;
  private readonly history: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly gradient: Kernel;
  private readonly record: Kernel;
  /** Bit r: racer r is schedule-free, recorded and shown at x (opt.eval()) rather than at y. */
  private readonly evalMask: number;
  private readonly params: Parameter[];
  private readonly optimizers: Optimizer<object>[];

  constructor(
    private readonly engine: Engine,
    readonly surface: Surface,
    readonly racers: OptimizerChoice[],
    /** Start points, x and y interleaved; every racer starts from all of them. */
    starts: Float32Array,
    /** Steps whose (x, y, loss) are recorded for drawing trajectories (0 in swarm mode). */
    readonly historyCapacity: number,
  ) {
    this.count = starts.length / 2;
    this.stride = regionStride(this.count);
    const initial = new Float32Array(this.stride * racers.length);
    racers.forEach((_, r) => initial.set(starts, r * this.stride));
    this.points = storageBuffer(engine, 'race/points', initial.byteLength, initial);
    this.grads = storageBuffer(engine, 'race/grads', initial.byteLength);
    const historyBytes = Math.max(16, historyCapacity * racers.length * this.count * 16);
    this.history = storageBuffer(engine, 'race/history', historyBytes);
    this.uniforms = uniformBuffer(engine, 'race/uniforms', 32);
    this.gradient = kernel(engine, `race/gradient/${surface.id}`, surfaceGradientWgsl(surface), [
      this.uniforms,
      this.points,
      this.grads,
      this.history,
    ]);
    this.params = racers.map((choice, r) =>
      engine.parameter(this.points, {
        offset: r * this.stride * 4,
        length: 2 * this.count,
        grad: this.grads,
        gradOffset: r * this.stride * 4,
        label: `race/${choice.label}`,
      }),
    );
    this.optimizers = racers.map((choice, r) =>
      createOptimizer(choice.name, [this.params[r]!], structuredClone(choice.options)),
    );
    this.evalMask = this.optimizers.reduce((m, o, r) => (o.spec.modes ? m | (1 << r) : m), 0);
    this.record = kernel(engine, `race/record/${surface.id}`, surfaceRecordWgsl(surface), [
      this.uniforms,
      this.points,
      this.grads,
      this.history,
    ]);
  }

  /** Runs `f` with the schedule-free racers' parameters at x (eval mode), then back at y. */
  private async atX<T>(f: () => T | Promise<T>): Promise<T> {
    const modal = this.optimizers.filter((o) => o.spec.modes);
    for (const o of modal) o.eval();
    try {
      return await f();
    } finally {
      for (const o of modal) o.train();
    }
  }

  /** `n` steps: gradients of every point on the surface, then one step of every optimizer. */
  step(n: number): void {
    const header = new Uint32Array(8);
    for (let k = 0; k < n; k++) {
      header.set([
        this.count,
        this.racers.length,
        this.stride,
        this.steps,
        this.historyCapacity,
        this.evalMask,
      ]);
      this.engine.queue.writeBuffer(this.uniforms, 0, header);
      if (this.evalMask !== 0 && this.steps < this.historyCapacity) {
        // Schedule-free racers are recorded at x, their evaluation point; gradients stay at y.
        for (const o of this.optimizers) if (o.spec.modes) o.eval();
        submitPass(this.engine, 'race/record', (pass) =>
          dispatch(pass, this.record, this.count * this.racers.length),
        );
        for (const o of this.optimizers) if (o.spec.modes) o.train();
      }
      submitPass(this.engine, 'race/gradient', (pass) =>
        dispatch(pass, this.gradient, this.count * this.racers.length),
      );
      for (const opt of this.optimizers) opt.step();
      this.steps++;
    }
  }

  /**
   * The recorded trajectories: per racer, (x, y, loss) of point 0 at each recorded step, as
   * [x0, y0, loss0, x1, ...].
   */
  async trajectories(): Promise<Float32Array[]> {
    const recorded = Math.min(this.steps, this.historyCapacity);
    const perStep = this.racers.length * this.count;
    const raw = await readBuffer(this.engine, this.history, Math.max(16, recorded * perStep * 16));
    return this.racers.map((_, r) => {
      const out = new Float32Array(recorded * 3);
      for (let t = 0; t < recorded; t++) {
        const at = (t * perStep + r * this.count) * 4;
        out.set(raw.subarray(at, at + 3), t * 3);
      }
      return out;
    });
  }

  /** Current points of every racer (x and y interleaved, `count` points each). */
  async positions(): Promise<Float32Array[]> {
    // Schedule-free racers at x: the copy is recorded while they are in eval mode.
    const raw = await this.atX(() =>
      readBuffer(this.engine, this.points, this.stride * this.racers.length * 4),
    );
    return this.racers.map((_, r) => raw.slice(r * this.stride, r * this.stride + 2 * this.count));
  }

  dispose(): void {
    for (const opt of this.optimizers) opt.dispose();
    for (const p of this.params) p.dispose();
    for (const b of [this.points, this.grads, this.history, this.uniforms]) b.destroy();
  }
}
