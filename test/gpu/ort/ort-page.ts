/**
 * In-page side of the ONNX Runtime Web tests (test/gpu/ort.test.ts): weights in ORT GPU tensors
 * on ORT's own WebGPU device, stepped by the engine, used by the next inference. ORT's wasm files
 * are served by vite from node_modules (nothing can be fetched from a CDN here).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { Adam } from '../../../src/index.ts';
import { ortEngine, ortParameter, ortWeight } from '../../../src/ort/index.ts';
import { linearModel } from './linear-model.ts';

ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
// Threads need cross-origin isolation (SharedArrayBuffer), which the test server does not set up.
ort.env.wasm.numThreads = 1;

/** Deterministic values in [-1, 1) (a small LCG), so runs compare across reloads. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Y = X·W + B in float64 (X is n×k, W k×m, B m). */
function linear(x: Float32Array, w: Float32Array, b: Float32Array, n: number, k: number) {
  const m = b.length;
  const y = new Float64Array(n * m);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < m; c++) {
      let s = b[c]!;
      for (let i = 0; i < k; i++) s += x[r * k + i]! * w[i * m + c]!;
      y[r * m + c] = s;
    }
  return y;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

export interface LeastSquaresResult {
  adapter: string;
  sameDevice: boolean;
  losses: number[];
  /** Per step: max |ORT output - CPU X·W+B| with the weights read back after that run. */
  outputErrors: number[];
  /** Per step: max |output - previous output| (the step changed what ORT computes). */
  outputChanges: number[];
  /** max |webgpu EP output - wasm EP output| on the final weights read back. */
  wasmDifference: number;
  untouchedWeightsUnchanged: boolean;
  /** The engine still works once the caller released every session it made. */
  survivesRelease: boolean;
}

/**
 * Least squares: loss = mean over rows of |X·W + B - T|^2 / 2, gradients analytic on the host
 * from ORT's output, Adam steps on the GPU, each step followed at once (no wait) by an inference.
 */
async function leastSquares(steps: number): Promise<LeastSquaresResult> {
  const [n, k, m] = [16, 5, 3];
  const engine = await ortEngine(ort);
  const session = await ort.InferenceSession.create(linearModel(k, m), {
    executionProviders: ['webgpu'],
  });
  const sameDevice = (await ort.env.webgpu.device) === engine.device;
  const x = values(n * k, 1);
  const target = Float32Array.from(linear(x, values(k * m, 2), values(m, 3), n, k));
  const X = new ort.Tensor('float32', x, [n, k]);

  const W = ortWeight(ort, engine, values(k * m, 4), [k, m], 'W');
  // B the other way round: a tensor made with ort.Tensor.fromGpuBuffer, then wrapped.
  const bBuffer = engine.device.createBuffer({
    label: 'B',
    size: 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  engine.queue.writeBuffer(bBuffer, 0, new Float32Array(4));
  const B = ort.Tensor.fromGpuBuffer(bBuffer, { dataType: 'float32', dims: [m] });
  const b = ortParameter(engine, B, { label: 'B' });
  // A third weight the optimizer does not hold: must come out unchanged.
  const frozen = ortWeight(ort, engine, values(4, 5), [4], 'frozen');

  const opt = new Adam([W.parameter, b], { lr: 0.05 });
  const losses: number[] = [];
  const outputErrors: number[] = [];
  const outputChanges: number[] = [];
  let previous: Float32Array | undefined;
  let y = (await session.run({ X, W: W.tensor, B })).Y!.data as Float32Array;
  for (let t = 0; t < steps; t++) {
    const dy = y.map((v, i) => (v - target[i]!) / n);
    losses.push(dy.reduce((s, d) => s + (d * d * n) / 2, 0));
    const dw = new Float32Array(k * m);
    const db = new Float32Array(m);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < m; c++) {
        db[c]! += dy[r * m + c]!;
        for (let i = 0; i < k; i++) dw[i * m + c]! += x[r * k + i]! * dy[r * m + c]!;
      }
    W.parameter.grad.write(dw);
    b.grad.write(db);
    opt.step(); // submitted on the shared queue, so the run below sees the new weights
    previous = y;
    y = (await session.run({ X, W: W.tensor, B })).Y!.data as Float32Array;
    const expected = linear(x, await W.parameter.read(), await b.read(), n, k);
    outputErrors.push(maxAbsDiff(y, expected));
    outputChanges.push(maxAbsDiff(y, previous));
  }
  const wasm = await ort.InferenceSession.create(linearModel(k, m), {
    executionProviders: ['wasm'],
  });
  const onCpu = await wasm.run({
    X,
    W: new ort.Tensor('float32', await W.parameter.read(), [k, m]),
    B: new ort.Tensor('float32', await b.read(), [m]),
  });
  const wasmDifference = maxAbsDiff(y, onCpu.Y!.data as Float32Array);
  const untouchedWeightsUnchanged = maxAbsDiff(await frozen.parameter.read(), values(4, 5)) === 0;
  await engine.sync();
  opt.dispose();
  W.dispose();
  frozen.dispose();
  b.dispose();
  B.dispose();
  bBuffer.destroy();
  await session.release();
  await wasm.release();
  // With every session of ours released, ORT's device lives on (ortDevice holds a session).
  const after = engine.parameter(Float32Array.from([1, 2]));
  const survivesRelease =
    (await ort.env.webgpu.device) === engine.device && (await after.read())[1] === 2;
  after.dispose();
  return {
    survivesRelease,
    adapter: describeAdapter(engine.device),
    sameDevice,
    losses,
    outputErrors,
    outputChanges,
    wasmDifference,
    untouchedWeightsUnchanged,
  };
}

/** ortParameter's refusals, as messages. */
async function refusals(): Promise<string[]> {
  const engine = await ortEngine(ort);
  const messages: string[] = [];
  const cpu = new ort.Tensor('float32', new Float32Array(4), [4]);
  try {
    ortParameter(engine, cpu);
  } catch (e) {
    messages.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
  try {
    ortWeight(ort, engine, new Float32Array(6), [2, 2]);
  } catch (e) {
    messages.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
  return messages;
}

/** What ORT says when fed a GPU tensor from a device of its own making (why the engine adopts ORT's). */
async function foreignDevice(): Promise<string> {
  const adapter = await navigator.gpu.requestAdapter();
  const mine = await adapter!.requestDevice({ label: 'not-orts' });
  await ortEngine(ort);
  const session = await ort.InferenceSession.create(linearModel(1, 1), {
    executionProviders: ['webgpu'],
  });
  const buffer = mine.createBuffer({
    label: 'foreign',
    size: 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const tensor = ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: [1, 1] });
  const X = new ort.Tensor('float32', new Float32Array(1), [1, 1]);
  const B = new ort.Tensor('float32', new Float32Array(1), [1]);
  try {
    await session.run({ X, W: tensor, B });
    return 'no error';
  } catch (e) {
    return String(e);
  } finally {
    await session.release();
    buffer.destroy();
    mine.destroy();
  }
}

const ortHarness = { leastSquares, refusals, foreignDevice };
declare global {
  interface Window {
    ortHarness: typeof ortHarness;
  }
}
window.ortHarness = ortHarness;

function describeAdapter(device: GPUDevice): string {
  const i = device.adapterInfo;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || '?';
}
