/**
 * In-page side of the benchmark's low-precision state section (stateDtype): ms per step and
 * state bytes per parameter of each dtype at one size, timed in turns; and convergence side by
 * side, Adam and AdamW per dtype on a seeded least-squares problem and on the demo MLP
 * (demo/train), final losses against float32's. Called as `window.bench.*` by bench/run.ts.
 */
import type { Engine } from '../src/engine.ts';
import { optimizers } from '../src/optimizers/registry.ts';
import type { Parameter } from '../src/parameter.ts';
import { makeDataset } from '../demo/train/datasets.ts';
import { TrainingSession } from '../demo/train/mlp-trainer.ts';
import { optimizerColor } from '../demo/shared/optimizer-choices.ts';
import { seededRandom } from '../src/reference/random.ts';
import { measure, type Timing } from './gpu.ts';

export const STATE_DTYPES = ['float32', 'bfloat16', 'float16', '8bit'] as const;
type Dtype = (typeof STATE_DTYPES)[number];
type Opt = { step(): void; dispose(): void; stateBytes(): number };
const make = (name: string, params: Parameter[], options: object) =>
  new (optimizers as unknown as Record<string, new (p: Parameter[], o: object) => Opt>)[name]!(
    params,
    options,
  );

/** One tensor of n, one optimizer per dtype over it, timed in turns (load falls on all alike). */
export async function runStateDtypeSteps(
  engine: Engine,
  name: string,
  n: number,
  warmup: number,
  reps: number,
): Promise<{ rows: Array<{ dtype: Dtype; timing: Timing; stateBytes: number }> }> {
  const p = engine.parameter(n);
  const random = seededRandom(2);
  p.grad.write(Float32Array.from({ length: n }, () => random() * 2 - 1));
  const opts = STATE_DTYPES.map((stateDtype) => make(name, [p], { lr: 1e-3, stateDtype }));
  try {
    const done = () => engine.queue.onSubmittedWorkDone();
    const timings = await measure(
      engine.device,
      opts.map((o) => ({ step: () => o.step(), done })),
      warmup,
      reps,
    );
    await engine.sync();
    return {
      rows: STATE_DTYPES.map((dtype, k) => ({
        dtype,
        timing: timings[k]!,
        stateBytes: opts[k]!.stateBytes(),
      })),
    };
  } finally {
    for (const o of opts) o.dispose();
    p.dispose();
  }
}

export interface Curve {
  problem: string;
  optimizer: string;
  dtype: Dtype;
  loss: number[];
  final: number;
}

/**
 * Least squares min_W 1/2 mean((X W - Y)^2), X 256x128 and W* 128x128 seeded, Y = X W* + noise:
 * one 16384-element tensor (above min8bitSize), gradient X^T (X W - Y) / rows on the host.
 */
async function leastSquares(engine: Engine, name: string, dtype: Dtype, steps: number) {
  const rows = 256;
  const k = 128;
  const random = seededRandom(11);
  const r = () => random() * 2 - 1;
  const X = Float64Array.from({ length: rows * k }, r);
  const W0 = Float64Array.from({ length: k * k }, r);
  const Y = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += X[i * k + l]! * W0[l * k + j]!;
      Y[i * k + j] = s + 0.01 * r();
    }
  const w = engine.parameter(new Float32Array(k * k));
  const opt = make(name, [w], { lr: 0.01, stateDtype: dtype });
  const loss: number[] = [];
  const R = new Float64Array(rows * k);
  const G = new Float32Array(k * k);
  try {
    for (let t = 0; t < steps; t++) {
      const W = await w.read();
      let sum = 0;
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < k; j++) {
          let s = -Y[i * k + j]!;
          for (let l = 0; l < k; l++) s += X[i * k + l]! * W[l * k + j]!;
          R[i * k + j] = s;
          sum += s * s;
        }
      loss.push(sum / (2 * rows * k));
      G.fill(0);
      for (let i = 0; i < rows; i++)
        for (let l = 0; l < k; l++) {
          const x = X[i * k + l]! / rows;
          for (let j = 0; j < k; j++) G[l * k + j]! += x * R[i * k + j]!;
        }
      w.grad.write(G);
      opt.step();
    }
  } finally {
    opt.dispose();
    w.dispose();
  }
  return loss;
}

/**
 * The demo's MLP (spiral, hidden 64), all 8 runs in one session (same data, batches, weights),
 * over `seeds` datasets and initialisations: the loss curves are the mean over the seeds (one
 * run's mini-batch losses are noisy, and its trajectory chaotic).
 */
async function demoMlp(engine: Engine, steps: number, seeds = 8) {
  const runs = (['Adam', 'AdamW'] as const).flatMap((name) =>
    STATE_DTYPES.map((dtype) => ({ name, dtype })),
  );
  const sums = runs.map(() => new Array<number>(steps).fill(0));
  for (let seed = 0; seed < seeds; seed++) {
    const session = new TrainingSession(
      engine,
      makeDataset('spiral', 512, 1 + seed),
      runs.map(({ name, dtype }) => ({
        label: `${name} ${dtype}`,
        name,
        // min8bitSize 0: every tensor of this small model is 8-bit under '8bit' (w2 is 4096).
        options: { lr: 0.02, stateDtype: dtype, min8bitSize: 0 },
        color: optimizerColor(name),
        enabled: true,
      })),
      { hidden: 64, batchSize: 32, steps, scheduler: 'none', seed: 3 + seed },
    );
    try {
      session.step(steps);
      const curves = await session.curves();
      curves.forEach((c, i) => c.loss.forEach((v, t) => (sums[i]![t]! += v / seeds)));
    } finally {
      session.dispose();
    }
  }
  return runs.map((r, i) => ({ ...r, loss: sums[i]! }));
}

/** The final loss: the mean over the last 10% of the steps (mini-batch losses are noisy). */
const tail = (xs: number[]) => {
  const last = xs.slice(-Math.max(1, Math.round(xs.length / 10)));
  return last.reduce((a, b) => a + b, 0) / last.length;
};

export async function runConvergence(engine: Engine, steps: number): Promise<{ curves: Curve[] }> {
  const curves: Curve[] = [];
  for (const name of ['Adam', 'AdamW'])
    for (const dtype of STATE_DTYPES) {
      const loss = await leastSquares(engine, name, dtype, steps);
      curves.push({ problem: 'least squares', optimizer: name, dtype, loss, final: tail(loss) });
    }
  for (const r of await demoMlp(engine, steps))
    curves.push({
      problem: 'demo MLP',
      optimizer: r.name,
      dtype: r.dtype,
      loss: r.loss,
      final: tail(r.loss),
    });
  return { curves };
}
