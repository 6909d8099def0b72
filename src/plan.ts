import { BLOCK_ITEMS, BLOCK_LANES, BLOCK_ROW, BLOCK_SIZE, BLOCK_WORDS } from '../shaders/layout.ts';
import { padToVec4 } from './limits.ts';
import { QUANT_BLOCK } from './state-dtype.ts';
import type { Extent } from './parameter.ts';

/**
 * Dispatch planning, Apex multi_tensor_apply style: every tensor of a step is cut into blocks of
 * at most BLOCK_SIZE vec4s (or scalars); a table row per block tells the kernel where its
 * elements, gradient and state are and which tensor they belong to. One dispatch covers all
 * blocks that share a set of buffer bindings, however many tensors they hold. Pure: no GPU calls.
 */

export { BLOCK_ITEMS, BLOCK_LANES, BLOCK_SIZE, BLOCK_WORDS } from '../shaders/layout.ts';

/** One block-table row. Offsets count the launch's items (vec4s or scalars). */
export interface Block {
  param: number;
  grad: number;
  state: number;
  count: number;
  tensor: number;
  /** Slot of this block's partial sum in the norm scratch (the tensor's blocks are consecutive). */
  partial: number;
  /** Row of per-tensor scalars (tensors with the same host state share one). */
  row: number;
}

/** A tensor as the planner sees it. */
export interface PlanTensor {
  extents: Extent[];
  /** The buffers are engine-owned and padded to a multiple of 4, so a trailing vec4 may run past the length. */
  padded: boolean;
  /** Kernel variant key (tensors of one key share a pipeline). */
  variant: string;
  /** Row of scalars the tensor's blocks read (defaults to the tensor's index). */
  row?: number;
  /**
   * 8-bit blockwise state (src/state-dtype.ts): the tensor's state lives in its segment's
   * blockwise layout, each extent starting a new QUANT_BLOCK, and every QUANT_BLOCK of it lies
   * in one workgroup pass of one launch (so a workgroup reduction finds its absmax): no merging
   * with neighbours, no lane block, and a vec4 part that ends on a QUANT_BLOCK boundary.
   */
  blockwise?: boolean;
}

/** Buffers bound together: parameters, gradients, and the optimizer state laid out alongside. */
export interface Segment {
  param: GPUBuffer;
  grad: GPUBuffer;
  /** Elements per state buffer of this segment (a multiple of 4). */
  stateElements: number;
  /** Elements of the segment's blockwise (8-bit) state layout: its extents, each padded to QUANT_BLOCK. */
  blockwiseElements: number;
}

/**
 * One dispatch: a segment, a kernel variant and a vector width, over blocks [blockBase,
 * blockBase + blockCount). With `lanes`, each block packs up to BLOCK_LANES tiny tensors, one
 * per invocation (see LANE_ITEMS).
 */
export interface Launch {
  segment: number;
  variant: string;
  vec: 1 | 4;
  blockBase: number;
  blockCount: number;
  lanes?: boolean;
}

export interface Plan {
  segments: Segment[];
  launches: Launch[];
  blocks: Block[];
  /** First partial-sum slot of each tensor, plus the total at the end (length tensors + 1). */
  partialBase: number[];
  /** For each tensor and extent, where its state starts: [segment, element offset]. */
  stateOffsets: Array<Array<[number, number]>>;
}

interface Piece {
  tensor: number;
  segment: number;
  extent: Extent;
  state: number;
  padded: boolean;
  blockwise: boolean;
}

/** Assigns each extent to a segment: packed extents share their page's segment, others get one each. */
function segmentPieces(tensors: PlanTensor[]): { segments: Segment[]; pieces: Piece[] } {
  const segments: Segment[] = [];
  const pieces: Piece[] = [];
  const byPage = new Map<object, number>();
  tensors.forEach((t, tensor) => {
    for (const extent of t.extents) {
      const page = extent.page;
      let segment = page ? byPage.get(page) : undefined;
      if (segment === undefined) {
        segment = segments.length;
        segments.push({
          param: extent.param,
          grad: extent.grad,
          stateElements: page ? page.elements : padToVec4(extent.length),
          blockwiseElements: 0,
        });
        if (page) byPage.set(page, segment);
      }
      const s = segments[segment]!;
      const blockwise = t.blockwise === true;
      pieces.push({
        tensor,
        segment,
        extent,
        state: blockwise ? s.blockwiseElements : page ? extent.paramOffset : 0,
        padded: t.padded,
        blockwise,
      });
      if (blockwise) s.blockwiseElements += Math.ceil(extent.length / QUANT_BLOCK) * QUANT_BLOCK;
    }
  });
  return { segments, pieces };
}

