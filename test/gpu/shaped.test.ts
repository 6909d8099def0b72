import { expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * Shaped optimizers beyond the registry suite: Adafactor's factored state size (stateBytes) and
 * checkpoint shapes, Muon's shape checks (nothing changes when they fail), options that rebuild
 * the passes (nsSteps) taking effect at the next step, and checkpoints that continue a run
 * bit-exactly.
 */
const harnessPage = useHarnessPage();

it('Adafactor keeps m + n floats for an [m, n] matrix and n for a vector (stateBytes)', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const W = engine.parameter(64 * 129, { shape: [64, 129] });
    const B = engine.parameter(2 * 3 * 70, { shape: [2, 3, 70] });
    const v = engine.parameter(300);
    const opt = new api.Adafactor([W, B, v]);
    const before = opt.stateBytes();
    [W, B, v].forEach((p) => p.grad.write(new Float32Array(p.length).fill(0.5)));
    opt.step();
    const after = opt.stateBytes();
    const sd = await opt.stateDict();
    const file = api.decodeSafetensors(await api.saveCheckpoint(opt));
    const shapes = Object.fromEntries([...file.tensors].map(([k, t]) => [k, t.shape]));
    const names = Object.values(sd.state).map((e) => Object.keys(e).sort().join(','));
    const adam = new api.Adam([engine.parameter(64 * 129, { shape: [64, 129] })]);
    adam.step();
    const adamBytes = adam.stateBytes();
    engine.dispose();
    return { before, after, names, shapes, adamBytes };
  });
  expect(r.before).toBe(0);
  // Each buffer's elements padded to a multiple of 4 (as every engine buffer): 129 -> 132, 6 -> 8.
  expect(r.after).toBe((64 + 132 + 8 + 140 + 300) * 4);
  expect(r.adamBytes).toBe(2 * 64 * 129 * 4); // two moments of the parameter's size
  expect(r.names).toEqual(['colVar,rowVar,step', 'colVar,rowVar,step', 'step,variance']);
  // torch's keepdim shapes: row_var [..., m, 1], col_var [..., 1, n].
  expect(r.shapes['state.0.row_var']).toEqual([64, 1]);
  expect(r.shapes['state.0.col_var']).toEqual([1, 129]);
  expect(r.shapes['state.1.row_var']).toEqual([2, 3, 1]);
  expect(r.shapes['state.1.col_var']).toEqual([2, 1, 70]);
  expect(r.shapes['state.2.variance']).toEqual([300]);
});

it('Muon refuses parameters that are not matrices, naming the shape, and changes nothing', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const W = engine.parameter(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    const bias = engine.parameter(new Float32Array([1, 2, 3]));
    const conv = engine.parameter(8, { shape: [2, 2, 2] });
    const messages: string[] = [];
    const attempt = (f: () => unknown) => {
      try {
        f();
        messages.push('no error');
      } catch (e) {
        messages.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    };
    attempt(() => new api.Muon([W, bias]));
    attempt(() => new api.Muon([conv]));
    const opt = new api.Muon([W], { lr: 0.1 });
    W.grad.write(new Float32Array([1, 0, 0, 0, 1, 0]));
    opt.step();
    const before = JSON.stringify([...(await W.read())]);
    const sdBefore = await opt.stateDict();
    attempt(() => opt.addParamGroup({ params: [bias] }));
    const after = JSON.stringify([...(await W.read())]);
    const sdAfter = await opt.stateDict();
    engine.dispose();
    return {
      messages,
      unchanged: before === after,
      groups: [sdBefore.paramGroups.length, sdAfter.paramGroups.length],
    };
  });
  expect(r.messages[0]).toMatch(
    /^RangeError: Muon: param\d+ has shape \[3\]; Muon only supports 2-D parameters \(optimize biases, norms and embeddings with AdamW\)$/,
  );
  expect(r.messages[1]).toMatch(/has shape \[2, 2, 2\]; Muon only supports 2-D parameters/);
  expect(r.messages[2]).toMatch(/^RangeError: Muon\.addParamGroup: param\d+ has shape \[3\]/);
  expect(r.unchanged).toBe(true);
  expect(r.groups).toEqual([1, 1]);
});

