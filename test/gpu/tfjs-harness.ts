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
      theirs.applyGradients(b.map((v, i) => ({ name: v.name, tensor: g[i]! })));
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
      // Matrices, a vector and a scalar; a rule for matrices only gets matrices only.
      const shapes =
        'checkShape' in spec
          ? [
              [17, 5],
              [3, 100],
              [1, 1],
            ]
          : [[17, 5], [300], [1]];
      const vars = variables(11, shapes);
      const reference = spec.reference as unknown as {
        init(n: number, o: unknown, shape: number[]): ReferenceState;
        step(
          p: Float64Array,
          g: Float64Array,
          s: ReferenceState,
          o: unknown,
          shape: number[],
        ): void;
      };
      const refs = await Promise.all(vars.map(async (v) => Float64Array.from(await v.data())));
      const states = vars.map((v) => reference.init(v.size, options, v.shape));
      const mismatches: Mismatch[] = [];
      const scales = new RunningScale();
      for (let t = 1; t <= steps; t++) {
        const g = grads(vars, t);
        const host = await Promise.all(g.map((x) => x.data()));
        vars.forEach((_, i) =>
          reference.step(
            refs[i]!,
            Float64Array.from(host[i]!),
            states[i]!,
            options,
            vars[i]!.shape,
          ),
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

/** `.data()`/`.dataSync()` after steps see the new values, even when TF.js had cached old ones. */
async function dataAfterSteps() {
  await ready;
  const v = tf.variable(tf.tensor([1, 2, 3, 4]), true, `v${unique++}`); // small: lives on the CPU first
  const g = tf.tensor([1, 1, 2, 2]);
  const opt = tfjsOptimizer(tf, api.SGD, { lr: 0.5 });
  const seen: number[][] = [Array.from(await v.data())]; // caches the values on the CPU
  opt.applyGradients({ [v.name]: g });
  seen.push(Array.from(await v.data()));
  seen.push(Array.from(v.dataSync()));
  opt.applyGradients([{ name: v.name, tensor: g }]);
  seen.push(Array.from(await v.data()));
  // TF.js ops read the stepped buffer too.
  seen.push(Array.from(await tf.mul(v, 2).data()));
  opt.dispose();
  tf.dispose([v, g]);
  return seen;
}

/** Counts the engine's (labelled) buffers alive on TF.js's device while `f` runs. */
async function countingBuffers<T>(f: () => Promise<T>): Promise<{ result: T; alive: number }> {
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const create = device.createBuffer;
  const alive = new Set<GPUBuffer>();
  device.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    const b = create.call(this, d);
    if (d.label) {
      alive.add(b);
      const destroy = b.destroy.bind(b);
      b.destroy = () => {
        alive.delete(b);
        destroy();
      };
    }
    return b;
  };
  try {
    return { result: await f(), alive: alive.size };
  } finally {
    device.createBuffer = create;
  }
}

/** Many steps leak no tensor and no GPU memory; dispose() frees every engine buffer. */
async function leaks(steps: number) {
  await ready;
  const { result, alive } = await countingBuffers(async () => {
    const vars = variables(5);
    const opt = tfjsOptimizer(tf, api.AdamW, { lr: 1e-3, clipGradNorm: 1 });
    const step = () => {
      const g = grads(vars, 1);
      opt.minimize(
        () => tf.addN(vars.map((v, i) => tf.sum(tf.mul(v, g[i]!)))) as tf.Scalar,
        false,
        vars,
      );
      tf.dispose(g);
    };
    step();
    await opt.getWeights().then((w) => tf.dispose(w.map((x) => x.tensor)));
    const m1 = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    for (let i = 0; i < steps; i++) step();
    await (tf.backend() as unknown as { device: GPUDevice }).device.queue.onSubmittedWorkDone();
    const m2 = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    opt.dispose();
    tf.dispose(vars);
    return {
      tensors: m2.numTensors - m1.numTensors,
      bytesInGPU: m2.numBytesInGPU - m1.numBytesInGPU,
      iterations: opt.iterations,
    };
  });
  return { ...result, engineBuffersAlive: alive };
}

/** A model of `count` variables stepped with minimize, against tf.train.adam. */
async function manyVariables(count: number, steps: number) {
  await ready;
  const shapes = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? [7, 3] : [1 + (i % 50)]));
  const [a, b] = [variables(2, shapes), variables(2, shapes)];
  const ours = tfjsOptimizer(tf, api.Adam, { lr: 0.01, eps: 1e-7 });
  const theirs = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  // Summed pairwise: TF.js's addN of 300 tensors binds 300 buffers and fails (limit 8).
  const loss = (vs: tf.Variable[]) => () =>
    vs
      .map((v, i) => tf.sum(tf.mul(tf.square(v), 1 + (i % 5))))
      .reduce((a, b) => tf.add(a, b)) as tf.Scalar;
  const errors: number[] = [];
  const ms = { ours: 0, theirs: 0 };
  for (let t = 0; t < steps; t++) {
    let t0 = performance.now();
    ours.minimize(loss(a), false, a);
    await a[0]!.data();
    ms.ours += performance.now() - t0;
    t0 = performance.now();
    theirs.minimize(loss(b), false, b);
    await b[0]!.data();
    ms.theirs += performance.now() - t0;
    errors.push(await relativeError(a, b));
  }
  const stats = ours.stats();
  ours.dispose();
  theirs.dispose();
  tf.dispose([...a, ...b]);
  return { errors, stats, ms };
}

