import { describe, expect, it } from 'vitest';
import { chunks, pageElements, padToVec4, workgroupGrid } from '../../src/limits.ts';
import type { Extent, Page } from '../../src/parameter.ts';
import { BLOCK_SIZE, BLOCK_WORDS, packBlocks, planStep, type PlanTensor } from '../../src/plan.ts';

/** Dispatch and layout math, in Node (no GPU): GPUBuffers are stand-in objects here. */
const buffer = (name: string) => ({ label: name }) as unknown as GPUBuffer;

function pagedTensor(page: Page, offset: number, length: number, variant = 'v'): PlanTensor {
  const extent: Extent = {
    start: 0,
    length,
    param: page.param,
    paramOffset: offset,
    grad: page.grad,
    gradOffset: offset,
    page,
  };
  return { extents: [extent], padded: true, variant };
}

describe('workgroupGrid', () => {
  it.each([
    [1, 65535, [1, 1]],
    [65535, 65535, [65535, 1]],
    [65536, 65535, [32768, 2]],
    [65537, 65535, [32769, 2]],
    [16, 4, [4, 4]],
    [13, 4, [4, 4]],
    [5, 4, [3, 2]],
    [0, 4, [0, 1]],
  ] as const)('%i workgroups, at most %i per dimension -> %j', (count, max, grid) => {
    const [x, y] = workgroupGrid(count, max);
    expect([x, y]).toEqual(grid);
    expect(x * y).toBeGreaterThanOrEqual(count);
    expect(x).toBeLessThanOrEqual(max);
    expect(y).toBeLessThanOrEqual(max);
  });
  it('refuses more than max^2 workgroups', () => {
    expect(() => workgroupGrid(17, 4)).toThrow(RangeError);
  });
});

