import type { Engine, Optimizer, Parameter } from '../../src/index.ts';
import type { Schedulable } from '../../src/schedulers/index.ts';
import {
  dispatch,
  kernel,
  readBuffer,
  storageBuffer,
  submitPass,
  uniformBuffer,
  type Kernel,
} from '../shared/gpu.ts';
import {
  createOptimizer,
  takesStateDtype,
  takesVectors,
  type OptimizerChoice,
} from '../shared/optimizer-choices.ts';
import { permutation, seededRandom } from '../shared/random.ts';
import type { Dataset } from './datasets.ts';
import { initialWeights, mlpLayout, type MlpLayout } from './mlp-layout.ts';
import { decisionGridWgsl, reduceGradientWgsl, sampleGradientWgsl } from './mlp-wgsl.ts';
import { SCHEDULERS, type SchedulerHandle } from './scheduler-choices.ts';

export const GRID = 64;

/** The biases' AdamW learning rate beside a matrices-only optimizer (Muon). */
const COMPANION_LR = 0.02;

export interface SessionOptions {
  hidden: number;
  batchSize: number;
  /** Steps the schedulers are set up for (and the loss history holds). */
  steps: number;
  scheduler: string;
  seed: number;
  /**
   * How every optimizer stores its state (the engine's stateDtype; default float32). Under
   * '8bit' the demo sets min8bitSize 0: its tensors are all smaller than the default 4096.
   */
  stateDtype?: string;
}

/** One model trained by one optimizer choice; its tensors are zero-copy Parameters over its own buffers. */
class MlpRun {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly history: GPUBuffer;
  readonly probs: GPUBuffer;
  readonly sample: Kernel;
  readonly reduce: Kernel;
  readonly grid: Kernel;
  readonly tensors: Parameter[];
  readonly optimizer: Optimizer<object>;
  /** AdamW for the biases when the choice takes matrices only (Muon), as torch's docs advise. */
  readonly companion: Optimizer<object> | undefined;
  readonly scheduler: SchedulerHandle | undefined;
  private readonly scratch: GPUBuffer[];

  constructor(
    engine: Engine,
    readonly choice: OptimizerChoice,
    layout: MlpLayout,
    shared: { uniforms: GPUBuffer; data: GPUBuffer; order: GPUBuffer },
    o: SessionOptions,
  ) {
    const name = `train/${choice.label}`;
    const weights = initialWeights(layout, o.seed);
    this.params = storageBuffer(engine, `${name}/params`, layout.total * 4, weights);
    this.grads = storageBuffer(engine, `${name}/grads`, layout.total * 4);
    const partial = storageBuffer(engine, `${name}/partial`, o.batchSize * layout.total * 4);
    const stats = storageBuffer(engine, `${name}/stats`, o.batchSize * 8);
    this.history = storageBuffer(engine, `${name}/history`, o.steps * 8);
    this.probs = storageBuffer(engine, `${name}/probs`, GRID * GRID * 16);
    this.scratch = [partial, stats];
    const key = `h${layout.hidden}c${layout.classes}`;
    this.sample = kernel(engine, `train/sample/${key}`, sampleGradientWgsl(layout), [
      shared.uniforms,
      this.params,
      shared.data,
      shared.order,
      partial,
      stats,
    ]);
    this.reduce = kernel(engine, `train/reduce/${key}`, reduceGradientWgsl(layout), [
      shared.uniforms,
      partial,
      stats,
      this.grads,
      this.history,
    ]);
    this.grid = kernel(engine, `train/grid/${key}`, decisionGridWgsl(layout, GRID), [
      this.params,
      this.probs,
    ]);
    // Weights are [in, out] matrices (Adafactor factors them), biases vectors.
    this.tensors = Object.entries(layout.tensors).map(([tensor, t]) =>
      engine.parameter(this.params, {
        offset: t.offset * 4,
        length: t.length,
        grad: this.grads,
        gradOffset: t.offset * 4,
        label: `${name}/${tensor}`,
        shape: tensor.startsWith('w') ? [t.fanIn, t.length / t.fanIn] : [t.length],
      }),
    );
    const options = structuredClone(choice.options);
    const matrices = this.tensors.filter((p) => p.shape.length === 2);
    const vectors = this.tensors.filter((p) => p.shape.length !== 2);
    const onlyMatrices = !takesVectors(choice.name);
    // Low-precision state where the rule has per-element state on the elementwise path; shaped
    // rules (Adafactor, Muon) keep float32 state (they refuse another stateDtype).
    const lowp =
      o.stateDtype && o.stateDtype !== 'float32'
        ? { stateDtype: o.stateDtype, min8bitSize: 0 }
        : {};
    if (takesStateDtype(choice.name)) Object.assign(options, lowp);
    this.optimizer = createOptimizer(choice.name, onlyMatrices ? matrices : this.tensors, options);
    this.companion = onlyMatrices
      ? createOptimizer('AdamW', vectors, { lr: COMPANION_LR, weightDecay: 0, ...lowp })
      : undefined;
    this.scheduler = SCHEDULERS[o.scheduler]?.(
      this.optimizer as unknown as Schedulable,
      o.steps,
      options.lr as number,
    );
  }