/** variable.assign / model.setWeights give a variable a new buffer: the adapter follows it. */
async function reassigned() {
  await ready;
  const [a, b] = [variables(3), variables(3)];
  const ours = tfjsOptimizer(tf, api.Adam, { lr: 0.01, eps: 1e-7 });
  const theirs = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  const errors: number[] = [];
  for (let t = 1; t <= 4; t++) {
    if (t === 3) {
      for (const vs of [a, b]) vs[0]!.assign(tf.tidy(() => tf.mul(vs[0]!, -1)));
    }
    const g = grads(a, t);
    ours.applyGradients(Object.fromEntries(a.map((v, i) => [v.name, g[i]!])));
    theirs.applyGradients(b.map((v, i) => ({ name: v.name, tensor: g[i]! })));
    tf.dispose(g);
    errors.push(await relativeError(a, b));
  }
  // A layers model: setWeights between fits.
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2] })] });
  const opt = tfjsOptimizer(tf, api.SGD, { lr: 0.1 });
  model.compile({ optimizer: opt, loss: 'meanSquaredError' });
  const xs = tf.ones([4, 2]);
  const ys = tf.zeros([4, 3]);
  await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
  model.setWeights([tf.fill([2, 3], 1), tf.fill([3], 0)]);
  await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
  // One SGD step from kernel 1, bias 0 on x = 1: output 2, dL/dW = 2*2/3 per element.
  const kernel = Array.from(await model.getWeights()[0]!.data());
  const stats = { ours: ours.stats(), model: opt.stats() };
  ours.dispose();
  theirs.dispose();
  opt.dispose();
  model.dispose();
  tf.dispose([...a, ...b, xs, ys]);
  return { errors, stats, kernel };
}

/** tf.variable(x) shares x's data: stepping the variable must leave x as it was. */
async function sharedData() {
  await ready;
  const x = tf.tensor(randomFloats(2000, 9));
  const before = Array.from(await x.data());
  const v = tf.variable(x, true, `v${unique++}`);
  const opt = tfjsOptimizer(tf, api.SGD, { lr: 0.1 });
  opt.applyGradients({ [v.name]: tf.onesLike(v) });
  const after = Array.from(await x.data());
  const stepped = Array.from(await v.data());
  const stats = opt.stats();
  opt.dispose();
  tf.dispose([x, v]);
  return {
    xUnchanged: before.every((b, i) => b === after[i]),
    stepped: stepped.every((s, i) => Math.abs(s - (before[i]! - 0.1)) < 1e-6),
    stats,
  };
}

