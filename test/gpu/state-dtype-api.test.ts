import { expect, it } from 'vitest';
import { roundTrip } from '../../src/state-dtype.ts';
import { useHarnessPage } from './browser.ts';

/**
 * stateDtype through the public API: stateBytes at 16M per dtype, bad values refused with
 * nothing changed, a dtype change after state refused (and converted through loadStateDict),
 * float32 dicts and safetensors checkpoints across dtypes, raw dicts bit for bit, schedule-free
 * modes leaving 8-bit state untouched, and a param group added into a page with 8-bit state.
 */
const harnessPage = useHarnessPage();
const MiB = 2 ** 20;

it('stateBytes of Adam at 16M: float32 128 MiB, bfloat16 64, float16 96, 8bit <= 34 (codes + absmax + maps)', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const w = engine.parameter(16 * 2 ** 20);
    const out: Record<string, number[]> = {};
    for (const stateDtype of ['float32', 'bfloat16', 'float16', '8bit'] as const) {
      const opt = new api.Adam([w], { stateDtype });
      const before = opt.stateBytes();
      opt.step();
      await engine.sync();
      out[stateDtype] = [before, opt.stateBytes()];
      opt.dispose();
    }
    engine.dispose();
    return out;
  });
  const n = 16 * MiB;
  expect(r).toEqual({
    float32: [0, 128 * MiB],
    bfloat16: [0, 64 * MiB],
    float16: [0, 96 * MiB], // expAvg float16, expAvgSq float32
    '8bit': [0, 2 * ((n / 256) * 65 * 4 + 256 * 4)],
  });
  expect(r['8bit']![1]! / MiB).toBeLessThanOrEqual(34);
});

it('a bad stateDtype or min8bitSize is refused, naming the value and the allowed ones; a step with one changes nothing', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const w = engine.parameter(Float32Array.from({ length: 300 }, (_, i) => Math.sin(i)));
    const out: string[] = [];
    const attempt = (f: () => unknown) => {
      try {
        f();
        out.push('no error');
      } catch (e) {
        out.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    };
    attempt(() => new api.Adam([w], { stateDtype: 'int8' as never }));
    attempt(() => new api.Adam([{ params: [w], stateDtype: 'fp16' as never }]));
    attempt(() => new api.Adam([w], { min8bitSize: -3 }));
    attempt(() => new api.Adam([w], { state_dtype: 'bfloat16' } as never));
    const opt = new api.Adam([w], { stateDtype: 'bfloat16', lr: 0.1 });
    w.grad.write(new Float32Array(300).fill(1));
    opt.step();
    const before = await opt.stateDict();
    const p0 = Array.from(await w.read());
    (opt.paramGroups[0] as { stateDtype: string }).stateDtype = 'bf16';
    attempt(() => opt.step());
    opt.paramGroups[0]!.stateDtype = 'float16';
    attempt(() => opt.step());
    const after = await opt.stateDict();
    const p1 = Array.from(await w.read());
    const same =
      JSON.stringify(p0) === JSON.stringify(p1) &&
      JSON.stringify(Array.from(before.state[0]!.expAvg as Float32Array)) ===
        JSON.stringify(Array.from(after.state[0]!.expAvg as Float32Array)) &&
      after.state[0]!.step === 1;
    // The documented conversion: load the float32 dict back into the group's new stateDtype.
    const bytesBf16 = opt.stateBytes();
    opt.loadStateDict(after);
    const bytesF16 = opt.stateBytes();
    opt.step();
    const converted = await opt.stateDict();
    engine.dispose();
    return {
      out,
      same,
      bytes: [bytesBf16, bytesF16],
      group: converted.paramGroups[0]!.stateDtype,
      step: converted.state[0]!.step,
    };
  });
  expect(r.out).toEqual([
    "RangeError: Adam: stateDtype must be one of 'float32', 'bfloat16', 'float16', '8bit', got string 'int8'",
    "RangeError: Adam: param group 0: stateDtype must be one of 'float32', 'bfloat16', 'float16', '8bit', got string 'fp16'",
    'RangeError: Adam: min8bitSize must be an integer >= 0, got -3',
    "TypeError: Adam: unknown option 'state_dtype' (did you mean 'stateDtype'?)",
    "RangeError: Adam: param group 0: stateDtype must be one of 'float32', 'bfloat16', 'float16', '8bit', got string 'bf16'",
    expect.stringMatching(
      /^RangeError: Adam: param group 0's stateDtype\/min8bitSize changed from bfloat16 to float16 after its state was created; .*loadStateDict\(await opt.stateDict\(\)\)/,
    ),
  ]);
  expect(r.same).toBe(true);
  // 300 elements: bfloat16 2 x 600 bytes; float16 600 (expAvg) + 1200 (expAvgSq float32);
  // buffers are allocated in multiples of 16 bytes (600 -> 608).
  expect(r.bytes).toEqual([2 * 608, 608 + 1200]);
  expect(r.group).toBe('float16');
  expect(r.step).toBe(2);
});

