import { describe, expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * The engine at its edges: arguments that used to hang or be accepted, device loss, leaks,
 * clipping handles, listeners. Each bad call throws a named error before any GPU work.
 */
const harnessPage = useHarnessPage();

describe('createEngine validates its options before any GPU work (these used to hang)', () => {
  it.each([
    [
      { limits: { maxBufferSize: 8 } },
      'RangeError',
      /limits\.maxBufferSize must be an integer >= 16, got 8/,
    ],
    [
      { limits: { maxStorageBufferBindingSize: 0 } },
      'RangeError',
      /limits\.maxStorageBufferBindingSize must be an integer >= 16, got 0/,
    ],
    [
      { limits: { maxComputeWorkgroupsPerDimension: 0 } },
      'RangeError',
      /limits\.maxComputeWorkgroupsPerDimension must be an integer >= 1, got 0/,
    ],
    [{ pageBytes: 0 }, 'RangeError', /pageBytes must be an integer >= 16, got 0/],
    [{ pageBytes: 1.5 }, 'RangeError', /pageBytes must be an integer >= 16, got 1.5/],
    [
      { limits: { maxBufferSize: 2 ** 40 } },
      'RangeError',
      /limits\.maxBufferSize 1099511627776 is above the device's \d+/,
    ],
    [
      { limits: { maxBufferSise: 1024 } },
      'TypeError',
      /unknown limit 'maxBufferSise' \(did you mean 'maxBufferSize'\?\)/,
    ],
    [{ pageByte: 4096 }, 'TypeError', /unknown option 'pageByte' \(did you mean 'pageBytes'\?\)/],
    [{ featureLevel: 'compat' }, 'RangeError', /featureLevel must be 'core' or 'compatibility'/],
    [null, 'TypeError', /createEngine: options must be an object, got null/],
  ] as const)('%j', async (options, name, message) => {
    const r = await harnessPage().evaluate(async (options) => {
      const { createEngine } = window.webgpuOptim;
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 5000));
      const attempt = createEngine(options as never).then(
        (e) => {
          e.dispose();
          return 'no error';
        },
        (e: Error) => `${e.name}: ${e.message}`,
      );
      return Promise.race([attempt, timeout]);
    }, options);
    expect(r.startsWith(`${name}: `), r).toBe(true);
    expect(r).toMatch(message);
  });
});

