import {
  FIRST_PASS_BUFFER,
  finishSumsKernel,
  GEMM_TILE,
  matmulBuffers,
  MAX_SUMS,
  PASS_LANES,
  passKernel,
  smallMatmulKernel,
  smallProduct,
  type Dim,
  type Pass,
  type PassContext,
} from '../shaders/passes.wgsl.ts';
import { PASS } from '../shaders/layout.ts';
import type { Engine } from './engine.ts';
import type { Dispatch } from './launcher.ts';
import type { Extent } from './parameter.ts';
import { matrixView } from './shape.ts';
import { COPY_DST, UNIFORM } from './usage.ts';

/** One tensor of a shaped step. */
export interface ProgramTensor {
  extent: Extent;
  shape: readonly number[];
  /** State class (its scalar row). */
  cls: number;
  /** The tensor's own state buffers by name. */
  states: ReadonlyMap<string, GPUBuffer>;
  passes: readonly Pass[];
  /** Sum slots the passes use. */
  sums: number;
  /** Work buffers the passes use, by name, with their elements (shared by all tensors). */
  work: Readonly<Record<string, number>>;
  context: PassContext;
  /** Pipeline label prefix, e.g. 'muon/nesterov'. */
  label: string;
}

/** Where the scalar rows sit in the launcher's table. */
export interface RowPlace {
  table: GPUBuffer;
  rowBase: number;
  rowStride: number;
  ringMask: number;
  counters: GPUBuffer | undefined;
}

const UNIFORM_SLOT = 256;

/** Workgroups a map pass strides with: enough to fill a GPU, few enough to sum quickly. */
const MAP_GROUPS = 256;

/**
 * The dispatches of a shaped step: every tensor's passes in order (a tensor's passes read what
 * the previous ones wrote; dispatches in one compute pass see each other's writes), each with its
 * uniform slot and bind group, plus the sums buffer and the work buffers they share. Built once
 * per plan, like the Launcher, which records them between its non-finite check and step count.
 */