it('float32 dicts and safetensors checkpoints load into every stateDtype (encoded on load) and back', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const n = 5000;
    const init = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    const w = engine.parameter(init);
    const source = new api.Adam([w], { lr: 0.01 });
    for (let t = 1; t <= 4; t++) {
      w.grad.write(Float32Array.from({ length: n }, (_, i) => Math.sin(i * t)));
      source.step();
    }
    const sd = await source.stateDict();
    const out: Record<string, { expAvg: number[]; expAvgSq: number[]; file: number[] }> = {};
    for (const stateDtype of ['bfloat16', 'float16', '8bit'] as const) {
      const opt = new api.Adam([w], { lr: 0.01, stateDtype });
      opt.loadStateDict(sd);
      const got = await opt.stateDict();
      // Through a file: the 8-bit/bfloat16 state saved as float32 loads into float32 exactly.
      const bytes = await api.saveCheckpoint(opt);
      const back = new api.Adam([w], { lr: 0.01 });
      await api.loadCheckpoint(back, bytes);
      const f = await back.stateDict();
      out[stateDtype] = {
        expAvg: Array.from(got.state[0]!.expAvg as Float32Array),
        expAvgSq: Array.from(got.state[0]!.expAvgSq as Float32Array),
        file: Array.from(f.state[0]!.expAvg as Float32Array),
      };
      if (got.paramGroups[0]!.stateDtype !== stateDtype) throw new Error('dict group dtype');
      opt.dispose();
      back.dispose();
    }
    engine.dispose();
    return {
      expAvg: Array.from(sd.state[0]!.expAvg as Float32Array),
      expAvgSq: Array.from(sd.state[0]!.expAvgSq as Float32Array),
      out,
    };
  });
  const s = { bfloat16: ['bf16', 'bf16'], float16: ['f16', 'f32'], '8bit': ['s8', 'u8'] } as const;
  for (const [dtype, [m, v]] of Object.entries(s)) {
    const got = r.out[dtype]!;
    expect(got.expAvg, dtype).toEqual(Array.from(roundTrip(m, r.expAvg, [5000])));
    expect(got.expAvgSq, dtype).toEqual(Array.from(roundTrip(v, r.expAvgSq, [5000])));
    expect(got.file, dtype).toEqual(got.expAvg);
  }
});

it('stateDict({ raw: true }) round-trips bit for bit: one more step after a reload gives identical parameters', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const out: Record<string, unknown> = {};
    for (const stateDtype of ['bfloat16', 'float16', '8bit'] as const) {
      const sizes = [5000, 300, 70000];
      const make = () =>
        sizes.map((n) =>
          engine.parameter(Float32Array.from({ length: n }, (_, i) => Math.cos(i + n))),
        );
      const a = make();
      const b = make();
      const grad = (t: number, n: number) =>
        Float32Array.from({ length: n }, (_, i) => Math.sin(i * t + n));
      const optA = new api.AdamW(a, { lr: 0.01, stateDtype, amsgrad: true });
      for (let t = 1; t <= 3; t++) {
        a.forEach((p) => p.grad.write(grad(t, p.length)));
        optA.step();
      }
      const raw = await optA.stateDict({ raw: true });
      const optB = new api.AdamW(b, { lr: 0.01, stateDtype, amsgrad: true });
      for (const [i, p] of a.entries()) b[i]!.write(await p.read());
      optB.loadStateDict(raw);
      const rawB = await optB.stateDict({ raw: true });
      let sameWords = true;
      for (const [i, entry] of Object.entries(raw.state))
        for (const [k, v] of Object.entries(entry)) {
          const w = rawB.state[Number(i)]![k]!;
          if (typeof v === 'number') sameWords &&= v === w;
          else
            sameWords &&=
              v.constructor === w.constructor &&
              JSON.stringify(Array.from(v)) === JSON.stringify(Array.from(w as Uint32Array));
        }
      for (const [opt, ps] of [
        [optA, a],
        [optB, b],
      ] as const) {
        ps.forEach((p) => p.grad.write(grad(4, p.length)));
        opt.step();
      }
      let sameParams = true;
      for (const [i, p] of a.entries())
        sameParams &&=
          JSON.stringify(Array.from(await p.read())) ===
          JSON.stringify(Array.from(await b[i]!.read()));
      let refused = '';
      try {
        new api.AdamW(b, {
          lr: 0.01,
          amsgrad: true,
          stateDtype: stateDtype === '8bit' ? 'bfloat16' : '8bit',
        }).loadStateDict(raw);
      } catch (e) {
        refused = (e as Error).message;
      }
      out[stateDtype] = {
        sameWords,
        sameParams,
        kinds: Object.values(raw.state[0]!).map((v) =>
          typeof v === 'number' ? 'number' : v.constructor.name,
        ),
        refused,
      };
      optA.dispose();
      optB.dispose();
    }
    engine.dispose();
    return out;
  });
  for (const dtype of ['bfloat16', 'float16', '8bit']) {
    const x = r[dtype] as {
      sameWords: boolean;
      sameParams: boolean;
      kinds: string[];
      refused: string;
    };
    expect(x.sameWords, dtype).toBe(true);
    expect(x.sameParams, dtype).toBe(true);
    expect(x.kinds, dtype).toContain('Uint32Array');
    expect(x.refused, dtype).toMatch(/raw state '\w+' of parameter 0 was saved with stateDtype/);
  }
});

it('schedule-free eval()/train() with 8-bit state move p only: the stored z is untouched', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const engine = await api.createEngine();
    const w = engine.parameter(Float32Array.from({ length: 5000 }, (_, i) => Math.cos(i)));
    const opt = new api.AdamWScheduleFree([w], { lr: 0.01, stateDtype: '8bit' });
    for (let t = 1; t <= 3; t++) {
      w.grad.write(Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * t)));
      opt.step();
    }
    const before = await opt.stateDict({ raw: true });
    opt.eval();
    const during = await opt.stateDict({ raw: true });
    opt.train();
    const after = await opt.stateDict({ raw: true });
    const z = (sd: typeof before) => JSON.stringify(Array.from(sd.state[0]!.z as Uint32Array));
    engine.dispose();
    return [z(before) === z(during), z(before) === z(after), during.trainMode, after.trainMode];
  });
  expect(r).toEqual([true, true, false, true]);
});
