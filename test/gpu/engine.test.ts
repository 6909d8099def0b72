import { describe, expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * Engine behaviour at the boundary: bad input is rejected before any GPU work and changes
 * nothing, disposed objects throw, GPU errors surface with the kernel's label, hyperparameters
 * change without recompiling, checkpoints round-trip bit-exactly.
 */
const harnessPage = useHarnessPage();

describe('invalid hyperparameters throw a RangeError naming the option, before any GPU work', () => {
  it.each([
    ['SGD', { lr: -0.1 }, /SGD: lr must be >= 0, got -0.1/],
    [
      'SGD',
      { nesterov: true },
      /SGD: nesterov requires momentum > 0 and dampening = 0, got momentum 0, dampening 0/,
    ],
    ['SGD', { nesterov: true, momentum: 0.9, dampening: 0.1 }, /nesterov requires.*dampening 0.1/],
    ['Adam', { betas: [1, 0.999] }, /Adam: betas\[0\] must be in \[0, 1\), got 1/],
    ['Adam', { betas: [0.9, -0.1] }, /Adam: betas\[1\] must be in \[0, 1\), got -0.1/],
    ['Adam', { eps: 0 }, /Adam: eps must be > 0, got 0/],
    ['AdamW', { eps: -1e-8 }, /AdamW: eps must be > 0, got -1e-8/],
    ['Adagrad', { lr: -1 }, /Adagrad: lr must be >= 0, got -1/],
    ['Adadelta', { eps: 0 }, /Adadelta: eps must be > 0, got 0/],
    ['RMSprop', { alpha: 1 }, /RMSprop: alpha must be in \[0, 1\), got 1/],
    ['RMSprop', { weightDecay: -0.01 }, /RMSprop: weightDecay must be >= 0, got -0.01/],
  ] as const)('%s %j', async (name, options, message) => {
    const r = await harnessPage().evaluate(
      async (name, options) => {
        const { createEngine, optimizers } = window.webgpuOptim;
        const engine = await createEngine();
        const w = engine.parameter(new Float32Array([1, 2, 3]));
        let error: { name: string; message: string } | undefined;
        try {
          new optimizers[name as 'SGD']([w], options as object);
        } catch (e) {
          error = { name: (e as Error).name, message: (e as Error).message };
        }
        const untouched = w.ownership === 'engine' && Array.from(await w.read()).join() === '1,2,3';
        await engine.sync();
        engine.dispose();
        return { error, untouched };
      },
      name,
      options,
    );
    expect(r.error?.name).toBe('RangeError');
    expect(r.error?.message).toMatch(message);
    expect(r.untouched, 'the parameter was neither moved nor changed').toBe(true);
  });

  it('a bad value set on a param group between steps throws at step() and changes nothing', async () => {
    const r = await harnessPage().evaluate(async () => {
      const { createEngine, Adam } = window.webgpuOptim;
      const engine = await createEngine();
      const w = engine.parameter(new Float32Array([1, 2, 3]));
      w.grad.write(new Float32Array([0.1, 0.2, 0.3]));
      const opt = new Adam([w], { lr: 0.1 });
      opt.step();
      const before = Array.from(await w.read());
      const stateBefore = await opt.stateDict();
      opt.paramGroups[0]!.betas = [0.9, 1];
      let message = '';
      try {
        opt.step();
      } catch (e) {
        message = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const after = Array.from(await w.read());
      const stateAfter = await opt.stateDict();
      engine.dispose();
      return {
        message,
        same: before.join() === after.join(),
        steps: [stateBefore.state[0]!.step, stateAfter.state[0]!.step],
      };
    });
    expect(r.message).toBe('RangeError: Adam: betas[1] must be in [0, 1), got 1');
    expect(r.same).toBe(true);
    expect(r.steps).toEqual([1, 1]);
  });
});

it('a gradient of the wrong length throws a RangeError and changes nothing', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine } = window.webgpuOptim;
    const engine = await createEngine();
    const w = engine.parameter(new Float32Array([1, 2, 3, 4, 5]));
    w.grad.write(new Float32Array([5, 4, 3, 2, 1]));
    const messages: string[] = [];
    for (const bad of [new Float32Array(4), new Float32Array(6), [1, 2, 3, 4, 5]]) {
      try {
        w.grad.write(bad as Float32Array);
      } catch (e) {
        messages.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    const grad = Array.from(await w.grad.read());
    engine.dispose();
    return { messages, grad };
  });
  expect(r.messages).toEqual([
    'RangeError: param0.grad: expected a Float32Array of length 5, got length 4',
    'RangeError: param0.grad: expected a Float32Array of length 5, got length 6',
    'RangeError: param0.grad: expected a Float32Array of length 5, got 1,2,3,4,5',
  ]);
  expect(r.grad).toEqual([5, 4, 3, 2, 1]);
});