describe('engine.parameter rejects bad arguments and allocates nothing', () => {
  it.each([
    ['2**53', /length 9007199254740992 is more than the 4294967296 elements/, 'RangeError'],
    [
      '2**40',
      /length 1099511627776 is more than the 4294967296 elements .*maxBufferSize|largest buffer is \d+ bytes/,
      'RangeError',
    ],
    [
      'null',
      /expected a Float32Array of values, a length, or a GPUBuffer to wrap, got null/,
      'TypeError',
    ],
    ["'4'", /got string '4'/, 'TypeError'],
    ['[1, 2, 3]', /got array\(3\) \[1, 2, 3\]/, 'TypeError'],
    ['0', /length must be a positive integer, got 0/, 'RangeError'],
    ['1.5', /length must be a positive integer, got 1.5/, 'RangeError'],
    ['NaN', /length must be a positive integer, got NaN/, 'RangeError'],
    ['new Float32Array(0)', /length must be a positive integer, got 0/, 'RangeError'],
    ['new Float64Array(3)', /got Float64Array\(3\) \[0, 0, 0\]/, 'TypeError'],
    ['new Float32Array(3), { grad: buffer }', /unknown option 'grad'/, 'TypeError'],
    ['buffer, { offest: 4 }', /unknown option 'offest' \(did you mean 'offset'\?\)/, 'TypeError'],
    ["buffer, { grad: 'g' }", /grad must be a GPUBuffer, got string 'g'/, 'TypeError'],
    [
      'buffer, { offset: 2 }',
      /offset must be a non-negative multiple of 4 bytes, got 2/,
      'RangeError',
    ],
    ['new Float32Array(3), { label: 5 }', /label must be a string, got 5/, 'TypeError'],
    ['new Float32Array(3), null', /options must be an object, got null/, 'TypeError'],
    [
      'new Float32Array(6), { shape: [2, 4] }',
      /shape \[2, 4\] holds 8 elements, the tensor has 6/,
      'RangeError',
    ],
    ['6, { shape: [2, -3] }', /shape must be a non-empty array of positive integers/, 'RangeError'],
    ["6, { shape: '2x3' }", /shape must be a non-empty array .* got string '2x3'/, 'RangeError'],
  ] as const)('engine.parameter(%s)', async (args, message, name) => {
    const r = await harnessPage().evaluate(async (args) => {
      const { createEngine } = window.webgpuOptim;
      const counting = await window.harness.countingDevice();
      const engine = await createEngine({ device: counting.device });
      const buffer = counting.device.createBuffer({
        size: 64,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      const before = counting.liveBuffers().length;
      let error = 'no error';
      const start = performance.now();
      try {
        new Function('engine', 'buffer', `engine.parameter(${args})`)(engine, buffer);
      } catch (e) {
        error = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const ms = performance.now() - start;
      const allocated = counting.liveBuffers().length - before;
      buffer.destroy();
      engine.dispose();
      counting.device.destroy();
      return { error, allocated, ms };
    }, args);
    expect(r.error.startsWith(`${name}: `), r.error).toBe(true);
    expect(r.error).toMatch(message);
    expect(r.error.length, 'a short message').toBeLessThan(400);
    expect(r.allocated, 'buffers allocated by the failed call').toBe(0);
    expect(r.ms).toBeLessThan(1000);
  });
});

describe('device loss', () => {
  it.each(['owned', 'shared'] as const)(
    '%s device: engine.lost resolves, and every later call throws DeviceLostError',
    async (kind) => {
      const r = await harnessPage().evaluate(async (kind) => {
        const api = window.webgpuOptim;
        const device =
          kind === 'shared'
            ? await (await navigator.gpu.requestAdapter())!.requestDevice()
            : undefined;
        const engine = await api.createEngine(device ? { device } : {});
        const w = engine.parameter(new Float32Array([1, 2, 3]));
        w.grad.write(new Float32Array([1, 1, 1]));
        const opt = new api.Adam([w], { lr: 0.1, skipNonFinite: true });
        opt.step();
        const sd = await opt.stateDict();
        const inFlight = w.read().then(
          () => 'resolved',
          (e: Error) => e.name,
        );
        engine.device.destroy(); // as another library, a driver reset or the browser would
        const lost = await engine.lost;
        const calls: Record<string, () => unknown> = {
          'engine.parameter': () => engine.parameter(3),
          'engine.sync': () => engine.sync(),
          'parameter.read': () => w.read(),
          'parameter.write': () => w.write(new Float32Array(3)),
          'grad.write': () => w.grad.write(new Float32Array(3)),
          'grad.read': () => w.grad.read(),
          'grad.zero': () => w.grad.zero(),
          'opt.step': () => opt.step(),
          'opt.zeroGrad': () => opt.zeroGrad(),
          'opt.stateDict': () => opt.stateDict(),
          'opt.loadStateDict': () => opt.loadStateDict(sd),
          'opt.skippedSteps': () => opt.skippedSteps(),
          'new Adam': () => new api.Adam([w]),
          clipGradNorm: () => api.clipGradNorm([w], 1),
          clipGradValue: () => api.clipGradValue([w], 1),
        };
        const results: Record<string, string> = {};
        for (const [name, call] of Object.entries(calls)) {
          try {
            await call();
            results[name] = 'no error';
          } catch (e) {
            results[name] = (e as Error).name;
          }
        }
        opt.dispose(); // disposing after loss is allowed
        w.dispose();
        engine.dispose();
        return {
          lost: { name: lost.name, reason: lost.reason, message: lost.message },
          results,
          inFlight: await inFlight,
        };
      }, kind);
      expect(r.lost.name).toBe('DeviceLostError');
      expect(r.lost.reason).toBe('destroyed');
      expect(r.lost.message).toMatch(/the GPU device was lost \(destroyed/);
      for (const [name, result] of Object.entries(r.results))
        expect(result, name).toBe('DeviceLostError');
      expect(['resolved', 'DeviceLostError']).toContain(r.inFlight);
    },
  );

  it('recovery: a new engine, new parameters and loadCheckpoint continue bit-identically', async () => {
    const r = await harnessPage().evaluate(async () => {
      const api = window.webgpuOptim;
      const grad = (t: number) => Float32Array.from({ length: 1030 }, (_, i) => Math.sin(i * t));
      const init = Float32Array.from({ length: 1030 }, (_, i) => Math.cos(i));
      const run = async (engine: Awaited<ReturnType<typeof api.createEngine>>, steps: number) => {
        const w = engine.parameter(init);
        const opt = new api.AdamW([w], { lr: 0.01, skipNonFinite: true });
        for (let t = 1; t <= steps; t++) {
          w.grad.write(grad(t));
          opt.step();
        }
        return { w, opt };
      };
      // Uninterrupted: 6 steps.
      const a = await api.createEngine();
      const ref = await run(a, 6);
      const expected = await ref.w.read();
      a.dispose();
      // 5 steps, save, lose the device, recover on a new one, step 6.
      const b = await api.createEngine();
      const { opt } = await run(b, 5);
      const bytes = await api.saveCheckpoint(opt, { params: true });
      b.device.destroy();
      await b.lost;
      const c = await api.createEngine();
      const w2 = c.parameter(1030);
      const opt2 = new api.AdamW([w2], { lr: 0.01, skipNonFinite: true });
      await api.loadCheckpoint(opt2, bytes);
      w2.grad.write(grad(6));
      opt2.step();
      const got = await w2.read();
      c.dispose();
      b.dispose();
      return expected.every((v, i) => Object.is(v, got[i]));
    });
    expect(r).toBe(true);
  });
});

it('no leaks: 1,000 cycles of parameter + optimizer (elementwise and shaped) + clip + step + dispose leave no live buffer', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const counting = await window.harness.countingDevice();
    const engine = await api.createEngine({ device: counting.device });
    const baseline = counting.liveBuffers().length;
    let worst = 0;
    // Shaped rules too (their passes own sums, uniforms and work buffers): matrices for all.
    const names = ['SGD', 'Adam', 'LAMB', 'Adagrad', 'Adafactor', 'Muon'] as const;
    for (let cycle = 0; cycle < 1000; cycle++) {
      const n = 1 + (cycle % 300);
      const a = engine.parameter(new Float32Array(n).fill(0.5), { shape: [n, 1] });
      const b = engine.parameter(7, { shape: [1, 7] });
      a.grad.write(new Float32Array(a.length).fill(0.25));
      const Opt = api.optimizers[names[cycle % names.length]!];
      const opt = new Opt([a, b], { lr: 0.01, skipNonFinite: cycle % 2 === 0 });
      const norm = api.clipGradNorm([a, b], 1);
      api.clipGradValue([a], 0.1);
      opt.step();
      if (cycle % 100 === 0) await norm.read();
      opt.dispose();
      a.dispose();
      b.dispose();
      if (cycle % 100 === 99) {
        // Old buffers of moved parameters go once their copies are known to have succeeded.
        await engine.sync();
        worst = Math.max(worst, counting.liveBuffers().length - baseline);
      }
    }
    await engine.sync();
    const afterCycles = counting.liveBuffers();
    const listeners = counting.listeners();
    engine.dispose();
    const afterDispose = counting.liveBuffers();
    const listenersAfter = counting.listeners();
    counting.device.destroy();
    return { baseline, worst, afterCycles, afterDispose, listeners, listenersAfter };
  });
  expect(r.afterCycles, 'live after the cycles').toEqual([]);
  expect(r.afterDispose, 'live after engine.dispose()').toEqual([]);
  expect(r.worst, 'most buffers alive after a cycle, once the GPU caught up').toBe(0);
  // Every engine call runs in error scopes: on an adopted device, uncaptured errors are another
  // library's, so the engine does not listen for them.
  expect(r.listeners).toBe(0);
  expect(r.listenersAfter).toBe(0);
});

it('engine.dispose() frees live parameters, optimizers and caches on a shared device', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const counting = await window.harness.countingDevice();
    const engines = await Promise.all(
      [1, 2, 3].map(() => api.createEngine({ device: counting.device })),
    );
    for (const engine of engines) {
      const w = engine.parameter(new Float32Array(100).fill(1));
      const opt = new api.Adam([w]);
      api.clipGradNorm([w], 1);
      opt.step();
    }
    const listeners = counting.listeners();
    for (const engine of engines) engine.dispose();
    const live = counting.liveBuffers();
    const after = counting.listeners();
    counting.device.destroy();
    return { listeners, after, live };
  });
  expect(r.listeners).toBe(0);
  expect(r.after).toBe(0);
  expect(r.live).toEqual([]);
});