it('Muon: nsSteps changed between steps rebuilds the passes (each step follows its own options)', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const { muonReference } = api.reference;
    const engine = await api.createEngine();
    const shape = [9, 20];
    const n = 180;
    const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const W = engine.parameter(init, { shape });
    const opt = new api.Muon([W], { lr: 0.05 });
    const options = { ...api.optimizerSpecs.Muon.defaults, lr: 0.05 };
    const p = Float64Array.from(init);
    const state = muonReference.init(n, options);
    const errors: number[] = [];
    for (let t = 1; t <= 8; t++) {
      const steps = t <= 3 ? 5 : t <= 6 ? 1 : 0;
      opt.paramGroups[0]!.nsSteps = steps;
      // Full-rank gradients: Newton-Schulz amplifies rounding in a null space ~a^nsSteps times.
      const g = Float32Array.from({ length: n }, (_, i) => {
        const x = Math.sin(i * 12.9898 + t * 78.233) * 43758.5453;
        return x - Math.floor(x) - 0.5;
      });
      W.grad.write(g);
      opt.step();
      muonReference.step(p, Float64Array.from(g), state, { ...options, nsSteps: steps }, shape);
      const got = await W.read();
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - p[i]!));
      errors.push(worst / (t * 2 ** -23 * Math.max(...p.map(Math.abs))));
    }
    engine.dispose();
    return errors;
  });
  // The suite's bound (4 t 2^-23 max|p|); a step run with stale passes misses it by orders.
  expect(r.map((e) => e < 4)).toEqual(r.map(() => true));
});

it.each([
  ['Adafactor', { lr: 0.05, weightDecay: 0.1 }],
  ['Muon', { lr: 0.02, nesterov: false }],
] as const)(
  '%s: a checkpoint loaded into fresh parameters continues the run bit-exactly',
  async (name, options) => {
    const r = await harnessPage().evaluate(
      async (name, options) => {
        const api = window.webgpuOptim;
        const engine = await api.createEngine();
        const shapes =
          name === 'Muon'
            ? [
                [7, 5],
                [4, 40],
              ]
            : [[7, 5], [2, 3, 4], [11]];
        const Opt = api.optimizers[name] as unknown as new (
          p: unknown,
          o: unknown,
        ) => InstanceType<typeof api.Adam>;
        const make = (init: boolean) =>
          shapes.map((shape, k) => {
            const n = shape.reduce((a, b) => a * b, 1);
            const values = init
              ? Float32Array.from({ length: n }, (_, i) => Math.sin(i + k))
              : new Float32Array(n);
            return engine.parameter(values, { shape });
          });
        const step = (ws: ReturnType<typeof make>, opt: { step(): void }, t: number) => {
          ws.forEach((w, k) =>
            w.grad.write(Float32Array.from({ length: w.length }, (_, i) => Math.cos(i * t + k))),
          );
          opt.step();
        };
        const a = make(true);
        const optA = new Opt(a, options);
        for (let t = 1; t <= 4; t++) step(a, optA, t);
        const file = await api.saveCheckpoint(optA, { params: true });
        const b = make(false);
        const optB = new Opt(b, options);
        await api.loadCheckpoint(optB, file);
        for (let t = 5; t <= 7; t++) {
          step(a, optA, t);
          step(b, optB, t);
        }
        const bits = async (ws: ReturnType<typeof make>) =>
          (await Promise.all(ws.map(async (w) => [...new Uint32Array((await w.read()).buffer)])))
            .flat()
            .join();
        const same = (await bits(a)) === (await bits(b));
        const steps = Object.values((await optB.stateDict()).state).map((e) => e.step);
        engine.dispose();
        return { same, steps };
      },
      name,
      options as object,
    );
    expect(r.same).toBe(true);
    expect(r.steps.every((s) => s === 7)).toBe(true);
  },
);

it('Adafactor refuses a loaded rowVar of the wrong length or with a negative value, naming it, before any change', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const W = engine.parameter(12, { shape: [3, 4] });
    const opt = new api.Adafactor([W]);
    W.grad.write(new Float32Array(12).fill(1));
    opt.step();
    const sd = await opt.stateDict();
    const attempt = (rowVar: Float32Array) => {
      const bad = structuredClone(sd);
      bad.state[0]!.rowVar = rowVar;
      try {
        opt.loadStateDict(bad);
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const message = attempt(new Float32Array(12));
    const negative = attempt(new Float32Array([0.5, -0.25, 1]));
    const again = await opt.stateDict();
    engine.dispose();
    return {
      message,
      negative,
      rowVar: [...(again.state[0]!.rowVar as Float32Array)],
      was: [...(sd.state[0]!.rowVar as Float32Array)],
    };
  });
  expect(r.message).toMatch(/state 'rowVar' of parameter 0 must be a Float32Array of length 3/);
  // A variance is >= 0 by construction: a negative one would step by g * rsqrt(negative) = NaN.
  expect(r.negative).toMatch(
    /state 'rowVar' of parameter 0 must be finite and >= 0, got -0.25 at index 1/,
  );
  expect(r.rowVar).toEqual(r.was);
});