describe('sizes', () => {
  it('pages hold a multiple of 4 elements within both limits', () => {
    expect(pageElements(65536, 1 << 30)).toBe(16384);
    expect(pageElements(1 << 30, 100)).toBe(24);
    expect(pageElements(134217728, 268435456)).toBe(33554432);
  });
  it('padToVec4 and chunks', () => {
    expect([0, 1, 4, 5, 255].map(padToVec4)).toEqual([0, 4, 4, 8, 256]);
    expect(chunks(10, 4)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
  });
});

describe('planStep', () => {
  const page: Page = { param: buffer('p'), grad: buffer('g'), elements: 16 * BLOCK_SIZE, live: 2 };

  it('packed tensors of one page share one vec4 launch; blocks never span tensors', () => {
    const big = 4 * BLOCK_SIZE + 1; // BLOCK_SIZE + 1 vec4s: a full block and one of 1
    const third = 4 + padToVec4(big);
    const plan = planStep(
      [pagedTensor(page, 0, 1), pagedTensor(page, 4, big), pagedTensor(page, third, 3)],
      1 << 30,
    );
    expect(plan.segments).toHaveLength(1);
    expect(plan.launches).toEqual([
      { segment: 0, variant: 'v', vec: 4, blockBase: 0, blockCount: 4 },
    ]);
    expect(plan.blocks.map((b) => [b.param, b.count, b.tensor])).toEqual([
      [0, 1, 0],
      [1, BLOCK_SIZE, 1],
      [1 + BLOCK_SIZE, 1, 1],
      [third / 4, 1, 2],
    ]);
    expect(plan.partialBase).toEqual([0, 1, 3, 4]);
    expect(plan.stateOffsets).toEqual([[[0, 0]], [[0, 4]], [[0, third]]]);
  });

  it('with merging, back-to-back tensors of one page, variant and row share blocks', () => {
    const t = (offset: number, length: number, row: number) => ({
      ...pagedTensor(page, offset, length),
      row,
    });
    const plan = planStep([t(0, 3, 0), t(4, 8, 0), t(12, 1, 0), t(16, 4, 1)], 1 << 30, true);
    // Tensors 0..2 span elements 0..15 (4 vec4s, padding included); tensor 3 has its own row.
    expect(plan.blocks.map((b) => [b.param, b.count, b.tensor, b.row])).toEqual([
      [0, 4, 0, 0],
      [4, 1, 3, 1],
    ]);
    expect(plan.stateOffsets).toEqual([[[0, 0]], [[0, 4]], [[0, 12]], [[0, 16]]]);
    // Without merging every tensor keeps its own block.
    expect(planStep([t(0, 3, 0), t(4, 8, 0)], 1 << 30).blocks).toHaveLength(2);
  });

  it('caller-owned buffers: vec4 body and scalar tail when aligned, scalar when not', () => {
    const aligned: PlanTensor = {
      extents: [
        {
          start: 0,
          length: 1030,
          param: buffer('a'),
          paramOffset: 4,
          grad: buffer('ag'),
          gradOffset: 8,
        },
      ],
      padded: false,
      variant: 'v',
    };
    const misaligned: PlanTensor = {
      extents: [
        {
          start: 0,
          length: 257,
          param: buffer('b'),
          paramOffset: 1,
          grad: buffer('bg'),
          gradOffset: 3,
        },
      ],
      padded: false,
      variant: 'v',
    };
    const plan = planStep([aligned, misaligned], 1 << 30);
    expect(plan.segments.map((s) => s.stateElements)).toEqual([1032, 260]);
    const byVec = plan.launches.map((l) => [l.segment, l.vec, l.blockCount]);
    expect(byVec).toEqual([
      [0, 1, 1],
      [0, 4, 1],
      [1, 1, 1],
    ]);
    const tail = plan.blocks[plan.launches[0]!.blockBase]!;
    expect(tail).toMatchObject({
      param: 4 + 1028,
      grad: 8 + 1028,
      state: 1028,
      count: 2,
      tensor: 0,
    });
    const body = plan.blocks[plan.launches[1]!.blockBase]!;
    expect(body).toMatchObject({ param: 1, grad: 2, state: 0, count: 257, tensor: 0 });
  });

  it('launches split at maxBlocksPerLaunch and are grouped by kernel variant', () => {
    const tensors = [pagedTensor(page, 0, 16 * BLOCK_SIZE, 'a')]; // 4 blocks of vec4s
    const page2: Page = { param: buffer('p2'), grad: buffer('g2'), elements: 8, live: 1 };
    tensors.push(pagedTensor(page2, 0, 5, 'b'));
    const plan = planStep(tensors, 3);
    expect(plan.launches.map((l) => [l.variant, l.segment, l.blockCount])).toEqual([
      ['a', 0, 3],
      ['a', 0, 1],
      ['b', 1, 1],
    ]);
    expect(plan.launches.map((l) => l.blockBase)).toEqual([0, 3, 4]);
  });

  it('a tensor split across pages keeps consecutive partial-sum slots', () => {
    const p1: Page = { param: buffer('p1'), grad: buffer('g1'), elements: 8 * BLOCK_SIZE, live: 1 };
    const p2: Page = { param: buffer('p2'), grad: buffer('g2'), elements: 8 * BLOCK_SIZE, live: 2 };
    const big: PlanTensor = {
      extents: [
        {
          start: 0,
          length: 8 * BLOCK_SIZE, // two blocks of vec4s
          param: p1.param,
          paramOffset: 0,
          grad: p1.grad,
          gradOffset: 0,
          page: p1,
        },
        {
          start: 8 * BLOCK_SIZE,
          length: 1000,
          param: p2.param,
          paramOffset: 0,
          grad: p2.grad,
          gradOffset: 0,
          page: p2,
        },
      ],
      padded: true,
      variant: 'v',
    };
    const plan = planStep([big, pagedTensor(p2, 1000, 8)], 1 << 30);
    const partials = plan.blocks
      .filter((b) => b.tensor === 0)
      .map((b) => b.partial)
      .sort((a, b) => a - b);
    expect(partials).toEqual([0, 1, 2]);
    expect(plan.partialBase).toEqual([0, 3, 4]);
  });

  it('packBlocks writes BLOCK_WORDS words per block', () => {
    const out = new Uint32Array(2 * BLOCK_WORDS);
    packBlocks(
      [
        { param: 1, grad: 2, state: 3, count: 4, tensor: 5, partial: 6, row: 7 },
        { param: 8, grad: 9, state: 10, count: 11, tensor: 12, partial: 13, row: 14 },
      ],
      out,
    );
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });
});

describe('lane blocks (per-tensor norms over tiny tensors)', () => {
  const page = (elements: number) =>
    ({ param: {}, grad: {}, elements, live: 1 }) as unknown as NonNullable<Extent['page']>;
  const tiny = (offset: number, length: number, pg: NonNullable<Extent['page']>): PlanTensor => ({
    extents: [
      {
        start: 0,
        length,
        param: pg.param,
        paramOffset: offset,
        grad: pg.grad,
        gradOffset: offset,
        page: pg,
      },
    ],
    padded: true,
    variant: 'v',
  });
  it('tensors of at most BLOCK_ITEMS items share lane blocks; larger ones keep their blocks', () => {
    const pg = page(4096 * 8);
    const tensors = [tiny(0, 3, pg), tiny(4, 64, pg), tiny(68, 65, pg), tiny(136, 1, pg)];
    const plan = planStep(tensors, 1 << 20, false, true);
    const laneLaunch = plan.launches.find((l) => l.lanes)!;
    expect(laneLaunch.blockCount).toBe(1);
    const laneBlock = plan.blocks[laneLaunch.blockBase]!;
    expect(laneBlock.count).toBe(3); // tensors 0, 1 and 3; tensor 2 has 17 vec4s
    const lanes = plan.blocks.slice(laneBlock.param, laneBlock.param + 3);
    expect(lanes.map((b) => [b.tensor, b.param, b.count])).toEqual([
      [0, 0, 1],
      [1, 1, 16],
      [3, 34, 1],
    ]);
    // Only the large tensor has partial-sum slots: the others' lanes write their norms.
    expect(plan.partialBase).toEqual([0, 0, 0, 1, 1]);
    expect(plan.launches.filter((l) => !l.lanes).map((l) => l.blockCount)).toEqual([1]);
  });
  it('more than BLOCK_LANES tiny tensors fill several lane blocks', () => {
    const pg = page(4096 * 1024);
    const tensors = Array.from({ length: 600 }, (_, i) => tiny(4 * i, 4, pg));
    const plan = planStep(tensors, 1 << 20, false, true);
    const launch = plan.launches.find((l) => l.lanes)!;
    const counts = plan.blocks
      .slice(launch.blockBase, launch.blockBase + launch.blockCount)
      .map((b) => b.count);
    expect(counts).toEqual([256, 256, 88]);
  });
});
