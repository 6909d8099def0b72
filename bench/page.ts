/**
 * In-page side of `npm run bench`: each function times one thing and returns plain JSON for the
 * CLI (bench/run.ts), which calls them through puppeteer as `window.bench.*`. Every function
 * frees what it allocated and reports a failure (memory, limits, no device) as `{ error }`.
 */
import { createEngine, type Engine } from '../src/engine.ts';
import type { Parameter } from '../src/parameter.ts';
import { optimizers, optimizerSpecs } from '../src/optimizers/registry.ts';
import { references } from '../src/reference/index.ts';
import type { ReferenceOptimizer } from '../src/reference/types.ts';
import { benchOptions, modelSizes, sizeLimits, tfjsEquivalent } from './config.ts';
import { benchShape } from './shape.ts';
import { Gemm, newtonSchulzFlops } from './gemm.ts';
import { measure, median, Stream } from './gpu.ts';
import { FULL, SMALL, runTfjsTraining } from './tfjs-training.ts';
import { runConvergence, runStateDtypeSteps } from './state-dtype.ts';

type Name = keyof typeof optimizerSpecs;
type AnyOptimizer = { step(): void; dispose(): void };
type Failure = { error: string };

const featureLevel = new URLSearchParams(location.search).get('featureLevel') as
  'compatibility' | null;
let enginePromise: Promise<Engine> | undefined;
const engine = () => (enginePromise ??= createEngine(featureLevel ? { featureLevel } : {}));

const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Deterministic values in [-1, 1): a base block tiled with a shift, fast even at 64M. */
function random(n: number, seed: number): Float32Array {
  const base = new Float32Array((1 << 16) + 17 * seed);
  let x = 2463534242 + seed * 7919;
  for (let i = 0; i < base.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    base[i] = (x >>> 0) / 2 ** 31 - 1;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += base.length)
    out.set(base.subarray(0, Math.min(base.length, n - i)), i);
  return out;
}

/** The options an optimizer is timed with: its defaults plus bench overrides (required lr = 1e-3). */
function resolvedOptions(name: string): Record<string, any> {
  const spec = optimizerSpecs[name as Name] as { defaults: object };
  const o: Record<string, any> = { ...spec.defaults, ...benchOptions[name] };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isNaN(v)) o[k] = 1e-3;
  return o;
}

async function init() {
  const e = await engine();
  const device = e.device;
  // The finest step performance.now() shows (5 us when cross-origin isolated, else ~100 us).
  let resolution = Infinity;
  for (let i = 0, last = performance.now(); i < 2000; i++) {
    const now = performance.now();
    if (now > last) resolution = Math.min(resolution, now - last);
    last = now;
  }
  return {
    adapter: e.adapterDescription,
    featureLevel: featureLevel ?? 'core',
    features: [...device.features].sort(),
    limits: { ...e.limits, pageElements: e.pageElements },
    optimizers: Object.keys(optimizerSpecs),
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    timerResolutionMs: resolution,
  };
}

function makeOptimizer(name: string, params: Parameter[]): AnyOptimizer {
  const Optimizer = optimizers[name as Name] as unknown as new (
    p: Parameter[],
    o: object,
  ) => AnyOptimizer;
  return new Optimizer(params, resolvedOptions(name));
}

/**
 * One tensor of n: our optimizer and the stream kernel moving the same bytes, timed in turns.
 * When the stream kernel cannot be set up (memory), ours is timed alone.
 */
async function runOptimizer(name: string, n: number, warmup: number, reps: number) {
  const spec = optimizerSpecs[name as Name] as { states(o: object): Record<string, number> };
  const options = resolvedOptions(name);
  const states = Object.keys(spec.states(options)).length;
  let p: Parameter | undefined;
  let opt: AnyOptimizer | undefined;
  let stream: Stream | undefined;
  try {
    const e = await engine();
    p = e.parameter(random(n, 1), { shape: benchShape(name, n) });
    p.grad.write(random(n, 2));
    const o = (opt = makeOptimizer(name, [p]));
    const done = () => e.queue.onSubmittedWorkDone();
    let streamError: string | undefined;
    try {
      stream = new Stream(e, n, states);
      await e.sync();
    } catch (err) {
      stream?.destroy();
      stream = undefined;
      streamError = message(err);
    }
    const s = stream;
    const subjects = [{ step: () => o.step(), done }];
    if (s) subjects.push({ step: () => s.step(), done });
    const [timing, streamTiming] = await measure(e.device, subjects, warmup, reps);
    await e.sync();
    return {
      timing: timing!,
      options,
      states,
      stream: streamTiming ? { timing: streamTiming } : { error: streamError ?? 'not run' },
    };
  } catch (err) {
    return { error: message(err), options };
  } finally {
    opt?.dispose();
    stream?.destroy();
    p?.dispose();
  }
}