/** Blocks of one piece: vec4 blocks where alignment allows, scalar blocks for the rest. */
function pieceBlocks(
  p: Piece,
  tensor: number,
  row: number,
): { vec4: Omit<Block, 'partial'>[]; scalar: Omit<Block, 'partial'>[] } {
  const e = p.extent;
  const aligned = e.paramOffset % 4 === 0 && e.gradOffset % 4 === 0 && p.state % 4 === 0;
  const vecs = !aligned
    ? 0
    : p.padded
      ? Math.ceil(e.length / 4)
      : p.blockwise
        ? Math.floor(e.length / QUANT_BLOCK) * (QUANT_BLOCK / 4)
        : Math.floor(e.length / 4);
  const vec4: Omit<Block, 'partial'>[] = [];
  const scalar: Omit<Block, 'partial'>[] = [];
  for (let i = 0; i < vecs; i += BLOCK_SIZE) {
    vec4.push({
      param: e.paramOffset / 4 + i,
      grad: e.gradOffset / 4 + i,
      state: p.state / 4 + i,
      count: Math.min(BLOCK_SIZE, vecs - i),
      tensor,
      row,
    });
  }
  for (let i = vecs * 4; i < e.length; i += BLOCK_SIZE) {
    scalar.push({
      param: e.paramOffset + i,
      grad: e.gradOffset + i,
      state: p.state + i,
      count: Math.min(BLOCK_SIZE, e.length - i),
      tensor,
      row,
    });
  }
  return { vec4, scalar };
}

/**
 * Joins pieces that lie back to back in one engine-owned page with the same kernel variant and
 * scalar row into one: an elementwise update does not care where one tensor ends, so a thousand
 * small tensors cost the blocks of one tensor of the same total size. (The padding between them
 * is zero and stays zero under every update rule.) Not for per-tensor norms.
 */
function mergeAdjacent(pieces: Piece[], tensors: PlanTensor[]): Piece[] {
  const out: Piece[] = [];
  let end = -1; // first element after the last piece of `out` (offsets are equal in pages)
  for (const p of pieces) {
    const last = out[out.length - 1];
    const t = tensors[p.tensor]!;
    const mergeable =
      last !== undefined &&
      p.padded &&
      last.padded &&
      !p.blockwise &&
      !last.blockwise &&
      p.segment === last.segment &&
      p.extent.page !== undefined &&
      t.variant === tensors[last.tensor]!.variant &&
      (t.row ?? p.tensor) === (tensors[last.tensor]!.row ?? last.tensor) &&
      p.extent.paramOffset === end;
    end = p.extent.paramOffset + padToVec4(p.extent.length);
    if (!mergeable) {
      out.push(p);
      continue;
    }
    const length = end - last.extent.paramOffset;
    out[out.length - 1] = { ...last, extent: { ...last.extent, length } };
  }
  return out;
}

/**
 * Plans one step over `tensors`: launches ordered by variant, segment and width, and at most
 * `maxBlocksPerLaunch` blocks each (the 2-D grid limit). With `merge`, tensors adjacent in a page
 * share blocks (see mergeAdjacent); without it every block belongs to one tensor, as per-tensor
 * norms need. With `lanes` (per-tensor norms), a tensor of at most BLOCK_ITEMS items is not a
 * block of its own but one invocation of a lane block: a thousand tiny tensors then cost a few
 * workgroups, each invocation computing its tensor's norm alone (no reduction), instead of a
 * thousand mostly idle workgroups. A lane block's row points (param) at its first lane row and
 * counts its lanes (count); lane rows, in the block-row format, follow every block of the table.
 */