it('disposed parameters, optimizers and engines throw clear errors', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, SGD } = window.webgpuOptim;
    const engine = await createEngine();
    const a = engine.parameter(new Float32Array([1, 2]));
    const b = engine.parameter(new Float32Array([3, 4]));
    const opt = new SGD([a, b], { lr: 0.1 });
    const caught = async (f: () => unknown) => {
      try {
        await f();
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    };
    b.dispose();
    const out = {
      stepAfterParamDispose: await caught(() => opt.step()),
      readDisposed: await caught(() => b.read()),
      gradDisposed: await caught(() => b.grad.write(new Float32Array(2))),
      readAlive: (await a.read()).join(),
      stepAfterOptDispose: '',
      engineDisposed: '',
    };
    opt.dispose();
    out.stepAfterOptDispose = await caught(() => opt.step());
    engine.dispose();
    out.engineDisposed = await caught(() => a.read());
    return out;
  });
  expect(r.stepAfterParamDispose).toBe('DisposedError: param1 has been disposed');
  expect(r.readDisposed).toBe('DisposedError: param1 has been disposed');
  expect(r.gradDisposed).toBe('DisposedError: param1 has been disposed');
  expect(r.readAlive).toBe('1,2');
  expect(r.stepAfterOptDispose).toBe('DisposedError: SGD: the optimizer has been disposed');
  expect(r.engineDisposed).toBe('DisposedError: the engine has been disposed');
});

it('WebGPU validation errors and shader compilation messages become errors naming the kernel', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine } = window.webgpuOptim;
    const engine = await createEngine();
    engine.scoped('custom/broken', () =>
      engine.pipelines.get(
        'custom/broken',
        '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }',
      ),
    );
    let message = '';
    try {
      await engine.sync();
    } catch (e) {
      message = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const clearedAfterThrow = await engine.sync().then(
      () => true,
      () => false,
    );
    engine.dispose();
    return { message, clearedAfterThrow };
  });
  expect(r.message).toMatch(/^GPUOperationError: custom\/broken: /);
  expect(r.message).toMatch(/broken/);
  expect(r.clearedAfterThrow).toBe(true);
});

it('hyperparameters change between steps without recompiling, and take effect at the next step', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, SGD } = window.webgpuOptim;
    const engine = await createEngine();
    const w = engine.parameter(new Float32Array([1, 1, 1, 1, 1]));
    w.grad.write(new Float32Array([1, 2, 3, 4, 5]));
    const opt = new SGD([w], { lr: 0.5 });
    opt.step();
    const compiled = engine.pipelines.size;
    opt.paramGroups[0]!.lr = 0.25;
    opt.paramGroups[0]!.weightDecay = 0; // unchanged variant
    opt.step();
    const values = Array.from(await w.read());
    const recompiled = engine.pipelines.size - compiled;
    engine.dispose();
    return { values, recompiled };
  });
  // p = 1 - 0.5*g - 0.25*g
  expect(r.values).toEqual(
    [1, 2, 3, 4, 5].map((g) =>
      Math.fround(Math.fround(1 - Math.fround(0.5 * g)) - Math.fround(0.25 * g)),
    ),
  );
  expect(r.recompiled).toBe(0);
});