  dispose(): void {
    this.optimizer.dispose();
    this.companion?.dispose();
    for (const p of this.tensors) p.dispose();
    for (const b of [this.params, this.grads, this.history, this.probs, ...this.scratch])
      b.destroy();
  }
}

/**
 * Trains one MLP per optimizer choice on the same dataset, mini-batches and initial weights. A
 * step: the sample kernel (forward + backward per example) and the reduce kernel (batch sum into
 * the gradient buffer) for every model in one pass, then each optimizer's step and its
 * scheduler's. Losses stay on the GPU (`history`) until the page draws.
 */
export class TrainingSession {
  steps = 0;
  readonly layout: MlpLayout;
  readonly runs: MlpRun[];
  private readonly uniforms: GPUBuffer;
  private readonly data: GPUBuffer;
  private readonly order: GPUBuffer;
  private readonly random: () => number;
  private batchStart = 0;

  constructor(
    private readonly engine: Engine,
    readonly dataset: Dataset,
    choices: OptimizerChoice[],
    readonly options: SessionOptions,
  ) {
    this.layout = mlpLayout(options.hidden, dataset.classes);
    this.random = seededRandom(options.seed + 1);
    this.uniforms = uniformBuffer(engine, 'train/uniforms', 32);
    this.data = storageBuffer(engine, 'train/data', dataset.points.byteLength, dataset.points);
    this.order = storageBuffer(engine, 'train/order', dataset.count * 4, this.shuffle());
    const shared = { uniforms: this.uniforms, data: this.data, order: this.order };
    this.runs = choices.map((c) => new MlpRun(engine, c, this.layout, shared, options));
  }

  /** Seed 004's mini-batches: a fresh permutation every epoch, consecutive slices of it. */
  private shuffle(): Uint32Array<ArrayBuffer> {
    return permutation(this.dataset.count, this.random) as Uint32Array<ArrayBuffer>;
  }

  step(n: number): void {
    const { batchSize } = this.options;
    const header = new Uint32Array(8);
    for (let k = 0; k < n; k++) {
      if (this.batchStart + batchSize > this.dataset.count) {
        this.engine.queue.writeBuffer(this.order, 0, this.shuffle());
        this.batchStart = 0;
      }
      header.set([this.batchStart, batchSize, this.steps, this.dataset.count, this.options.steps]);
      this.engine.queue.writeBuffer(this.uniforms, 0, header);
      submitPass(this.engine, 'train/forward-backward', (pass) => {
        for (const run of this.runs) {
          dispatch(pass, run.sample, batchSize);
          dispatch(pass, run.reduce, this.layout.total + 1);
        }
      });
      for (const run of this.runs) {
        run.optimizer.step();
        run.companion?.step();
        run.scheduler?.step();
      }
      this.batchStart += batchSize;
      this.steps++;
    }
  }

  /** Per run: the mini-batch loss and accuracy of every recorded step. */
  async curves(): Promise<Array<{ loss: number[]; accuracy: number[] }>> {
    const recorded = Math.min(this.steps, this.options.steps);
    return Promise.all(
      this.runs.map(async (run) => {
        const raw = await readBuffer(this.engine, run.history, Math.max(8, recorded * 8));
        const loss: number[] = [];
        const accuracy: number[] = [];
        for (let t = 0; t < recorded; t++) {
          loss.push(raw[2 * t]!);
          accuracy.push(raw[2 * t + 1]!);
        }
        return { loss, accuracy };
      }),
    );
  }

  /** Per run: class probabilities on the GRID x GRID decision grid (4 floats per cell). */
  async decisionGrids(): Promise<Float32Array[]> {
    submitPass(this.engine, 'train/grid', (pass) => {
      for (const run of this.runs) dispatch(pass, run.grid, GRID * GRID);
    });
    return Promise.all(
      this.runs.map((run) => readBuffer(this.engine, run.probs, GRID * GRID * 16)),
    );
  }

  /** The current learning rate of each run (after its scheduler). */
  learningRates(): number[] {
    return this.runs.map((r) => (r.optimizer.paramGroups[0] as unknown as { lr: number }).lr);
  }

  dispose(): void {
    for (const run of this.runs) run.dispose();
    for (const b of [this.uniforms, this.data, this.order]) b.destroy();
  }
}
