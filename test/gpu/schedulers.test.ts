import { expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';
import { mismatchTable, type Mismatch } from './compare.ts';

/**
 * Schedulers drive the engine: the lr (and OneCycleLR's momentum / beta1) they write is what the
 * kernel uses at the next step, with no recompilation and no GPU allocation per step.
 */
const harnessPage = useHarnessPage();

const cases = [
  {
    optimizer: 'SGD',
    options: { lr: 0.1, momentum: 0.9 },
    scheduler: 'StepLR',
    schedule: { stepSize: 7, gamma: 0.5 },
  },
  {
    optimizer: 'SGD',
    options: { lr: 0.1, momentum: 0.9 },
    scheduler: 'OneCycleLR',
    schedule: { maxLr: 0.2, totalSteps: 31 },
  },
  {
    optimizer: 'Adam',
    options: { lr: 0.01 },
    scheduler: 'OneCycleLR',
    schedule: { maxLr: 0.05, totalSteps: 31, threePhase: true },
  },
  {
    optimizer: 'AdamW',
    options: { lr: 0.01 },
    scheduler: 'CosineAnnealingWarmRestarts',
    schedule: { t0: 5, tMult: 2, etaMin: 1e-4 },
  },
  {
    optimizer: 'RMSprop',
    options: { lr: 0.01 },
    scheduler: 'InverseTimeLR',
    schedule: { decayRate: 0.5 },
  },
  {
    optimizer: 'Adagrad',
    options: { lr: 0.1 },
    scheduler: 'LinearLR',
    schedule: { startFactor: 0.1, totalIters: 10 },
  },
] as const;

it.each(cases)('$optimizer + $scheduler $schedule: 30 steps against the reference', async (c) => {
  const r = await harnessPage().evaluate(async (c) => {
    const api = window.webgpuOptim as unknown as Record<
      string,
      new (...a: unknown[]) => { step(): void; getLastLr(): number[] }
    >;
    const { createEngine, optimizers, optimizerSpecs } = window.webgpuOptim;
    const engine = await createEngine();
    let created = 0;
    const createBuffer = engine.device.createBuffer.bind(engine.device);
    engine.device.createBuffer = (d) => (created++, createBuffer(d));
    const sizes = [7, 1030];
    const init = sizes.map((n, k) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(i + 3 * k)),
    );
    const ws = init.map((v) => engine.parameter(v));
    const opt = new optimizers[c.optimizer as 'SGD'](ws, c.options as object);
    const sched = new api[c.scheduler]!(opt, c.schedule);
    const spec = optimizerSpecs[c.optimizer as 'SGD'];
    const ref = spec.reference as unknown as {
      init(n: number, o: unknown): Record<string, unknown> & { step: number };
      step(p: Float64Array, g: Float64Array, s: unknown, o: unknown): void;
    };
    const refParams = init.map((v) => Float64Array.from(v));
    const refStates = sizes.map((n) => ref.init(n, { ...spec.defaults, ...c.options }));
    const mismatches: Mismatch[] = [];
    const lrs: number[] = [];
    let pipelines = 0;
    let buffersAfterFirst = 0;
    for (let t = 1; t <= 30; t++) {
      const group = { ...opt.paramGroups[0]! } as Record<string, unknown>;
      lrs.push(group.lr as number);
      ws.forEach((w, k) => {
        const g = Float32Array.from({ length: w.length }, (_, i) => Math.cos(i * t + k));
        w.grad.write(g);
        ref.step(refParams[k]!, Float64Array.from(g), refStates[k], group);
      });
      opt.step();
      sched.step();
      if (t === 1) {
        pipelines = engine.pipelines.size;
        buffersAfterFirst = created;
      }
      for (const [k, w] of ws.entries()) {
        const m = window.harness.compareStep(`param${k}`, t, await w.read(), refParams[k]!);
        if (m) mismatches.push(m);
      }
    }
    const recompiled = engine.pipelines.size - pipelines;
    // Reads allocate staging buffers; count what the steps themselves created.
    const stepBuffers = created - buffersAfterFirst - 30 * ws.length;
    engine.dispose();
    return { mismatches, recompiled, stepBuffers, lrs };
  }, c);
  expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
  expect(r.recompiled).toBe(0);
  expect(r.stepBuffers).toBe(0);
  expect(
    new Set(r.lrs.map((x) => x.toPrecision(6))).size,
    'the schedule changed lr',
  ).toBeGreaterThan(3);
});