it('zeroGrad sets every gradient to zero', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, Adam } = window.webgpuOptim;
    const engine = await createEngine();
    const ws = [3, 300, 5000].map((n) => engine.parameter(n));
    ws.forEach((w) => w.grad.write(new Float32Array(w.length).fill(2)));
    const opt = new Adam(ws);
    opt.zeroGrad();
    const sums = await Promise.all(
      ws.map(async (w) => (await w.grad.read()).reduce((a, b) => a + Math.abs(b), 0)),
    );
    engine.dispose();
    return sums;
  });
  expect(r).toEqual([0, 0, 0]);
});

it('the zero-copy form never destroys caller-owned buffers', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, SGD } = window.webgpuOptim;
    const engine = await createEngine();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = engine.device.createBuffer({ size: 64, usage });
    const grad = engine.device.createBuffer({ size: 64, usage });
    engine.queue.writeBuffer(buffer, 0, new Float32Array(16).fill(1));
    engine.queue.writeBuffer(grad, 0, new Float32Array(16).fill(2));
    const w = engine.parameter(buffer, { offset: 16, length: 8, grad, gradOffset: 32 });
    const opt = new SGD([w], { lr: 0.5 });
    opt.step();
    opt.dispose();
    w.dispose();
    const staging = engine.device.createBuffer({
      size: 64,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = engine.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, 64);
    engine.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = Array.from(new Float32Array(staging.getMappedRange()));
    await engine.sync();
    engine.dispose();
    return values;
  });
  expect(r).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
});

