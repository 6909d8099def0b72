import { expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/** shared/API.md, run as written: every public name there exists and behaves as described. */
const harnessPage = useHarnessPage();

it('the API.md walkthrough', async () => {
  const r = await harnessPage().evaluate(async () => {
    const m = window.webgpuOptim;
    const names = [
      'createEngine',
      'SGD',
      'Adam',
      'AdamW',
      'Adagrad',
      'Adadelta',
      'RMSprop',
      'Adamax',
      'NAdam',
      'RAdam',
      'Lion',
      'LAMB',
      'LARS',
      'StepLR',
      'MultiStepLR',
      'ExponentialLR',
      'CosineAnnealingLR',
      'CosineAnnealingWarmRestarts',
      'LinearLR',
      'PolynomialLR',
      'OneCycleLR',
      'InverseTimeLR',
      'clipGradNorm',
      'clipGradValue',
    ] as const;
    const missing = names.filter((n) => typeof (m as Record<string, unknown>)[n] !== 'function');
    const { createEngine, SGD, Adam, CosineAnnealingLR, clipGradNorm, clipGradValue } = m;
    const n = 10;
    const engine = await createEngine();
    const w = engine.parameter(new Float32Array(n).fill(1));
    const zeros = engine.parameter(n);
    const gradient = new Float32Array(n).fill(0.5);
    w.grad.write(gradient);
    let lengthError = '';
    try {
      w.grad.write(new Float32Array(n + 1));
    } catch (e) {
      lengthError = (e as Error).name;
    }
    const opt = new Adam([w], {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
    });
    opt.step();
    const values: Float32Array = await w.read();
    const zeroValues = await zeros.read();
    const grads = await w.grad.read();
    const w1 = engine.parameter(new Float32Array(n).fill(1));
    const w2 = engine.parameter(new Float32Array(n).fill(1));
    w1.grad.write(gradient);
    w2.grad.write(gradient);
    const sgd = new SGD(
      [
        { params: [w1], lr: 0.1 },
        { params: [w2], weightDecay: 0 },
      ],
      { lr: 0.01, momentum: 0.9 },
    );
    sgd.paramGroups[0]!.lr = 0.05;
    sgd.step();
    sgd.zeroGrad();
    const sd = await opt.stateDict();
    opt.loadStateDict(sd);
    const sched = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 1e-4 });
    sched.step();
    const lastLr = sched.getLastLr();
    w1.grad.write(new Float32Array(n).fill(3));
    w2.grad.write(new Float32Array(n).fill(4));
    const norm = clipGradNorm([w1, w2], 1.0);
    const total = await norm.read();
    clipGradValue([w1, w2], 0.5);
    const clipped = Array.from(await w2.grad.read());
    // Zero-copy over caller-owned buffers.
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const existingGPUBuffer = engine.device.createBuffer({ size: 256, usage });
    const otherGPUBuffer = engine.device.createBuffer({ size: 256, usage });
    const wrapped = engine.parameter(existingGPUBuffer, {
      offset: 16,
      length: 8,
      grad: otherGPUBuffer,
      gradOffset: 32,
    });
    wrapped.write(new Float32Array(8).fill(2));
    wrapped.grad.write(new Float32Array(8).fill(1));
    new SGD([wrapped], { lr: 0.5 }).step();
    const wrappedValues = Array.from(await wrapped.read());
    await engine.sync();
    engine.dispose();
    return {
      missing,
      lengthError,
      moved: values[0]! < 1,
      grads: grads[0],
      zeros: Array.from(zeroValues),
      sdKeys: Object.keys(sd.state[0]!).sort(),
      sdGroups: sd.paramGroups.map((g) => g.params),
      lastLr,
      total,
      clipped: clipped[0],
      wrappedValues,
    };
  });
  expect(r.missing).toEqual([]);
  expect(r.lengthError).toBe('RangeError');
  expect(r.moved).toBe(true);
  expect(r.grads).toBe(0.5);
  expect(r.zeros).toEqual(new Array(10).fill(0));
  expect(r.sdKeys).toEqual(['expAvg', 'expAvgSq', 'step']);
  expect(r.sdGroups).toEqual([[0]]);
  expect(r.lastLr[0]).toBeCloseTo(1e-4 + ((1e-3 - 1e-4) * (1 + Math.cos(Math.PI / 10))) / 2, 12);
  expect(r.total).toBeCloseTo(Math.sqrt(10 * 9 + 10 * 16), 4);
  expect(r.clipped).toBeCloseTo(4 / (Math.sqrt(250) + 1e-6), 6); // clipped by norm, already inside +-0.5
  expect(r.wrappedValues).toEqual(new Array(8).fill(1.5));
});

