/**
 * The host side of low-precision state (src/state-dtype.ts): the bfloat16 and float16 encoders
 * (rounding, ties, NaN/Inf, subnormals), bitsandbytes' dynamic maps, the 8-bit quantizer (nearest
 * entry, tie rule, absmax blocks, padding), buffer sizes and option checks.
 */
import { describe, expect, it } from 'vitest';
import {
  bfloat16Nearest,
  bfloat16Threshold,
  bufferBytes,
  createDynamicMap,
  decodeRun,
  encodeRun,
  fromBfloat16,
  fromFloat16,
  QUANT_BLOCK,
  QUANT_BLOCK_WORDS,
  quantizeCode,
  roundingFraction,
  roundTrip,
  SIGNED_MAP,
  storageOf,
  tensorDtype,
  toBfloat16,
  toFloat16,
  UNSIGNED_MAP,
  unitRoundoff,
  validateStorage,
} from '../../src/state-dtype.ts';
import { randomFloats } from '../gpu/compare.ts';

const bitsToF32 = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0]!;

describe('bfloat16', () => {
  it('nearest (the reference rounding): ties to even', () => {
    expect(bfloat16Nearest(1)).toBe(0x3f80);
    expect(bfloat16Nearest(bitsToF32(0x3f807fff))).toBe(0x3f80); // below half
    expect(bfloat16Nearest(bitsToF32(0x3f808000))).toBe(0x3f80); // tie, even kept
    expect(bfloat16Nearest(bitsToF32(0x3f818000))).toBe(0x3f82); // tie, odd rounds up
    expect(bfloat16Nearest(bitsToF32(0x3f808001))).toBe(0x3f81); // above half
    expect(bfloat16Nearest(bitsToF32(0x7f7fffff))).toBe(0x7f80); // largest float32: Inf
  });
  it('stored (stochastic): one of the two neighbours, up with probability = the fraction', () => {
    let up = 0;
    const n = 20000;
    for (let k = 0; k < n; k++) {
      const lo = 0x3f80 + (k % 100);
      const frac = 0x4000 + (k % 7); // a quarter of the way to the next value
      const h = toBfloat16(bitsToF32((lo << 16) | frac));
      expect([lo, lo + 1]).toContain(h);
      if (h === lo + 1) up++;
    }
    expect(up / n).toBeGreaterThan(0.23);
    expect(up / n).toBeLessThan(0.27);
  });
  it('stored: unbiased, so a beta2 = 0.999 EMA keeps decaying where nearest freezes it', () => {
    let nearest = 1;
    let stored = 1;
    for (let t = 0; t < 2000; t++) {
      nearest = fromBfloat16(bfloat16Nearest(0.999 * nearest));
      stored = fromBfloat16(toBfloat16(0.999 * stored, t + 1));
    }
    expect(nearest).toBe(1); // 0.999 is within half an ulp of 1: never moves
    expect(stored / 0.999 ** 2000).toBeGreaterThan(0.8);
    expect(stored / 0.999 ** 2000).toBeLessThan(1.25);
  });
  it('keeps Inf, NaN (quiet) and signed zeros; the threshold is the kernels hash', () => {
    for (const enc of [toBfloat16, bfloat16Nearest]) {
      expect(enc(Infinity)).toBe(0x7f80);
      expect(enc(-Infinity)).toBe(0xff80);
      expect(Number.isNaN(fromBfloat16(enc(NaN)))).toBe(true);
      expect(Number.isNaN(fromBfloat16(enc(bitsToF32(0x7f800001))))).toBe(true);
      expect(enc(-0)).toBe(0x8000);
    }
    expect(Object.is(fromBfloat16(0x8000), -0)).toBe(true);
    expect(bfloat16Threshold(0)).toBe(0);
    expect(bfloat16Threshold(0x3f800001)).not.toBe(bfloat16Threshold(0x3f800002));
    expect(bfloat16Threshold(0x3f800001, 1)).not.toBe(bfloat16Threshold(0x3f800001, 2));
  });
  it('decodes every non-NaN pattern exactly (encode(decode(h)) = h, both roundings)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = fromBfloat16(h);
      if (Number.isNaN(x)) continue;
      expect(toBfloat16(x)).toBe(h);
      expect(bfloat16Nearest(x)).toBe(h);
    }
  });
  it('round trip error < 2^-7 |x| stochastic (one ulp), <= 2^-8 |x| nearest', () => {
    for (const x of randomFloats(10000, 3, 1000)) {
      expect(Math.abs(fromBfloat16(toBfloat16(x)) - x)).toBeLessThan(2 ** -7 * Math.abs(x));
      expect(Math.abs(fromBfloat16(bfloat16Nearest(x)) - x)).toBeLessThanOrEqual(
        2 ** -8 * Math.abs(x),
      );
    }
  });
});