describe('checkpoints', () => {
  it.each([
    ['SGD', { lr: 0.1, momentum: 0.9 }],
    ['Adam', { lr: 0.01, amsgrad: true }],
    ['Adagrad', { lr: 0.1, initialAccumulatorValue: 0.5 }],
    ['RMSprop', { lr: 0.01, centered: true, momentum: 0.9 }],
  ] as const)(
    '%s: stateDict round trip + one more step is bit-identical to an uninterrupted run',
    async (name, options) => {
      const r = await harnessPage().evaluate(
        async (name, options) => {
          const { createEngine, optimizers } = window.webgpuOptim;
          const engine = await createEngine();
          const sizes = [5, 1030, 3];
          const init = sizes.map((n, k) =>
            Float32Array.from({ length: n }, (_, i) => Math.sin(i + k)),
          );
          const grad = (t: number, n: number, k: number) =>
            Float32Array.from({ length: n }, (_, i) => Math.cos(i * t + k));
          const run = (
            steps: number,
            opt: { step(): void },
            ws: Array<{ grad: { write(g: Float32Array): void }; length: number }>,
            from = 1,
          ) => {
            for (let t = from; t < from + steps; t++) {
              ws.forEach((w, k) => w.grad.write(grad(t, w.length, k)));
              opt.step();
            }
          };
          const Opt = optimizers[name as 'SGD'];
          // Uninterrupted: 6 steps.
          const a = init.map((v) => engine.parameter(v));
          const optA = new Opt(
            [{ params: [a[0]!, a[1]!] }, { params: [a[2]!], lr: 0.05 }],
            options as object,
          );
          run(6, optA, a);
          // Interrupted after 5 steps, restored into a fresh optimizer over copies of the parameters.
          const b = init.map((v) => engine.parameter(v));
          const optB = new Opt(
            [{ params: [b[0]!, b[1]!] }, { params: [b[2]!], lr: 0.05 }],
            options as object,
          );
          run(5, optB, b);
          const sd = await optB.stateDict();
          const c = await Promise.all(b.map(async (w) => engine.parameter(await w.read())));
          const optC = new Opt(
            [{ params: [c[0]!, c[1]!] }, { params: [c[2]!] }],
            options as object,
          );
          optC.loadStateDict(sd);
          run(1, optC, c, 6);
          const va = await Promise.all(a.map((w) => w.read()));
          const vc = await Promise.all(c.map((w) => w.read()));
          const identical = va.every((x, k) => x.every((v, i) => Object.is(v, vc[k]![i])));
          const sdC = await optC.stateDict();
          await engine.sync();
          engine.dispose();
          return {
            identical,
            keys: Object.keys(sd.state[0]!).sort(),
            groups: sd.paramGroups.map((g) => g.params),
            lr: sdC.paramGroups[1]!.lr,
            step: sdC.state[2]!.step,
          };
        },
        name,
        options,
      );
      expect(r.identical).toBe(true);
      expect(r.groups).toEqual([[0, 1], [2]]);
      expect(r.lr).toBe(0.05);
      expect(r.step).toBe(6);
      expect(r.keys.length).toBeGreaterThan(1);
    },
  );

  it('loading a dict of the wrong shape or optimizer kind throws and leaves the optimizer untouched', async () => {
    const r = await harnessPage().evaluate(async () => {
      const { createEngine, SGD, Adam } = window.webgpuOptim;
      const engine = await createEngine();
      const g = new Float32Array([0.5, -0.5, 0.25]);
      const make = () => {
        const w = engine.parameter(new Float32Array([1, 2, 3]));
        w.grad.write(g);
        return w;
      };
      const sgdW = make();
      const sgd = new SGD([sgdW], { lr: 0.1, momentum: 0.9 });
      sgd.step();
      const sgdState = await sgd.stateDict();
      const w = make();
      const adam = new Adam([w], { lr: 0.1 });
      adam.step();
      const before = await adam.stateDict();
      const attempts = [
        sgdState,
        { ...before, paramGroups: [...before.paramGroups, before.paramGroups[0]!] },
        { ...before, state: { 0: { ...before.state[0]!, expAvg: new Float32Array(2) } } },
        { ...before, state: { 5: before.state[0]! } },
        { ...before, paramGroups: [{ ...before.paramGroups[0]!, betas: [2, 0.9] }] },
      ];
      const messages: string[] = [];
      for (const sd of attempts) {
        try {
          adam.loadStateDict(sd as typeof before);
          messages.push('no error');
        } catch (e) {
          messages.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      // Untouched: one more step equals a twin that never saw the bad dicts.
      const twinW = make();
      const twin = new Adam([twinW], { lr: 0.1 });
      twin.step();
      adam.step();
      twin.step();
      const same = (await w.read()).join() === (await twinW.read()).join();
      engine.dispose();
      return { messages, same };
    });
    expect(r.messages).toEqual([
      'TypeError: Adam.loadStateDict: the dict is from SGD, not Adam; the update rules and state differ, so it cannot be loaded',
      'RangeError: Adam.loadStateDict: 2 param groups, expected 1',
      "RangeError: Adam.loadStateDict: state 'expAvg' of parameter 0 must be a Float32Array of length 3 (or a number array, or the index object JSON.stringify makes of one), got Float32Array(2) [0, 0]",
      'RangeError: Adam.loadStateDict: state for parameter 5, which does not exist',
      'RangeError: Adam: betas[0] must be in [0, 1), got 2',
    ]);
    expect(r.same).toBe(true);
  });
});

it('without skipNonFinite a NaN gradient propagates as in torch.optim; with it the step is skipped', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, SGD, Adam } = window.webgpuOptim;
    const engine = await createEngine();
    const run = async (skipNonFinite: boolean) => {
      const a = engine.parameter(new Float32Array([1, 2, 3, 4]));
      const b = engine.parameter(new Float32Array([5, 6]));
      a.grad.write(new Float32Array([0.5, NaN, 0.5, 0.5]));
      b.grad.write(new Float32Array([0.5, 0.5]));
      const sgd = new SGD([a, b], { lr: 1, skipNonFinite });
      sgd.step();
      return {
        a: Array.from(await a.read()),
        b: Array.from(await b.read()),
        skipped: await sgd.skippedSteps(),
      };
    };
    const adamNaN = async () => {
      const w = engine.parameter(new Float32Array([1, 2]));
      w.grad.write(new Float32Array([Infinity, 1]));
      const adam = new Adam([w], { lr: 0.1 });
      adam.step();
      return Array.from(await w.read()).map(String);
    };
    const out = { plain: await run(false), skipping: await run(true), adam: await adamNaN() };
    engine.dispose();
    return out;
  });
  expect(r.plain).toEqual({ a: [0.5, null, 2.5, 3.5], b: [4.5, 5.5], skipped: 0 }); // NaN serialises as null
  expect(r.skipping).toEqual({ a: [1, 2, 3, 4], b: [5, 6], skipped: 1 });
  expect(r.adam).toEqual(['NaN', '1.899999976158142']);
});