// TF.js, loaded on first use so that a failure there leaves the rest of the page working.
type Tf = typeof import('@tensorflow/tfjs');
let tfPromise: Promise<{ tf: Tf; backend: any } | Failure> | undefined;
function tfjs() {
  return (tfPromise ??= (async () => {
    try {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) {
        return { error: 'tf.setBackend("webgpu") returned false (no WebGPU device for TF.js)' };
      }
      await tf.ready();
      const backend = tf.backend() as any;
      if (!backend?.device) return { error: `TF.js backend is ${tf.getBackend()}, not webgpu` };
      return { tf, backend };
    } catch (err) {
      return { error: `TF.js WebGPU backend failed to start: ${message(err)}` };
    }
  })());
}

async function runTfjs(name: string, n: number, warmup: number, reps: number) {
  const eq = tfjsEquivalent(name, resolvedOptions(name));
  if ('none' in eq) return { na: eq.none };
  const loaded = await tfjs();
  if ('error' in loaded) return loaded;
  const { tf, backend } = loaded;
  const device: GPUDevice = backend.device;
  let v: import('@tensorflow/tfjs').Variable | undefined;
  let g: import('@tensorflow/tfjs').Tensor | undefined;
  let opt: import('@tensorflow/tfjs').Optimizer | undefined;
  try {
    v = tf.variable(tf.tensor1d(random(n, 1)), true, `bench_${name}_${n}`);
    g = tf.tensor1d(random(n, 2));
    opt = (tf.train as any)[eq.call](...eq.args) as import('@tensorflow/tfjs').Optimizer;
    const [o, variable, grad] = [opt, v, g];
    // TF.js batches dispatches in its own command encoder: submit it, then wait for the queue.
    const flush = () => {
      if (backend.commandEncoder) {
        backend.endComputePassEncoder();
        backend.submitQueue();
      }
    };
    const [timing] = await measure(
      device,
      [
        {
          step: () => {
            o.applyGradients({ [variable.name]: grad });
            flush();
          },
          done: () => device.queue.onSubmittedWorkDone(),
        },
      ],
      warmup,
      reps,
    );
    return {
      timing: timing!,
      warmup,
      call: `tf.train.${eq.call}(${eq.args.join(', ')})`,
      note: eq.note,
    };
  } catch (err) {
    return { error: message(err) };
  } finally {
    opt?.dispose();
    v?.dispose();
    g?.dispose();
    // TF.js pools freed buffers; free them so the next size has the memory.
    try {
      for (const list of backend.bufferManager.freeBuffers.values()) {
        for (const b of list) b.destroy();
        list.length = 0;
      }
      backend.bufferManager.numFreeBuffers = 0;
    } catch {
      /* pool layout changed: keep the buffers */
    }
  }
}

/** The float64 CPU reference, one tensor of n: ms per step after `warmup` steps (JIT, first touch). */
async function runReference(name: string, n: number, warmup: number, reps: number) {
  const ref = (references as Record<string, ReferenceOptimizer<object>>)[name];
  if (!ref) return { na: `no CPU reference for ${name}` };
  try {
    const o = resolvedOptions(name);
    const p = new Float64Array(n);
    p.set(random(n, 1));
    const g = new Float64Array(n);
    g.set(random(n, 2));
    const limit = sizeLimits[name];
    if (limit && n > limit.cpuMax) return { na: `not run above ${limit.cpuMax}: ${limit.why}` };
    const shape = benchShape(name, n);
    const state = ref.init(n, o, shape);
    for (let i = 0; i < warmup; i++) ref.step(p, g, state, o, shape);
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      ref.step(p, g, state, o, shape);
      ms.push(performance.now() - t0);
    }
    return { ms };
  } catch (err) {
    return { error: message(err) };
  }
}

