import { describe, expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * Schedule-free modes: eval() sets the parameters to x = lerp(y, z, 1 - 1/beta) and train()
 * back to y, on the GPU, against the float64 reference; steps are refused in eval mode; the
 * other optimizers have no modes.
 */
const harnessPage = useHarnessPage();

describe.each(['AdamWScheduleFree', 'SGDScheduleFree'] as const)('%s', (name) => {
  it('eval() gives x and train() gives y back, within the suite bound, and steps resume', async () => {
    const r = await harnessPage().evaluate(async (name) => {
      const api = window.webgpuOptim;
      const { references, scheduleFreeEval, scheduleFreeTrain } = api.reference;
      const ref = references[name];
      const engine = await api.createEngine();
      const n = 1030;
      const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      const options = { ...api.optimizerSpecs[name].defaults, lr: 0.05, warmupSteps: 3 };
      const w = engine.parameter(init);
      const fresh = engine.parameter(3); // never stepped: eval/train leave it alone
      const opt = new api.optimizers[name]([w, fresh], { lr: 0.05, warmupSteps: 3 });
      const p = Float64Array.from(init);
      const state = ref.init(n, options as never);
      const beta = 0.9; // momentum (SGD) and betas[0] (AdamW) by default
      const errors: number[] = [];
      const scale = () => Math.max(...p.map(Math.abs));
      const compare = async () => {
        const got = await w.read();
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - p[i]!));
        errors.push(worst / (2 ** -23 * scale()));
      };
      const step = (t: number) => {
        const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * t));
        w.grad.write(g);
        ref.step(p, Float64Array.from(g), state, options as never);
        opt.step();
      };
      for (let t = 1; t <= 10; t++) step(t);
      opt.eval();
      scheduleFreeEval(p, state, beta);
      await compare();
      opt.eval(); // already in eval mode: nothing changes
      await compare();
      let refused = '';
      try {
        opt.step();
      } catch (e) {
        refused = (e as Error).message;
      }
      const freshValues = Array.from(await fresh.read());
      opt.train();
      scheduleFreeTrain(p, state, beta);
      await compare();
      for (let t = 11; t <= 15; t++) step(t);
      await compare();
      const sd = await opt.stateDict();
      engine.dispose();
      return { errors, refused, freshValues, keys: Object.keys(sd.state[0]!).sort() };
    }, name);
    // errors are in units of 2^-23 * max|ref|; the suite's bound is 4 * t.
    r.errors.forEach((e, i) => expect(e, `comparison ${i}`).toBeLessThan(4 * 16));
    expect(r.refused).toMatch(/in eval mode .* call opt\.train\(\) first/);
    expect(r.freshValues).toEqual([0, 0, 0]);
    expect(r.keys).toEqual(
      name === 'AdamWScheduleFree'
        ? ['expAvgSq', 'lrMax', 'step', 'weightSum', 'z']
        : ['lrMax', 'step', 'weightSum', 'z'],
    );
  });
});

it('optimizers without modes refuse eval() and train() with a TypeError', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const w = engine.parameter(3);
    const opt = new api.Adam([w]);
    const out: string[] = [];
    for (const f of [() => opt.eval(), () => opt.train()]) {
      try {
        f();
      } catch (e) {
        out.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    engine.dispose();
    return out;
  });
  expect(r).toEqual([
    'TypeError: Adam.eval: only schedule-free optimizers have train and eval modes',
    'TypeError: Adam.train: only schedule-free optimizers have train and eval modes',
  ]);
});

it('the mode is part of the state dict and the checkpoint: saved after eval(), loading continues from x', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const grad = (t: number) => Float32Array.from({ length: 300 }, (_, i) => Math.sin(i * t));
    const init = Float32Array.from({ length: 300 }, (_, i) => Math.cos(i));
    const run = (
      w: ReturnType<typeof engine.parameter>,
      o: InstanceType<typeof api.AdamWScheduleFree>,
      from: number,
      to: number,
    ) => {
      for (let t = from; t <= to; t++) {
        w.grad.write(grad(t));
        o.step();
      }
    };
    // Uninterrupted: 5 steps, eval, train, 2 more steps.
    const a = engine.parameter(init);
    const optA = new api.AdamWScheduleFree([a], { lr: 0.01 });
    run(a, optA, 1, 5);
    optA.eval();
    const bytes = await api.saveCheckpoint(optA, { params: true });
    const sd = await optA.stateDict();
    optA.train();
    run(a, optA, 6, 7);
    const expected = await a.read();
    // Restored from the eval-mode checkpoint into a fresh optimizer.
    const b = engine.parameter(300);
    const optB = new api.AdamWScheduleFree([b], { lr: 0.01 });
    await api.loadCheckpoint(optB, bytes);
    const restoredTraining = optB.training;
    let refused = '';
    try {
      optB.step();
    } catch (e) {
      refused = (e as Error).message;
    }
    optB.train();
    run(b, optB, 6, 7);
    const got = await b.read();
    // A dict without the mode, and one of Adam with it, are refused.
    const errors: string[] = [];
    const { trainMode: _, ...withoutMode } = sd;
    for (const [o, d] of [
      [optB, withoutMode],
      [
        new api.Adam([engine.parameter(3)]),
        {
          optimizer: 'Adam',
          state: {},
          paramGroups: [{ ...api.optimizerSpecs.Adam.defaults, params: [0] }],
          trainMode: true,
        },
      ],
    ] as const) {
      try {
        (o as { loadStateDict(x: unknown): void }).loadStateDict(d);
      } catch (e) {
        errors.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    engine.dispose();
    return {
      saved: sd.trainMode,
      restoredTraining,
      refused,
      identical: expected.every((v, i) => Object.is(v, got[i])),
      errors,
    };
  });
  expect(r.saved).toBe(false);
  expect(r.restoredTraining).toBe(false);
  expect(r.refused).toMatch(/in eval mode/);
  expect(r.identical).toBe(true);
  expect(r.errors[0]).toMatch(/^TypeError: .*trainMode must be true or false, got undefined/);
  expect(r.errors[1]).toMatch(/^TypeError: .*unknown field 'trainMode'/);
});