it("clipGradNorm handles read their own call's norm, however many calls came after", async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const w = engine.parameter(16);
    const handles: Array<{ read(): Promise<number> }> = [];
    for (let k = 1; k <= 150; k++) {
      w.grad.write(new Float32Array(16).fill(k)); // norm = 4k
      const handle = api.clipGradNorm([w], 1e9);
      if (k % 3 === 0) handles.push(handle); // others are dropped unread
      if (k === 70) await handles[0]!.read(); // one read in the middle
    }
    const norms = await Promise.all(handles.map((h) => h.read()));
    engine.dispose();
    return norms;
  });
  expect(r).toEqual(Array.from({ length: 50 }, (_, i) => 4 * 3 * (i + 1)));
});

it('moving parameters into pages keeps their values when the copy fails', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const counting = await window.harness.countingDevice();
    const engine = await api.createEngine({ device: counting.device });
    const w = engine.parameter(new Float32Array([1, 2, 3]));
    const v = engine.parameter(new Float32Array([4, 5]));
    counting.failBuffers(/\/page/); // the pages cannot be allocated
    const opt = new api.SGD([w, v], { lr: 0.1 });
    counting.failBuffers(undefined);
    let error = 'no error';
    try {
      await engine.sync();
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const values = [...(await w.read()), ...(await v.read())];
    const ownership = [w.ownership, v.ownership];
    opt.dispose();
    engine.dispose();
    counting.device.destroy();
    return { error, values, ownership };
  });
  expect(r.error).toMatch(/^GPUOperationError: sgd\/pack: moving parameters into pages failed/);
  expect(r.values).toEqual([1, 2, 3, 4, 5]);
  expect(r.ownership).toEqual(['engine', 'engine']);
});