it('a checkpoint whose tensors are at different steps keeps each tensor on its own step count', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, Adam } = window.webgpuOptim;
    const engine = await createEngine();
    const grad = (t: number, n: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.cos(i + t));
    const run = (steps: number, from: number) => {
      const w = engine.parameter(Float32Array.from({ length: 300 }, (_, i) => Math.sin(i)));
      const opt = new Adam([w], { lr: 0.01 });
      for (let t = from; t < from + steps; t++) {
        w.grad.write(grad(t, 300));
        opt.step();
      }
      return { w, opt };
    };
    const x = run(3, 1);
    const y = run(5, 1);
    const sx = await x.opt.stateDict();
    const sy = await y.opt.stateDict();
    // One optimizer over copies of both, from a merged dict: tensor 0 at step 3, tensor 1 at step 5.
    const a = engine.parameter(await x.w.read());
    const b = engine.parameter(await y.w.read());
    const z = new Adam([a, b], { lr: 0.01 });
    z.loadStateDict({
      optimizer: 'Adam',
      state: { 0: sx.state[0]!, 1: sy.state[0]! },
      paramGroups: [{ ...sx.paramGroups[0]!, params: [0, 1] }],
    });
    const g = grad(9, 300);
    for (const w of [x.w, y.w, a, b]) w.grad.write(g);
    x.opt.step();
    y.opt.step();
    z.step();
    const same = async (p: typeof a, q: typeof a) =>
      (await p.read()).join() === (await q.read()).join();
    const out = {
      a: await same(a, x.w),
      b: await same(b, y.w),
      steps: Object.values((await z.stateDict()).state).map((s) => s.step),
    };
    engine.dispose();
    return out;
  });
  expect(r).toEqual({ a: true, b: true, steps: [4, 6] });
});

it("step(encoder) records into the caller's encoder, after the caller's own kernels", async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, Adam } = window.webgpuOptim;
    const engine = await createEngine();
    const n = 1000;
    const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const a = engine.parameter(init);
    const b = engine.parameter(init);
    const optA = new Adam([a], { lr: 0.01 });
    const optB = new Adam([b], { lr: 0.01 });
    // The caller's kernel writes g = 0.5 into b's gradient buffer, in the same encoder as the step.
    const fill = engine.pipelines.get(
      'test/fill-grad',
      `@group(0) @binding(0) var<storage, read_write> g: array<f32>;
       @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
         if (id.x < ${n}u) { g[${b.extents[0]!.gradOffset}u + id.x] = 0.5; } }`,
    );
    const bind = engine.device.createBindGroup({
      layout: fill.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: b.extents[0]!.grad } }],
    });
    for (let t = 0; t < 3; t++) {
      a.grad.write(new Float32Array(n).fill(0.5));
      optA.step();
      const encoder = engine.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(fill);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(Math.ceil(n / 64));
      pass.end();
      optB.step(encoder);
      engine.queue.submit([encoder.finish()]);
    }
    const same = (await a.read()).join() === (await b.read()).join();
    await engine.sync();
    engine.dispose();
    return same;
  });
  expect(r).toBe(true);
});

it('pipelines are cached per device: a second engine on a shared device compiles nothing again', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, Adam } = window.webgpuOptim;
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const run = async () => {
      const engine = await createEngine({ device });
      const w = engine.parameter(new Float32Array(1000).fill(1));
      w.grad.write(new Float32Array(1000).fill(0.5));
      const opt = new Adam([w], { lr: 0.1 });
      const before = engine.pipelines.size;
      opt.step();
      await engine.sync();
      const compiled = engine.pipelines.size - before;
      engine.dispose();
      return compiled;
    };
    const first = await run();
    const second = await run();
    device.destroy();
    return { first, second };
  });
  expect(r.first).toBeGreaterThan(0);
  expect(r.second).toBe(0);
});
