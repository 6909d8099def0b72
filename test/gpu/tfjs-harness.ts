/**
 * In-page side of test/gpu/tfjs.test.ts: TF.js on its webgpu backend (SwiftShader here) next to
 * the adapter, the public API and the float64 references. Each scenario returns plain JSON.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as api from '../../src/index.ts';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import type { ReferenceState } from '../../src/reference/types.ts';
import { tfjsOptimizer, type TfjsOptimizer } from '../../src/tfjs/index.ts';
import { compareStep, randomFloats, RunningScale, type Mismatch } from './compare.ts';

declare global {
  interface Window {
    tfjsHarness: typeof tfjsHarness;
  }
}

type AnyClass = Parameters<typeof tfjsOptimizer>[1];
const cls = (name: string) => (api.optimizers as Record<string, unknown>)[name] as AnyClass;

const SHAPES = [[64, 33], [33], [5000], [3]];
let unique = 0;

/** Variables of SHAPES with seeded values (a fresh name each time). */
function variables(seed: number, shapes = SHAPES): tf.Variable[] {
  return shapes.map((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(randomFloats(n, seed + i), s), true, `v${unique++}`);
  });
}

function grads(vars: tf.Variable[], step: number, scale = 1): tf.Tensor[] {
  return vars.map((v, i) => tf.tensor(randomFloats(v.size, 1000 * step + i + 7, scale), v.shape));
}

/** max |a - b| / max |b| over all variables. */
async function relativeError(a: tf.Variable[], b: tf.Variable[]): Promise<number> {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [await a[i]!.data(), await b[i]!.data()];
    for (let k = 0; k < x.length; k++) {
      err = Math.max(err, Math.abs(x[k]! - y[k]!));
      scale = Math.max(scale, Math.abs(y[k]!));
    }
  }
  return err / scale;
}

/** tf.train.* and the adapter with matching options. */
const PAIRS: Record<string, { ours: [string, object]; theirs: () => tf.Optimizer }> = {
  adam: {
    ours: ['Adam', { lr: 0.01, betas: [0.9, 0.999], eps: 1e-7 }],
    theirs: () => tf.train.adam(0.01, 0.9, 0.999, 1e-7),
  },
  sgd: { ours: ['SGD', { lr: 0.1 }], theirs: () => tf.train.sgd(0.1) },
  momentum: {
    ours: ['SGD', { lr: 0.05, momentum: 0.9 }],
    theirs: () => tf.train.momentum(0.05, 0.9),
  },
  nesterov: {
    ours: ['SGD', { lr: 0.05, momentum: 0.9, nesterov: true }],
    theirs: () => tf.train.momentum(0.05, 0.9, true),
  },
  // TF.js adds eps inside the square root, torch outside: a tiny eps makes them agree.
  rmsprop: {
    ours: ['RMSprop', { lr: 0.01, alpha: 0.9, eps: 1e-12 }],
    theirs: () => tf.train.rmsprop(0.01, 0.9, 0, 1e-12),
  },
  rmspropCentered: {
    ours: ['RMSprop', { lr: 0.01, alpha: 0.9, eps: 1e-12, momentum: 0.5, centered: true }],
    theirs: () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-12, true),
  },
};

/** Same variables and gradients through tf.train.<which> and the adapter: worst relative error. */
async function versusTfTrain(which: string, steps: number, useMinimize = false) {
  await ready;
  const pair = PAIRS[which]!;
  const ours = tfjsOptimizer(tf, cls(pair.ours[0]), pair.ours[1]);
  const theirs = pair.theirs();
  const [a, b] = [variables(1), variables(1)];
  const errors: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const g = grads(a, t);
    if (useMinimize) {
      // loss = sum(v * g) + 0.5 sum(v^2): gradient g + v, through TF.js's autodiff.
      const loss = (vs: tf.Variable[]) => () =>
        tf.addN(
          vs.map((v, i) => tf.sum(tf.add(tf.mul(v, g[i]!), tf.mul(0.5, tf.square(v))))),
        ) as tf.Scalar;
      ours.minimize(loss(a), false, a);
      theirs.minimize(loss(b), false, b);
    } else {
      ours.applyGradients(Object.fromEntries(a.map((v, i) => [v.name, g[i]!])));
      theirs.applyGradients(Object.fromEntries(b.map((v, i) => [v.name, g[i]!])));
    }
    tf.dispose(g);
    errors.push(await relativeError(a, b));
  }
  const stats = ours.stats();
  ours.dispose();
  theirs.dispose();
  tf.dispose([...a, ...b]);
  return { errors, stats, iterations: steps };
}