/** `count` tensors of a model mix totalling `total` against one flat tensor of `total`, in turns. */
async function runModel(name: string, count: number, total: number, warmup: number, reps: number) {
  const sizes = modelSizes(count, total);
  const params: Parameter[] = [];
  const opts: AnyOptimizer[] = [];
  try {
    const e = await engine();
    const values = random(total, 1);
    const grads = random(total, 2);
    let offset = 0;
    for (const n of sizes) {
      const p = e.parameter(values.subarray(offset, offset + n), { shape: benchShape(name, n) });
      p.grad.write(grads.subarray(offset, offset + n));
      params.push(p);
      offset += n;
    }
    const flat = e.parameter(values, { shape: benchShape(name, total) });
    flat.grad.write(grads);
    opts.push(makeOptimizer(name, params));
    params.push(flat);
    opts.push(makeOptimizer(name, [flat]));
    const done = () => e.queue.onSubmittedWorkDone();
    const [many, single] = await measure(
      e.device,
      opts.map((o) => ({ step: () => o.step(), done })),
      warmup,
      reps,
    );
    await e.sync();
    const sorted = [...sizes].sort((a, b) => a - b);
    return {
      many: many!,
      flat: single!,
      model: {
        tensors: sizes.length,
        total,
        small: sizes.filter((n) => n <= 4096).length,
        smallest: sorted[0]!,
        medianSize: median(sorted),
        largest: sorted[sorted.length - 1]!,
      },
    };
  } catch (err) {
    return { error: message(err) };
  } finally {
    for (const o of opts) o.dispose();
    for (const p of params) p.dispose();
  }
}

/** TF.js training, tf.train.adam vs our Adam/AdamW adapters (bench/tfjs-training.ts). */
async function runTraining(full: boolean) {
  const loaded = await tfjs();
  if ('error' in loaded) return loaded;
  try {
    return await runTfjsTraining(loaded.tf, full ? FULL : SMALL);
  } catch (err) {
    return { error: message(err) };
  }
}

/**
 * Muon on one [n, n] matrix next to the GEMMs it is made of: our tiled kernel and a plain one
 * (one invocation per output) computing one n x n x n product, timed in turns.
 */
async function runMuonGemm(n: number, warmup: number, reps: number) {
  let gemm: Gemm | undefined;
  let W: Parameter | undefined;
  let opt: AnyOptimizer | undefined;
  try {
    const e = await engine();
    gemm = new Gemm(e, n);
    W = e.parameter(random(n * n, 1), { shape: [n, n] });
    W.grad.write(random(n * n, 2));
    const options = resolvedOptions('Muon');
    const o = (opt = makeOptimizer('Muon', [W]));
    const g = gemm;
    const done = () => e.queue.onSubmittedWorkDone();
    const [muon, tiled, plain] = await measure(
      e.device,
      [
        { step: () => o.step(), done },
        { step: () => g.step('tiled'), done },
        { step: () => g.step('plain'), done },
      ],
      warmup,
      reps,
    );
    return {
      n,
      muon: muon!,
      tiled: tiled!,
      plain: plain!,
      gemmFlops: g.flops,
      nsFlops: newtonSchulzFlops(n, n, options.nsSteps as number),
    };
  } catch (err) {
    return { error: message(err) };
  } finally {
    opt?.dispose();
    W?.dispose();
    gemm?.destroy();
  }
}

/** ms/step and state bytes per stateDtype, one tensor of n (bench/state-dtype.ts). */
async function runStateDtype(name: string, n: number, warmup: number, reps: number) {
  try {
    return await runStateDtypeSteps(await engine(), name, n, warmup, reps);
  } catch (err) {
    return { error: message(err) };
  }
}

/** Final losses per stateDtype, Adam and AdamW, least squares and the demo MLP. */
async function runStateDtypeConvergence(steps: number) {
  try {
    return await runConvergence(await engine(), steps);
  } catch (err) {
    return { error: message(err) };
  }
}

const bench = {
  init,
  runOptimizer,
  runTfjs,
  runReference,
  runModel,
  runTraining,
  runMuonGemm,
  runStateDtype,
  runStateDtypeConvergence,
};
export type Bench = typeof bench;
declare global {
  interface Window {
    bench: Bench;
  }
}
window.bench = bench;