describe('float16', () => {
  it('rounds to nearest even, saturating to Inf from 65520 on', () => {
    expect(toFloat16(1)).toBe(0x3c00);
    expect(toFloat16(bitsToF32(0x3f801000))).toBe(0x3c00); // tie, even kept
    expect(toFloat16(bitsToF32(0x3f803000))).toBe(0x3c02); // tie, odd rounds up
    expect(toFloat16(65504)).toBe(0x7bff);
    expect(toFloat16(65519)).toBe(0x7bff);
    expect(toFloat16(65520)).toBe(0x7c00);
    expect(toFloat16(-1e6)).toBe(0xfc00);
    expect(toFloat16(Infinity)).toBe(0x7c00);
    expect(toFloat16(NaN)).toBe(0x7e00);
  });
  it('rounds subnormals to nearest even', () => {
    expect(toFloat16(2 ** -24)).toBe(1);
    expect(toFloat16(2 ** -25)).toBe(0); // tie between 0 and 1: even
    expect(toFloat16(3 * 2 ** -25)).toBe(2); // tie between 1 and 2: even
    expect(toFloat16(2 ** -25 * 1.0001)).toBe(1);
    expect(toFloat16(2 ** -14)).toBe(0x0400); // smallest normal
    expect(toFloat16(2 ** -14 - 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(toFloat16(-(2 ** -24))).toBe(0x8001);
    expect(toFloat16(1e-9)).toBe(0);
  });
  it('decodes every non-NaN pattern exactly (encode(decode(h)) = h)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = fromFloat16(h);
      if (!Number.isNaN(x)) expect(toFloat16(Math.fround(x))).toBe(h);
    }
  });
  it('round trip error <= 2^-11 |x| in the normal range', () => {
    for (const x of randomFloats(10000, 4, 60000)) {
      if (Math.abs(x) < 2 ** -14) continue;
      const y = fromFloat16(toFloat16(x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(2 ** -11 * Math.abs(x));
    }
  });
});

describe('dynamic maps (bitsandbytes create_dynamic_map)', () => {
  it.each([
    ['signed', SIGNED_MAP],
    ['unsigned', UNSIGNED_MAP],
  ] as const)('%s: 256 strictly increasing values with 0 and 1', (kind, map) => {
    expect(map.length).toBe(256);
    for (let k = 1; k < 256; k++) expect(map[k]!).toBeGreaterThan(map[k - 1]!);
    expect(map).toContain(0);
    expect(map[255]).toBe(1);
    if (kind === 'unsigned') expect(map[0]).toBe(0);
  });
  it('signed: symmetric but for 1, from -0.99297 (the last midpoint of the top decade)', () => {
    const pos = [...SIGNED_MAP].filter((x) => x > 0 && x < 1);
    const neg = [...SIGNED_MAP].filter((x) => x < 0).map((x) => -x);
    expect(pos.length).toBe(127);
    expect(neg.sort()).toEqual(pos.sort());
    expect(SIGNED_MAP[0]).toBeCloseTo(-(1 - 0.9 / 128), 6);
  });
  it('per decade 10^(i-6), i = 0..6: 2^i (signed) or 2^(i+1) (unsigned) values', () => {
    for (let i = 0; i < 7; i++) {
      const inDecade = (x: number) => x >= 10 ** (i - 7) && x < 10 ** (i - 6);
      expect([...SIGNED_MAP].filter(inDecade).length).toBe(2 ** i);
      expect([...UNSIGNED_MAP].filter(inDecade).length).toBe(2 ** (i + 1));
    }
    expect(SIGNED_MAP.filter((x) => x > 0)[0]).toBeCloseTo(0.55e-6, 12);
  });
  it('is rebuilt identically', () => {
    expect(createDynamicMap(true)).toEqual(SIGNED_MAP);
    expect(createDynamicMap(false)).toEqual(UNSIGNED_MAP);
  });
});

describe('8-bit quantizer', () => {
  const map = SIGNED_MAP;
  const zero = SIGNED_MAP.indexOf(0);
  it('picks one of the two scaled neighbours of v (the nearer one for signed codes)', () => {
    const a = 3.7;
    for (const [k, v] of randomFloats(20000, 9, a).entries()) {
      const x = Math.fround(v);
      const c = quantizeCode(x, Math.fround(a), map, k);
      const dist = (i: number) => Math.abs(map[i]! * Math.fround(a) - x);
      expect(dist(c)).toBeLessThanOrEqual(
        Math.min(dist(Math.max(0, c - 1)), dist(Math.min(255, c + 1))) + 1e-6 * a,
      );
      const scaled = (i: number) => Math.fround(map[i]! * Math.fround(a));
      const lo = [...map.keys()].filter((i) => scaled(i) <= x).pop() ?? 0;
      expect([lo, Math.min(255, lo + 1)]).toContain(c);
    }
  });
  it('keeps map values exact; signed codes round to nearest (ties down), unsigned without bias', () => {
    for (let k = 0; k < 256; k++) {
      expect(quantizeCode(map[k]!, 1, map, k)).toBe(k);
      expect(quantizeCode(UNSIGNED_MAP[k]!, 1, UNSIGNED_MAP, k, true)).toBe(k);
    }
    const between = (m: Float32Array, k: number, f: number) =>
      Math.fround(m[k]! + f * (m[k + 1]! - m[k]!));
    for (let t = 0; t < 50; t++) {
      expect(quantizeCode(between(map, 200, 0.25), 1, map, t)).toBe(200);
      expect(quantizeCode(between(map, 200, 0.75), 1, map, t)).toBe(201);
      expect(quantizeCode(between(map, 40, 0.25), 1, map, t)).toBe(40); // negative side
    }
    const tie = Math.fround((map[200]! + map[201]!) / 2);
    expect(quantizeCode(tie, 1, map)).toBe(200);
    // A quarter of the way from UNSIGNED_MAP[200] to [201]: up about a quarter of the time.
    const x = between(UNSIGNED_MAP, 200, 0.25);
    let up = 0;
    for (let t = 0; t < 4000; t++) up += quantizeCode(x, 1, UNSIGNED_MAP, t, true) === 201 ? 1 : 0;
    expect(up / 4000).toBeGreaterThan(0.22);
    expect(up / 4000).toBeLessThan(0.28);
  });
  it('an EMA with beta2 = 0.999 keeps decaying (nearest codes would freeze it)', () => {
    let v = UNSIGNED_MAP[200]!;
    const start = v;
    let nearest = start;
    for (let t = 1; t <= 1000; t++) {
      v = UNSIGNED_MAP[quantizeCode(0.999 * v, 1, UNSIGNED_MAP, t, true)]!;
      nearest = UNSIGNED_MAP[quantizeCode(0.999 * nearest, 1, UNSIGNED_MAP, t)]!;
    }
    expect(nearest).toBe(start);
    expect(v / (start * 0.999 ** 1000)).toBeGreaterThan(0.7);
    expect(v / (start * 0.999 ** 1000)).toBeLessThan(1.4);
  });
  it('codes 0 as the map 0 for every absmax, 0 included; +-absmax as the ends', () => {
    for (const a of [0, 1e-30, 1, 1e30]) expect(quantizeCode(0, a, map)).toBe(zero);
    expect(quantizeCode(2.5, 2.5, map)).toBe(255);
    expect(quantizeCode(-2.5, 2.5, map)).toBe(0);
    expect(roundingFraction(0x3f800000, 1)).toBeGreaterThanOrEqual(0);
    expect(roundingFraction(0xffffffff, 7)).toBeLessThan(1);
  });
  it('blocks of 256: absmax per block, padding codes 0, error <= 2u * absmax (one code gap)', () => {
    const n = 3 * QUANT_BLOCK + 17;
    const x = randomFloats(n, 21);
    for (let i = 256; i < 512; i++) x[i]! *= 1e-4; // a block of small values keeps its precision
    const words = encodeRun('s8', x);
    expect(words.length).toBe(4 * QUANT_BLOCK_WORDS);
    const f = new Float32Array(words.buffer);
    const y = decodeRun('s8', words, n);
    const u = unitRoundoff('s8');
    for (let b = 0; b < 4; b++) {
      const block = x.subarray(b * 256, Math.min(n, b * 256 + 256));
      const a = Math.max(...block.map(Math.abs));
      expect(f[b * QUANT_BLOCK_WORDS + 64]).toBe(a);
      for (let i = b * 256; i < Math.min(n, b * 256 + 256); i++)
        expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(2 * u * a * (1 + 1e-5));
    }
    // The last block's padding (elements n..1023) codes the map's 0.
    const last = 3 * QUANT_BLOCK_WORDS;
    for (let i = n - 3 * 256; i < 256; i++)
      expect((words[last + (i >> 2)]! >>> ((i & 3) * 8)) & 255).toBe(zero);
  });
  it('unsigned map for non-negative states, error <= 2u * absmax', () => {
    const x = randomFloats(1000, 5).map((v) => v * v);
    const y = roundTrip('u8', x, [1000]);
    const u = unitRoundoff('u8');
    for (let b = 0; b < 1000; b += 256) {
      const a = Math.max(...x.subarray(b, b + 256));
      for (let i = b; i < Math.min(1000, b + 256); i++)
        expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(2 * u * a * (1 + 1e-5));
    }
    expect(u).toBeLessThan(unitRoundoff('s8'));
  });
  it('restarts blocks at each run (extent)', () => {
    const x = randomFloats(600, 8);
    const whole = roundTrip('s8', x, [600]);
    const split = roundTrip('s8', x, [300, 300]);
    expect(split.subarray(0, 256)).toEqual(whole.subarray(0, 256));
    expect(split.subarray(300)).toEqual(roundTrip('s8', x.subarray(300), [300]));
  });
});

describe('storage per dtype and sizes', () => {
  it('float16 keeps the squared accumulators float32; 8-bit maps them unsigned', () => {
    expect(storageOf('float16', 'expAvg')).toBe('f16');
    expect(storageOf('float16', 'expAvgSq')).toBe('f32');
    expect(storageOf('float16', 'expInf')).toBe('f32');
    expect(storageOf('bfloat16', 'expAvgSq')).toBe('bf16');
    expect(storageOf('8bit', 'expAvg')).toBe('s8');
    expect(storageOf('8bit', 'maxExpAvgSq')).toBe('u8');
  });
  it('min8bitSize: smaller tensors keep float32 state under 8bit only', () => {
    expect(tensorDtype({ stateDtype: '8bit', min8bitSize: 4096 }, 4095)).toBe('float32');
    expect(tensorDtype({ stateDtype: '8bit', min8bitSize: 4096 }, 4096)).toBe('8bit');
    expect(tensorDtype({ stateDtype: 'bfloat16', min8bitSize: 4096 }, 1)).toBe('bfloat16');
  });
  it('Adam at 16M: 128 MiB float32, 64 MiB bfloat16, 32.5 MiB (+ maps) 8-bit', () => {
    const n = 16 * 2 ** 20;
    const MiB = 2 ** 20;
    expect((2 * bufferBytes('f32', n, n)) / MiB).toBe(128);
    expect((2 * bufferBytes('bf16', n, n)) / MiB).toBe(64);
    expect((bufferBytes('f16', n, n) + bufferBytes('f32', n, n)) / MiB).toBe(96);
    expect(2 * bufferBytes('s8', n, n)).toBe(2 * ((n / 256) * 65 * 4 + 1024));
  });
  it('names a bad stateDtype or min8bitSize and the allowed values', () => {
    expect(() => validateStorage('Adam', { stateDtype: 'int8' as never })).toThrow(
      "Adam: stateDtype must be one of 'float32', 'bfloat16', 'float16', '8bit', got string 'int8'",
    );
    expect(() => validateStorage('Adam', { min8bitSize: -1 })).toThrow(
      'Adam: min8bitSize must be an integer >= 0, got -1',
    );
    expect(() => validateStorage('Adam', { min8bitSize: 1.5 })).toThrow(RangeError);
  });
});