/** getWeights in TF.js's names; setWeights into a fresh adapter, then one more step is identical. */
async function weightsRoundTrip() {
  await ready;
  const vars = variables(4, [[10, 3], [3]]);
  const theirs = tf.train.adam(0.01);
  const ours = tfjsOptimizer(tf, api.Adam, { lr: 0.01 });
  const g = grads(vars, 1);
  const named = Object.fromEntries(vars.map((v, i) => [v.name, g[i]!]));
  for (let t = 0; t < 3; t++) ours.applyGradients(named);
  const saved = await ours.getWeights();
  const values = await Promise.all(vars.map((v) => v.data().then((d) => Float32Array.from(d))));
  ours.applyGradients(named);
  const next = await Promise.all(vars.map((v) => v.data().then((d) => Array.from(d))));
  vars.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape)));
  const fresh = tfjsOptimizer(tf, api.Adam, { lr: 0.01 });
  await fresh.setWeights(saved);
  fresh.applyGradients(named);
  const again = await Promise.all(vars.map((v) => v.data().then((d) => Array.from(d))));
  // tf.train.adam's own names for the same variables.
  const b = variables(4, [[10, 3], [3]]);
  theirs.applyGradients(b.map((v, i) => ({ name: v.name, tensor: g[i]! })));
  const theirNames = (await theirs.getWeights()).map((w) => w.name.replace(/^v\d+/, 'V'));
  const ourNames = saved.map((w) => w.name.replace(/^v\d+/, 'V'));
  const r = {
    identical: next.every((row, i) => row.every((x, k) => x === again[i]![k])),
    iterations: fresh.iterations,
    ourNames,
    theirNames,
  };
  tf.dispose([...saved.map((w) => w.tensor), ...vars, ...b, ...g]);
  ours.dispose();
  fresh.dispose();
  theirs.dispose();
  return r;
}

/** getConfig/fromConfig through tf.serialization, className, validation at construction. */
function serialization() {
  const opt = tfjsOptimizer(tf, api.AdamW, { lr: 3e-4, weightDecay: 0.1, clipGradNorm: 2 });
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const entry = map['WebGPUAdamW']!;
  const back = entry[1](entry[0], opt.getConfig()) as TfjsOptimizer;
  const errors: string[] = [];
  for (const bad of [{ lr: -1 }, { learningRate: 1 }, { betas: [1, 0.9] }, { clipGradNorm: 0 }])
    try {
      tfjsOptimizer(tf, api.Adam, bad as object);
    } catch (e) {
      errors.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
  return {
    className: opt.getClassName(),
    config: opt.getConfig(),
    roundTrip: back.getConfig(),
    isOptimizer: opt instanceof tf.Optimizer,
    kind: back.kind,
    errors,
  };
}

/** A scheduler stepped after every step, and clipGradNorm before it. */
async function schedulerAndClip() {
  await ready;
  const v = tf.variable(tf.zeros([4]), true, `v${unique++}`);
  const opt = tfjsOptimizer(tf, api.SGD, {
    lr: 1,
    clipGradNorm: 1,
    scheduler: (o) => new api.StepLR(o, { stepSize: 2, gamma: 0.5 }),
  });
  const g = tf.tensor([3, 4, 0, 0]); // norm 5: clipped to norm 1
  const lrs: number[] = [];
  for (let t = 0; t < 4; t++) {
    opt.applyGradients({ [v.name]: g });
    lrs.push(opt.lr);
  }
  const values = Array.from(await v.data());
  opt.dispose();
  tf.dispose([v, g]);
  return { lrs, values };
}

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
  dataAfterSteps,
  leaks,
  manyVariables,
  reassigned,
  sharedData,
  weightsRoundTrip,
  serialization,
  schedulerAndClip,
  variables,
  grads,
  relativeError,
};
export type { TfjsOptimizer };
window.tfjsHarness = tfjsHarness;