export function buildProgram(
  engine: Engine,
  label: string,
  tensors: readonly ProgramTensor[],
  place: RowPlace,
): { dispatches: Dispatch[]; destroy(): void } {
  const maxPerDim = engine.limits.maxComputeWorkgroupsPerDimension;
  const sumBase: number[] = [];
  let slots = 0;
  for (const t of tensors) {
    sumBase.push(slots);
    slots += t.sums;
  }
  const partials = slots;
  // Every kernel strides over its outputs, so no grid dimension exceeds the device's limit.
  const capped = (n: number) => Math.max(1, Math.min(n, maxPerDim));
  const mapGroupsFor = (n: number) => capped(Math.min(MAP_GROUPS, Math.ceil(n / PASS_LANES)));
  // Sum slots, then a map pass's per-invocation partial sums (shared: passes run in turn), as
  // many as the largest tensor's map passes use.
  const invocations = Math.max(...tensors.map((t) => mapGroupsFor(t.extent.length) * PASS_LANES));
  const sums = engine.createBuffer(`${label}/sums`, (partials + invocations * MAX_SUMS) * 4);
  const workSizes = new Map<string, number>();
  for (const t of tensors)
    for (const [name, n] of Object.entries(t.work))
      workSizes.set(name, Math.max(workSizes.get(name) ?? 1, n));
  const work = new Map(
    [...workSizes].map(([name, n]) => [name, engine.createBuffer(`${label}/${name}`, n * 4)]),
  );
  const uniformCount = tensors.reduce(
    (n, t) => n + t.passes.length + t.passes.filter((p) => p.kind === 'map' && p.sums).length,
    0,
  );
  const uniforms = engine.createBuffer(
    `${label}/passes`,
    Math.max(1, uniformCount) * UNIFORM_SLOT,
    UNIFORM | COPY_DST,
  );
  const words = new Uint32Array((Math.max(1, uniformCount) * UNIFORM_SLOT) / 4);
  let slot = 0;
  const dispatches: Dispatch[] = [];
  const codes = new Map<string, string>();

  tensors.forEach((t, ti) => {
    const view = matrixView(t.shape);
    const count = view.batch * view.rows * view.cols;
    const short = Math.min(view.rows, view.cols);
    const long = Math.max(view.rows, view.cols);
    const dim = (d: Dim) => (d === 'short' ? short : long);
    const mapGroups = mapGroupsFor(count);
    const record = (
      name: string,
      code: string,
      grid: [number, number],
      uses: { param: boolean; grad: boolean; buffers: readonly string[] },
      groups: number,
      mnk: readonly [number, number, number] = [0, 0, 0],
    ) => {
      const offset = slot++ * UNIFORM_SLOT;
      PASS.pack(
        {
          rowBase: place.rowBase,
          rowStride: place.rowStride,
          ringMask: place.ringMask,
          cls: t.cls,
          param: t.extent.paramOffset,
          grad: t.extent.gradOffset,
          batch: view.batch,
          rows: view.rows,
          cols: view.cols,
          count,
          sums: sumBase[ti]!,
          partials,
          groups,
          transposed: view.rows > view.cols ? 1 : 0,
          m: mnk[0],
          n: mnk[1],
          k: mnk[2],
        },
        words,
        offset / 4,
      );
      const pipeline = engine.pipelines.get(`${t.label}/${name}`, code);
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: uniforms, offset, size: PASS.words * 4 } },
        { binding: 1, resource: { buffer: place.table } },
        { binding: 5, resource: { buffer: sums } },
      ];
      if (uses.param) entries.push({ binding: 2, resource: { buffer: t.extent.param } });
      if (uses.grad) entries.push({ binding: 3, resource: { buffer: t.extent.grad } });
      if (t.context.skip || t.context.stepped)
        entries.push({ binding: 4, resource: { buffer: place.counters! } });
      uses.buffers.forEach((b, i) => {
        const buffer = t.states.get(b) ?? work.get(b);
        if (!buffer)
          throw new Error(
            `${label}: pass ${name} binds '${b}', which is neither a state nor a work buffer (internal)`,
          );
        entries.push({ binding: FIRST_PASS_BUFFER + i, resource: { buffer } });
      });
      dispatches.push({
        pipeline,
        bindGroup: engine.device.createBindGroup({
          label: `${t.label}/${name}/tensor${ti}`,
          layout: pipeline.getBindGroupLayout(0),
          entries,
        }),
        grid,
      });
    };

    // Kernel text by what it is made of: a thousand tensors of one shape generate it once.
    const kernel = (kind: string, pass: object, make: () => string) => {
      const key = `${kind}|${JSON.stringify(t.context)}|${JSON.stringify(pass)}`;
      let code = codes.get(key);
      if (code === undefined) codes.set(key, (code = make()));
      return code;
    };
    t.passes.forEach((pass, pi) => {
      const name = `pass${pi}`;
      const code = () => kernel('pass', pass, () => passKernel(t.context, pass));
      if (pass.kind === 'map') {
        const grad = pass.grad !== false;
        record(
          name,
          code(),
          [mapGroups, 1],
          { param: true, grad, buffers: pass.buffers },
          mapGroups,
        );
        if (pass.sums) {
          const { slot, count } = pass.sums;
          record(
            `${name}/sums`,
            kernel('sums', pass.sums, () => finishSumsKernel(t.context, slot, count)),
            [1, 1],
            { param: false, grad: false, buffers: [] },
            mapGroups,
          );
        }
      } else if (pass.kind === 'reduce') {
        const lines =
          pass.over === 'rows'
            ? view.batch * view.rows
            : pass.over === 'cols'
              ? view.batch * view.cols
              : view.batch;
        const outputs = Math.ceil(lines / PASS_LANES);
        const onTensor = pass.over !== 'batch';
        const groups = capped(outputs);
        record(
          name,
          code(),
          [groups, 1],
          { param: onTensor, grad: onTensor, buffers: pass.buffers },
          groups,
        );
      } else {
        const [m, n, k] = pass.dims.map(dim) as [number, number, number];
        const buffers = matmulBuffers(pass);
        const uses = { param: false, grad: false, buffers };
        if (smallProduct(m, n)) {
          const groups = capped(Math.ceil((m * n) / PASS_LANES));
          const small = kernel('small', pass, () => smallMatmulKernel(t.context, pass));
          record(`${name}/small`, small, [groups, 1], uses, groups, [m, n, k]);
        } else {
          const grid: [number, number] = [
            capped(Math.ceil(n / GEMM_TILE)),
            capped(Math.ceil(m / GEMM_TILE)),
          ];
          record(name, code(), grid, uses, 0, [m, n, k]);
        }
      }
    });
  });
  engine.queue.writeBuffer(uniforms, 0, words);
  return {
    dispatches,
    destroy() {
      sums.destroy();
      uniforms.destroy();
      for (const b of work.values()) b.destroy();
    },
  };
}