it('the API.md Additions walkthrough: shapes, the second-wave optimizers, stateBytes, checkpoints', async () => {
  const r = await harnessPage().evaluate(async () => {
    const m = window.webgpuOptim;
    const { createEngine, Adafactor, Muon, AdamWScheduleFree, SGDScheduleFree, ADOPT, Adam } = m;
    const engine = await createEngine();
    const [rows, cols] = [6, 4];
    const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i));
    const W = engine.parameter(values, { shape: [rows, cols] });
    let shapeError = '';
    try {
      engine.parameter(values, { shape: [5, 5] });
    } catch (e) {
      shapeError = (e as Error).name;
    }
    const params = [engine.parameter(new Float32Array([1, 2, 3]))];
    const grads = () => {
      W.grad.write(values.map((v) => v * 0.1));
      params[0]!.grad.write(new Float32Array([0.1, -0.2, 0.3]));
    };
    const adafactor = new Adafactor(params, {
      lr: 1e-2,
      beta2Decay: -0.8,
      eps: [null, 1e-3],
      d: 1.0,
      weightDecay: 0.0,
      maximize: false,
    });
    const muon = new Muon([W], {
      lr: 1e-3,
      weightDecay: 0.1,
      momentum: 0.95,
      nesterov: true,
      nsCoefficients: [3.4445, -4.775, 2.0315],
      eps: 1e-7,
      nsSteps: 5,
      adjustLrFn: null,
    });
    grads();
    adafactor.step();
    muon.step();
    const sf = [
      new AdamWScheduleFree([engine.parameter(3)], {
        lr: 0.0025,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        warmupSteps: 0,
        r: 0,
        weightLrPower: 2,
      }),
      new SGDScheduleFree([engine.parameter(3)], {
        lr: 1.0,
        momentum: 0.9,
        weightDecay: 0,
        warmupSteps: 0,
        r: 0,
        weightLrPower: 2,
      }),
    ];
    for (const o of sf) {
      o.step();
      o.eval();
      o.train();
    }
    const adopt = new ADOPT([engine.parameter(3)], {
      lr: 1e-3,
      betas: [0.9, 0.9999],
      eps: 1e-6,
      weightDecay: 0,
      decouple: false,
    });
    adopt.step();
    const adam = new Adam([engine.parameter(8)]);
    adam.step();
    const bytes: Uint8Array = await m.saveCheckpoint(muon, { params: true });
    await m.loadCheckpoint(muon, bytes);
    const states = await Promise.all(
      [adafactor, muon, ...sf, adopt].map(async (o) =>
        Object.keys((await o.stateDict()).state[0]!).sort(),
      ),
    );
    const result = {
      shape: [...W.shape],
      shapeError,
      states,
      stateBytes: [adafactor.stateBytes(), muon.stateBytes(), adam.stateBytes()],
      fileBytes: bytes.byteLength > 0,
    };
    engine.dispose();
    return result;
  });
  expect(r.shape).toEqual([6, 4]);
  expect(r.shapeError).toBe('RangeError');
  expect(r.states).toEqual([
    ['step', 'variance'],
    ['momentumBuffer', 'step'],
    ['expAvgSq', 'lrMax', 'step', 'weightSum', 'z'],
    ['lrMax', 'step', 'weightSum', 'z'],
    ['expAvg', 'expAvgSq', 'step'],
  ]);
  expect(r.stateBytes).toEqual([4 * 4, 24 * 4, 2 * 8 * 4]);
  expect(r.fileBytes).toBe(true);
});