export function planStep(
  tensors: PlanTensor[],
  maxBlocksPerLaunch: number,
  merge = false,
  lanes = false,
): Plan {
  const { segments, pieces } = segmentPieces(tensors);
  const groups = new Map<string, Array<Omit<Block, 'partial'>>>();
  const laneGroups = new Map<string, Array<Omit<Block, 'partial'>>>();
  const stateOffsets: Plan['stateOffsets'] = tensors.map(() => []);
  for (const p of pieces) stateOffsets[p.tensor]!.push([p.segment, p.state]);
  const single = new Set(tensors.map((t, i) => (t.extents.length === 1 ? i : -1)));
  for (const p of merge ? mergeAdjacent(pieces, tensors) : pieces) {
    const { vec4, scalar } = pieceBlocks(p, p.tensor, tensors[p.tensor]!.row ?? p.tensor);
    const variant = tensors[p.tensor]!.variant;
    const tiny =
      lanes &&
      !p.blockwise &&
      single.has(p.tensor) &&
      vec4.length + scalar.length === 1 &&
      (vec4[0] ?? scalar[0])!.count <= BLOCK_ITEMS;
    for (const [vec, list] of [
      [4, vec4],
      [1, scalar],
    ] as const) {
      if (list.length === 0) continue;
      const key = JSON.stringify([variant, p.segment, vec]);
      const into = tiny ? laneGroups : groups;
      let g = into.get(key);
      if (!g) into.set(key, (g = []));
      for (const b of list) g.push(b); // not push(...list): a large tensor has millions of blocks
    }
  }
  // Partial-sum slots: consecutive per tensor, in block order within the tensor (none for a
  // tensor in a lane: its invocation writes its norm).
  const perTensor = tensors.map(() => 0);
  for (const list of groups.values()) for (const b of list) perTensor[b.tensor]!++;
  const partialBase = [0];
  for (const n of perTensor) partialBase.push(partialBase[partialBase.length - 1]! + n);
  const next = partialBase.slice(0, -1);

  const blocks: Block[] = [];
  const launches: Launch[] = [];
  for (const key of [...groups.keys()].sort()) {
    const [variant, segment, vec] = JSON.parse(key) as [string, number, 1 | 4];
    const list = groups.get(key)!;
    for (let s = 0; s < list.length; s += maxBlocksPerLaunch) {
      const part = list.slice(s, s + maxBlocksPerLaunch);
      launches.push({ segment, variant, vec, blockBase: blocks.length, blockCount: part.length });
      for (const b of part) blocks.push({ ...b, partial: next[b.tensor]!++ });
    }
  }
  const laneRows: Block[] = [];
  const laneBlocks: Block[] = [];
  for (const key of [...laneGroups.keys()].sort()) {
    const [variant, segment, vec] = JSON.parse(key) as [string, number, 1 | 4];
    const list = laneGroups.get(key)!;
    const packed: Block[] = [];
    for (let s = 0; s < list.length; s += BLOCK_LANES) {
      const part = list.slice(s, s + BLOCK_LANES);
      // param: the first lane row, made absolute once every block is placed.
      packed.push({
        param: laneRows.length,
        grad: 0,
        state: 0,
        count: part.length,
        tensor: 0,
        partial: 0,
        row: 0,
      });
      for (const b of part) laneRows.push({ ...b, partial: 0 });
    }
    for (let s = 0; s < packed.length; s += maxBlocksPerLaunch) {
      const part = packed.slice(s, s + maxBlocksPerLaunch);
      launches.push({
        segment,
        variant,
        vec,
        blockBase: blocks.length + laneBlocks.length,
        blockCount: part.length,
        lanes: true,
      });
      laneBlocks.push(...part);
    }
  }
  const firstLaneRow = blocks.length + laneBlocks.length;
  for (const b of laneBlocks) blocks.push({ ...b, param: b.param + firstLaneRow });
  for (const r of laneRows) blocks.push(r);
  return { segments, launches, blocks, partialBase, stateOffsets };
}

/** Packs the block table into u32 words (BLOCK_WORDS per block, see BLOCK_ROW). */
export function packBlocks(blocks: Block[], out: Uint32Array, offset = 0): void {
  blocks.forEach((b, i) => BLOCK_ROW.pack(b, out, offset + i * BLOCK_WORDS));
}