it('parameters carry their shape (default [length]), wrapped ones too', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const a = engine.parameter(new Float32Array(6), { shape: [2, 3] });
    const b = engine.parameter(5);
    const buffer = engine.device.createBuffer({
      size: 64,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const c = engine.parameter(buffer, { length: 12, shape: [3, 2, 2] });
    const out = {
      a: [...a.shape],
      b: [...b.shape],
      c: [...c.shape],
      frozen: Object.isFrozen(a.shape),
    };
    engine.dispose();
    buffer.destroy();
    return out;
  });
  expect(r).toEqual({ a: [2, 3], b: [5], c: [3, 2, 2], frozen: true });
});

it("another library's uncaptured error on an adopted device is not reported as the engine's", async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    let seen = 0;
    device.addEventListener('uncapturederror', () => seen++);
    const engine = await api.createEngine({ device });
    const w = engine.parameter(new Float32Array([1, 2, 3]));
    w.grad.write(new Float32Array([1, 1, 1]));
    const opt = new api.SGD([w], { lr: 0.5 });
    // Another library's mistake on the shared device: a buffer larger than the device allows.
    device.createBuffer({ size: 2 ** 52, usage: GPUBufferUsage.STORAGE });
    opt.step();
    let error = 'no error';
    try {
      await engine.sync();
    } catch (e) {
      error = (e as Error).message;
    }
    const values = Array.from(await w.read());
    engine.dispose();
    device.destroy();
    return { error, values, seen };
  });
  expect(r.error).toBe('no error');
  expect(r.values).toEqual([0.5, 1.5, 2.5]);
  expect(r.seen, "the other library's own listener still sees it").toBe(1);
});

it("the engine's own errors on an adopted device are still thrown, with the label", async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const engine = await api.createEngine({ device });
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = device.createBuffer({ size: 64, usage });
    const w = engine.parameter(buffer, { length: 4, label: 'wrapped' });
    buffer.destroy(); // the caller destroys a buffer the engine still steps
    let error = 'no error';
    try {
      w.write(new Float32Array(4));
      await engine.sync();
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    engine.dispose();
    device.destroy();
    return error;
  });
  expect(r).toMatch(/^GPUOperationError: wrapped: /);
});
