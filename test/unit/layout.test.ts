import { describe, expect, it } from 'vitest';
import {
  BLOCK_ROW,
  CLASS_COUNTERS,
  CLIP_TOTAL,
  classCounter,
  COUNT,
  COUNTER_HEADER,
  LAUNCH,
  layout,
  type Layout,
  REDUCE,
} from '../../shaders/layout.ts';

/**
 * Host <-> WGSL layouts are declared once (shaders/layout.ts): the WGSL struct and the host
 * packer come from one field list. Round trip: the struct's members are the fields in packing
 * order, and pack -> unpack gives the values back (f32 fields bit for bit).
 */
const layouts = [
  BLOCK_ROW,
  LAUNCH,
  REDUCE,
  COUNT,
  CLIP_TOTAL,
  COUNTER_HEADER,
  CLASS_COUNTERS,
] as unknown as Layout<string>[];

describe.each(layouts.map((l) => [l.name, l] as const))('%s', (_name, l) => {
  it('the WGSL struct lists the fields in packing order', () => {
    const members = [...l.wgsl.matchAll(/(\w+): (u32|f32)/g)].map((m) => m[1]);
    expect(members).toEqual([...l.fields]);
    l.fields.forEach((f, i) => expect(l.offset[f]).toBe(i));
  });
  it('pack then unpack is the identity, at any word offset', () => {
    const isF32 = (f: string) => l.wgsl.includes(`${f}: f32`);
    const values = Object.fromEntries(l.fields.map((f, i) => [f, isF32(f) ? 0.1 : 7 * i + 1]));
    const words = new Uint32Array(l.words + 5);
    l.pack(values as never, words, 5);
    const back = l.unpack(words, 5);
    for (const f of l.fields) {
      const want = (values as Record<string, number>)[f]!;
      expect(back[f]).toBe(isF32(f) ? Math.fround(want) : want);
    }
  });
});

it('f32 fields are stored as their bits; u32 fields as integers', () => {
  const l = layout('X', { a: 'u32', b: 'f32' });
  const words = l.pack({ a: 3, b: 1.5 });
  expect([...words]).toEqual([3, 0x3fc00000]);
  expect(l.wgsl).toBe('struct X { a: u32, b: f32 }');
});

it('class counters follow the header, one record per class', () => {
  expect(classCounter(0, 'step')).toBe(COUNTER_HEADER.words);
  expect(classCounter(2, 'touched')).toBe(COUNTER_HEADER.words + 2 * CLASS_COUNTERS.words + 1);
});
