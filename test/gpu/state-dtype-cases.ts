/**
 * In-page cases of the low-precision state suite (test/gpu/state-dtype.test.ts): the kernels'
 * store and load of bfloat16, float16 and 8-bit state, bit for bit against the CPU encoders of
 * src/state-dtype.ts. Nothing here reads browser globals.
 */
import type { Engine } from '../../src/engine.ts';
import { optimizers } from '../../src/optimizers/registry.ts';
import {
  decodeRun,
  encodeRun,
  SIGNED_MAP,
  storageOf,
  tensorDtype,
  type StateDtype,
} from '../../src/state-dtype.ts';
import { STORAGE_USAGE } from '../../src/usage.ts';
import { randomFloats } from './compare.ts';

export interface StorageKernelCase {
  stateDtype: StateDtype;
  sizes: number[];
  /** Wrap caller-owned buffers at these element offsets (the scalar path when misaligned). */
  wrap?: { offset: number; gradOffset: number };
  /** 'SGD' stores the momentum buffer b = g (a signed state), 'Adagrad' sum = g*g (non-negative). */
  optimizer: 'SGD' | 'Adagrad';
}

/**
 * Gradients that probe the formats: random values plus bfloat16 and float16 ties (low bits
 * exactly half way, with odd and even kept parts), float16 subnormals and overflow, zeros and
 * signed zeros, and in one 256-block the 8-bit map values themselves and values between them
 * (absmax 1: a map value keeps its code, the others round stochastically).
 */
export function probeGradient(n: number, seed: number): Float32Array {
  const g = randomFloats(n, seed);
  const specials: number[] = [];
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (const hi of [0x3f80, 0x3f81, 0xbf80, 0xbf81, 0x4000, 0x3c01]) {
    bits[0] = (hi << 16) | 0x8000; // bfloat16 tie
    specials.push(f[0]!);
  }
  for (const m of [0x3c00, 0x3c01]) {
    bits[0] = 0x3f800000 | (m === 0x3c00 ? 0x1000 : 0x3000); // float16 ties (even, odd)
    specials.push(f[0]!);
    specials.push(-f[0]!);
  }
  specials.push(3e-6, -4.5e-7, 1e-8, 6e-8, 65519, -65520, 70000, 0, -0);
  for (let i = 0; i < n && i < specials.length; i++) g[i] = specials[i]!;
  if (n >= 512) {
    // Block 1 (elements 256..511): absmax exactly 1, map values and their midpoints.
    g[256] = 1;
    for (let i = 257; i < 512; i++) {
      const k = (i * 37) % 255;
      g[i] = i % 2 ? SIGNED_MAP[k]! : (SIGNED_MAP[k]! + SIGNED_MAP[k + 1]!) / 2;
    }
  }
  return g;
}

/**
 * Step 1 stores a state computed exactly in float32 (SGD b = g, Adagrad sum = g*g); step 2,
 * with a zero gradient, loads it and stores it again (SGD b = 0.5*b, Adagrad sum = sum). The
 * stored words of both steps (stateDict({ raw: true })) must equal the CPU encoders' words, and
 * the float32 dict the CPU decoding. Returns a description of each mismatch.
 */
export async function runStorageKernelCase(
  c: StorageKernelCase,
  engineFor: () => Promise<Engine>,
): Promise<string[]> {
  const engine = await engineFor();
  const owned: GPUBuffer[] = [];
  const params = c.sizes.map((n) => {
    if (!c.wrap) return engine.parameter(new Float32Array(n));
    const param = engine.device.createBuffer({
      label: 'caller-param',
      size: (c.wrap.offset + n + 3) * 4,
      usage: STORAGE_USAGE,
    });
    const grad = engine.device.createBuffer({
      label: 'caller-grad',
      size: (c.wrap.gradOffset + n + 3) * 4,
      usage: STORAGE_USAGE,
    });
    owned.push(param, grad);
    return engine.parameter(param, {
      offset: c.wrap.offset * 4,
      length: n,
      grad,
      gradOffset: c.wrap.gradOffset * 4,
    });
  });
  const options = { lr: 1, stateDtype: c.stateDtype, min8bitSize: 0 };
  const opt =
    c.optimizer === 'SGD'
      ? new optimizers.SGD(params, { ...options, momentum: 0.5 })
      : new optimizers.Adagrad(params, options);
  const name = c.optimizer === 'SGD' ? 'momentumBuffer' : 'sum';
  const out: string[] = [];
  try {
    const grads = params.map((p, i) => probeGradient(p.length, 11 + i));
    params.forEach((p, i) => p.grad.write(grads[i]!));
    opt.step();
    const expected1 = grads.map((g) =>
      c.optimizer === 'SGD' ? g : g.map((x) => Math.fround(x * x)),
    );
    const words1 = await check(1, expected1);
    params.forEach((p) => p.grad.write(new Float32Array(p.length)));
    opt.step();
    const expected2 = params.map((_, i) => {
      const v = decodeAll(i, words1[i]!);
      // b = 0.5*b + 1*0: a -0 comes back +0 (-0 + 0 = +0), as in float32 on the GPU.
      return c.optimizer === 'SGD' ? v.map((x) => Math.fround(0.5 * x) + 0) : v.map((x) => x + 0);
    });
    await check(2, expected2);
  } finally {
    opt.dispose();
    for (const p of params) p.dispose();
    for (const b of owned) b.destroy();
  }
  return out;

  function storage(i: number) {
    return storageOf(tensorDtype(options, params[i]!.length), name);
  }
  function runs(i: number) {
    return params[i]!.extents.map((e) => e.length);
  }
  function encodeAll(i: number, values: Float32Array, t = 0): Uint32Array {
    const parts: number[] = [];
    let at = 0;
    for (const n of runs(i)) {
      parts.push(...encodeRun(storage(i), values.subarray(at, at + n), t));
      at += n;
    }
    return Uint32Array.from(parts);
  }
  function decodeAll(i: number, words: Uint32Array): Float32Array {
    const out = new Float32Array(params[i]!.length);
    let at = 0;
    let w = 0;
    for (const n of runs(i)) {
      const k = encodeRun(storage(i), new Float32Array(n)).length;
      out.set(decodeRun(storage(i), words.subarray(w, w + k), n), at);
      at += n;
      w += k;
    }
    return out;
  }
  async function check(step: number, expected: Float32Array[]): Promise<Uint32Array[]> {
    const raw = await opt.stateDict({ raw: true });
    const sd = await opt.stateDict();
    return params.map((p, i) => {
      const got = raw.state[i]![name];
      const want = encodeAll(i, expected[i]!, step);
      const gotWords =
        got instanceof Uint32Array ? got : new Uint32Array((got as Float32Array).buffer.slice(0)); // float32 state
      const bad = want.findIndex((w, k) => gotWords[k] !== w);
      if (gotWords.length !== want.length || bad >= 0)
        out.push(
          `step ${step} tensor ${i} (${p.length}, ${storage(i)}): word ${bad} got 0x${gotWords[bad]?.toString(16)} expected 0x${want[bad]?.toString(16)} (${gotWords.length} vs ${want.length} words)`,
        );
      const decoded = decodeAll(i, want);
      const values = sd.state[i]![name] as Float32Array;
      const badValue = decoded.findIndex((v, k) => !Object.is(v, values[k]));
      if (badValue >= 0)
        out.push(
          `step ${step} tensor ${i}: stateDict value ${badValue} got ${values[badValue]} expected ${decoded[badValue]}`,
        );
      return gotWords.slice();
    });
  }
}