/** Every registry optimizer through applyGradients against its float64 reference. */
async function allOptimizers(steps = 4) {
  await ready;
  const out: Record<string, Mismatch[]> = {};
  for (const name of Object.keys(optimizerSpecs) as OptimizerName[]) {
    const spec = optimizerSpecs[name];
    for (const [k, testOptions] of spec.testOptions.entries()) {
      const options = { ...spec.defaults, ...testOptions } as Record<string, unknown>;
      const opt = tfjsOptimizer(tf, cls(name), testOptions as object);
      const vars = variables(11, [[17, 5], [300], [1]]);
      const reference = spec.reference as unknown as {
        init(n: number, o: unknown): ReferenceState;
        step(p: Float64Array, g: Float64Array, s: ReferenceState, o: unknown): void;
      };
      const refs = await Promise.all(vars.map(async (v) => Float64Array.from(await v.data())));
      const states = vars.map((v) => reference.init(v.size, options));
      const mismatches: Mismatch[] = [];
      const scales = new RunningScale();
      for (let t = 1; t <= steps; t++) {
        const g = grads(vars, t);
        const host = await Promise.all(g.map((x) => x.data()));
        vars.forEach((_, i) =>
          reference.step(refs[i]!, Float64Array.from(host[i]!), states[i]!, options),
        );
        opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: g[i]! })));
        tf.dispose(g);
        for (const [i, v] of vars.entries()) {
          const ref = refs[i]!;
          const factor = spec.accuracyFactor ?? 4;
          const m = compareStep(v.name, t, await v.data(), ref, factor, scales.update(v.name, ref));
          if (m) mismatches.push(m);
        }
      }
      out[`${name}#${k}`] = mismatches;
      opt.dispose();
      tf.dispose(vars);
    }
  }
  return out;
}

/** A small MLP trained by model.fit with our AdamW; the float64 AdamW on the captured gradients. */
async function fitAdamW(epochs: number, batchSize: number) {
  await ready;
  const before = tf.memory().numTensors;
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, activation: 'relu', inputShape: [8] }),
      tf.layers.dense({ units: 16, activation: 'tanh' }),
      tf.layers.dense({ units: 4 }),
    ],
  });
  const xs = tf.tensor(randomFloats(64 * 8, 3), [64, 8]);
  const ys = tf.tensor(randomFloats(64 * 4, 4), [64, 4]);
  const options = {
    lr: 0.01,
    betas: [0.9, 0.999] as [number, number],
    eps: 1e-8,
    weightDecay: 0.01,
    amsgrad: false,
    maximize: false,
  };
  const opt = tfjsOptimizer(tf, api.AdamW, options);
  // The gradients model.fit hands the optimizer, kept (clones share the data) for the reference.
  const captured: tf.NamedTensorMap[] = [];
  const apply = opt.applyGradients.bind(opt);
  opt.applyGradients = (g) => {
    const list = Array.isArray(g) ? g.map((x) => [x.name, x.tensor] as const) : Object.entries(g);
    captured.push(Object.fromEntries(list.map(([k, v]) => [k, tf.keep(v.clone())])));
    apply(g);
  };
  const weights = model.trainableWeights.map((w) => {
    const variable = w.read() as tf.Variable;
    return { name: variable.name, variable };
  });
  const initial = await Promise.all(
    weights.map(async (w) => Float64Array.from(await w.variable.data())),
  );
  model.compile({ optimizer: opt, loss: 'meanSquaredError' });
  const history = await model.fit(xs, ys, { epochs, batchSize, shuffle: false, verbose: 0 });
  const reference = api.reference.adamwReference;
  const states = initial.map((p) => reference.init(p.length, options));
  const mismatches: Mismatch[] = [];
  for (const step of captured) {
    for (const [i, w] of weights.entries()) {
      const g = Float64Array.from(await step[w.name]!.data());
      reference.step(initial[i]!, g, states[i]!, options);
    }
  }
  for (const [i, w] of weights.entries()) {
    const m = compareStep(w.name, captured.length, await w.variable.data(), initial[i]!, 8);
    if (m) mismatches.push({ ...m, step: captured.length });
  }
  const stats = opt.stats();
  const iterations = opt.iterations;
  const weightNames = (await opt.getWeights()).map((w) => {
    w.tensor.dispose();
    return w.name;
  });
  captured.forEach((c) => tf.dispose(Object.values(c)));
  opt.dispose();
  model.dispose();
  tf.dispose([xs, ys]);
  return {
    loss: history.history.loss as number[],
    steps: captured.length,
    iterations,
    mismatches,
    stats,
    weightNames,
    leakedTensors: tf.memory().numTensors - before,
  };
}

await Promise.resolve();
const ready = (async () => {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
  await tf.ready();
})();

const tfjsHarness = {
  tf,
  api,
  tfjsOptimizer,
  ready,
  versusTfTrain,
  allOptimizers,
  fitAdamW,
  variables,
  grads,
  relativeError,
};
export type { TfjsOptimizer };
window.tfjsHarness = tfjsHarness;
