import type { Engine } from './engine.ts';
import { padToVec4 } from './limits.ts';
import type { Extent, Page, Parameter } from './parameter.ts';

/** Tensors at least this long (or longer than a page) keep their own buffers as pages. */
export const OWN_PAGE_ELEMENTS = 1 << 20;

/**
 * Moves engine-owned parameters (and their gradients) into shared pages, back to back on vec4
 * boundaries, so an optimizer step over hundreds of tensors is one dispatch per page rather than
 * one per tensor. A tensor that does not fit in the rest of a page continues in the next one.
 * Values move by GPU copies; nothing is read back. Large tensors are not copied: their own
 * buffers become their pages (a copy would double peak memory for no fewer dispatches).
 * Caller-owned and already packed parameters stay where they are.
 */
export function packParameters(
  engine: Engine,
  params: Parameter[],
  label: string,
  /** Never split a tensor across pages (shaped optimizers address each tensor as one run). */
  whole = false,
): void {
  const capacity = engine.pageElements;
  const engineOwned = [...new Set(params)].filter((p) => p.ownership === 'engine');
  for (const p of engineOwned) {
    if (p.length < OWN_PAGE_ELEMENTS && p.length <= capacity) continue;
    for (const e of p.extents)
      e.page = { param: e.param, grad: e.grad, elements: padToVec4(e.length), live: 1 };
    p.ownership = 'packed';
  }
  const movable = engineOwned.filter((p) => p.ownership === 'engine');
  if (movable.length === 0) return;

  // Lay out: [parameter, extent start, length, page index, offset in page].
  const placements: Array<{
    p: Parameter;
    start: number;
    length: number;
    page: number;
    offset: number;
  }> = [];
  const pageSizes: number[] = [0];
  for (const p of movable) {
    for (let start = 0; start < p.length;) {
      let used = pageSizes[pageSizes.length - 1]!;
      if (used === capacity || (whole && used > 0 && p.length > capacity - used)) {
        pageSizes.push(0);
        used = 0;
      }
      const length = Math.min(p.length - start, capacity - used);
      placements.push({ p, start, length, page: pageSizes.length - 1, offset: used });
      pageSizes[pageSizes.length - 1] = used + padToVec4(length);
      start += length;
    }
  }

  // The copies run inside error scopes; the old buffers are destroyed only once the scopes say
  // the copies succeeded, so a failed move (out of memory, say) loses no values.
  engine.device.pushErrorScope('validation');
  engine.device.pushErrorScope('out-of-memory');
  const pages: Page[] = pageSizes.map((elements, i) => ({
    param: engine.createBuffer(`${label}/page${i}`, elements * 4),
    grad: engine.createBuffer(`${label}/page${i}.grad`, elements * 4),
    elements,
    live: 0,
  }));

  const encoder = engine.device.createCommandEncoder({ label: `${label}/pack` });
  const newExtents = new Map<Parameter, Extent[]>();
  for (const { p, start, length, page: index, offset } of placements) {
    const page = pages[index]!;
    for (const old of p.extents) {
      // Copy the part of each old extent that overlaps [start, start + length).
      const from = Math.max(start, old.start);
      const to = Math.min(start + length, old.start + old.length);
      if (from >= to) continue;
      const dst = offset + (from - start);
      encoder.copyBufferToBuffer(
        old.param,
        (old.paramOffset + from - old.start) * 4,
        page.param,
        dst * 4,
        (to - from) * 4,
      );
      encoder.copyBufferToBuffer(
        old.grad,
        (old.gradOffset + from - old.start) * 4,
        page.grad,
        dst * 4,
        (to - from) * 4,
      );
    }
    let list = newExtents.get(p);
    if (!list) newExtents.set(p, (list = []));
    if (list.length === 0 || list[list.length - 1]!.page !== page) page.live++;
    list.push({
      start,
      length,
      param: page.param,
      paramOffset: offset,
      grad: page.grad,
      gradOffset: offset,
      page,
    });
  }
  engine.queue.submit([encoder.finish()]);
  const scopes = [engine.device.popErrorScope(), engine.device.popErrorScope()];
  const moved = [...newExtents].map(([p, extents]) => {
    const old = p.extents;
    p.extents = extents;
    p.ownership = 'packed';
    return { p, old };
  });
  const outcome = Promise.all(scopes).then((errors) => {
    const error = errors.find((e) => e);
    if (!error) return true;
    // The values are still where they were: put the parameters back, drop the pages.
    for (const { p, old } of moved) {
      if (p.isDisposed) {
        old.forEach(destroyBuffers);
        continue;
      }
      p.extents = old;
      p.ownership = 'engine';
    }
    pages.forEach(destroyBuffers);
    engine.report(`${label}/pack`, `moving parameters into pages failed: ${error.message}`);
    return false;
  });
  engine.destroyWhen(
    outcome,
    moved.flatMap(({ old }) => old.flatMap((e) => [e.param, e.grad])),
  );
}

function destroyBuffers(pair: { param: GPUBuffer; grad: GPUBuffer }): void {
  pair.param.destroy();
  pair.grad.destroy();
}
