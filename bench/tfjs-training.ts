/**
 * TF.js training with tf.train.adam against this package's Adam and AdamW adapters
 * (webgpu-optim/tfjs), on the same model, weights and batches: ms per training step
 * (model.trainOnBatch, forward + backward + optimizer, synchronised), ms per optimizer step alone
 * (applyGradients on fixed gradients), and the loss curves. Used by bench/page.ts (npm run bench)
 * and by the demo page demo/tfjs.html. Runs in a page with TF.js on its webgpu backend.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { Adam, AdamW } from '../src/index.ts';
import { tfjsOptimizer } from '../src/tfjs/index.ts';

type Tf = typeof tfjs;

export interface TrainingOptions {
  /** Layer widths, input first: [256, 512, 512, 10] is about 0.4M parameters. */
  widths: number[];
  batch: number;
  /** Timed training steps per optimizer (after `warmup` untimed ones). */
  steps: number;
  warmup: number;
  /** applyGradients calls timed per optimizer. */
  optimizerSteps: number;
  lr: number;
  /** Called after each training step (the demo draws as it goes). */
  onStep?: (variant: string, step: number, loss: number, ms: number) => void;
}

export const SMALL: Omit<TrainingOptions, 'onStep'> = {
  widths: [256, 512, 512, 10],
  batch: 64,
  steps: 20,
  warmup: 3,
  optimizerSteps: 10,
  lr: 1e-3,
};

/**
 * A few million parameters: 784 -> 2048 -> 1024 -> 10 (3.7M). Fewer steps than SMALL: on a
 * software GPU one training step of it takes seconds.
 */
export const FULL: Omit<TrainingOptions, 'onStep'> = {
  ...SMALL,
  widths: [784, 2048, 1024, 10],
  batch: 64,
  steps: 8,
  warmup: 2,
  optimizerSteps: 5,
};

export interface VariantResult {
  name: string;
  /** Loss after each training step, warm-up included. */
  loss: number[];
  /** ms per timed training step. */
  trainMs: number[];
  /** ms per applyGradients alone (fixed gradients), submission to queue done. */
  optimizerMs: number[];
}

export interface TrainingResult {
  parameters: number;
  widths: number[];
  batch: number;
  variants: VariantResult[];
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function seeded(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let x = 2463534242 ^ (seed * 7919);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/** The MLP with deterministic (Glorot-scaled) weights: every variant starts from the same ones. */
function mlp(tf: Tf, widths: number[]): tfjs.Sequential {
  const model = tf.sequential();
  for (let i = 1; i < widths.length; i++) {
    const last = i === widths.length - 1;
    model.add(
      tf.layers.dense({
        units: widths[i]!,
        activation: last ? 'softmax' : 'relu',
        ...(i === 1 ? { inputShape: [widths[0]!] } : {}),
      }),
    );
  }
  model.setWeights(
    model.getWeights().map((w, k) => {
      const [fanIn, fanOut] = w.shape.length === 2 ? w.shape : [1, w.shape[0]!];
      const scale = w.shape.length === 2 ? Math.sqrt(6 / (fanIn! + fanOut!)) : 0;
      return tf.tensor(seeded(w.size, k + 1, scale), w.shape);
    }),
  );
  return model;
}

/** A fixed synthetic task: inputs, and labels of a random linear teacher (argmax). */
function batches(tf: Tf, widths: number[], batch: number, count: number) {
  const [d, c] = [widths[0]!, widths[widths.length - 1]!];
  return tf.tidy(() => {
    const teacher = tf.tensor(seeded(d * c, 99, 1), [d, c]);
    return Array.from({ length: count }, (_, k) => {
      const x = tf.tensor(seeded(batch * d, 1000 + k, 1), [batch, d]);
      const y = tf.oneHot(tf.argMax(tf.matMul(x, teacher), 1), c).asType('float32');
      return { x: tf.keep(x), y: tf.keep(y) };
    });
  });
}

async function sync(tf: Tf): Promise<void> {
  const backend = tf.backend() as unknown as {
    device: GPUDevice;
    commandEncoder?: unknown;
    endComputePassEncoder(): void;
    submitQueue(): void;
  };
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  await backend.device.queue.onSubmittedWorkDone();
}

/** Trains the same MLP with each optimizer; see the module comment. */
export async function runTfjsTraining(tf: Tf, o: TrainingOptions): Promise<TrainingResult> {
  const variants: Array<[string, () => tfjs.Optimizer]> = [
    ['tf.train.adam', () => tf.train.adam(o.lr, 0.9, 0.999, 1e-7)],
    ['webgpu-optim Adam', () => tfjsOptimizer(tf, Adam, { lr: o.lr, eps: 1e-7 })],
    ['webgpu-optim AdamW', () => tfjsOptimizer(tf, AdamW, { lr: o.lr, eps: 1e-7 })],
  ];
  const data = batches(tf, o.widths, o.batch, 8);
  // Every variant's model is built first and the steps run in turns (adam, ours, ours, adam...),
  // so load from elsewhere on the machine hits all of them alike.
  const runs = variants.map(([name, make]) => {
    const model = mlp(tf, o.widths);
    const optimizer = make();
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const r: VariantResult = { name, loss: [], trainMs: [], optimizerMs: [] };
    return { model, optimizer, r };
  });
  const parameters = runs[0]!.model.countParams();
  try {
    for (let s = 0; s < o.warmup + o.steps; s++) {
      const { x, y } = data[s % data.length]!;
      for (const { model, r } of s % 2 ? [...runs].reverse() : runs) {
        const t0 = performance.now();
        const loss = (await model.trainOnBatch(x, y)) as number;
        const ms = performance.now() - t0;
        r.loss.push(loss);
        if (s >= o.warmup) r.trainMs.push(ms);
        o.onStep?.(r.name, s, loss, ms);
      }
    }
    // The optimizer step alone, on fixed gradients of the first batch, again in turns.
    const { x, y } = data[0]!;
    const fixed = runs.map(({ model }) => {
      const vars = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.predict(x) as tfjs.Tensor) as tfjs.Scalar,
        vars,
      );
      value.dispose();
      return grads;
    });
    await sync(tf);
    for (let s = 0; s < o.optimizerSteps + 1; s++) {
      for (const [k, { optimizer, r }] of runs.entries()) {
        const t0 = performance.now();
        optimizer.applyGradients(fixed[k]!);
        await sync(tf);
        if (s > 0) r.optimizerMs.push(performance.now() - t0);
      }
    }
    for (const g of fixed) tf.dispose(g);
  } finally {
    for (const { model, optimizer } of runs) {
      optimizer.dispose();
      model.dispose();
    }
    for (const { x, y } of data) tf.dispose([x, y]);
  }
  const results = runs.map((x) => x.r);
  return { parameters, widths: o.widths, batch: o.batch, variants: results };
}
