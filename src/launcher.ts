import { nonFiniteCheck, stepCount } from '../shaders/nonfinite.wgsl.ts';
import {
  BINDING,
  elementwiseKernel,
  FIRST_STATE_BINDING,
  normKernel,
  reduceKernel,
  blockSumKernel,
  scratchBinding,
  type ElementwiseKernel,
} from '../shaders/common.wgsl.ts';
import type { Engine } from './engine.ts';
import { workgroupGrid } from './limits.ts';
import { COPY_DST, UNIFORM } from './usage.ts';
import { BLOCK_LANES, BLOCK_WORDS, COUNT, LAUNCH, REDUCE } from '../shaders/layout.ts';
import { packBlocks, type Plan } from './plan.ts';
import type { RowPlace } from './program.ts';

/** What one kernel variant needs to be compiled and bound (`vec` is chosen per launch). */
export type KernelVariant = Omit<ElementwiseKernel, 'vec'> & {
  /** The body for the norm pass (assigns n0..), when `norms` > 0. */
  normBody?: string;
  /** The norm pass advances and stores the states; the update pass only reads them. */
  normStores?: boolean;
  /** The keys of `StepBuffers.states` to bind, in state order (default: the states' names). */
  bufferKeys?: readonly string[];
};

/** One recorded dispatch. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: [number, number];
}

/** Bytes between uniform slots (minUniformBufferOffsetAlignment's default). */
const UNIFORM_SLOT = 256;

/** Extra buffers a step binds besides parameters, gradients and states. */
export interface StepBuffers {
  /** State buffers per name, one per plan segment. */
  states: ReadonlyMap<string, GPUBuffer[]>;
  /** Step counters (COUNTER_HEADER in shaders/layout.ts): an optimizer step reads and advances them. */
  counters?: GPUBuffer;
  /** Check the gradients first and gate the whole step on them being finite (needs counters). */
  skip?: boolean;
  /** Advance the counters after the update (default true; false for mode switches). */
  count?: boolean;
  /**
   * A shaped step (src/program.ts): dispatches that replace the elementwise passes, recorded
   * after the non-finite check and before the step count, reading the scalar rows in the table.
   */
  program?: (place: RowPlace) => { dispatches: Dispatch[]; destroy(): void };
}

/** Where the per-class scalar rows sit in the table. */
export interface RowLayout {
  /** Words of one row set (state classes x fields). */
  rowWords: number;
  /** Row sets in the step-indexed ring, a power of two (1 for kernels without counters). */
  ring: number;
  /** Per state class, the bits of the states its kernel writes (for the count kernel). */
  masks?: Uint32Array;
}

/**
 * The GPU side of a planned step: the table buffer (block rows, per-tensor scalar rows rewritten
 * with one write per step, each tensor's first partial-sum slot), a scratch buffer for norms, a
 * uniform slot and a bind group per dispatch, and the cached pipelines. Built once per plan;
 * `encode` records the dispatches with no allocation: norm pass, per-tensor reduction, update.
 */
export class Launcher {
  readonly table: GPUBuffer;
  readonly scratch: GPUBuffer | undefined;
  private readonly uniforms: GPUBuffer;
  private readonly rowByteOffset: number;
  readonly dispatches: Dispatch[] = [];
  private readonly program: { destroy(): void } | undefined;

  constructor(
    private readonly engine: Engine,
    label: string,
    plan: Plan,
    kernels: ReadonlyMap<string, KernelVariant>,
    buffers: StepBuffers,
    rows: RowLayout,
    /** Dispatches to run after the per-tensor norms and before the update (clipping's total). */
    afterNorms?: (scratch: GPUBuffer, normBase: number, tensors: number) => Dispatch[],
  ) {
    const tensors = plan.partialBase.length - 1;
    const partials = plan.partialBase[tensors]!;
    const norms = Math.max(0, ...[...kernels.values()].map((k) => k.norms ?? 0));
    const counters = buffers.counters;
    const flags = buffers.skip ? counters : undefined;
    const { rowWords, ring } = rows;
    const masks = rows.masks ?? new Uint32Array(0);
    // Table: [block rows][ring of row sets][class masks][first partial slot per tensor].
    const blockWords = plan.blocks.length * BLOCK_WORDS;
    const maskBase = blockWords + ring * rowWords;
    const partialTable = maskBase + masks.length;
    this.rowByteOffset = blockWords * 4;
    this.table = engine.createBuffer(`${label}/table`, (partialTable + tensors + 1) * 4);
    const words = new Uint32Array(partialTable + tensors + 1);
    packBlocks(plan.blocks, words);
    words.set(masks, maskBase);
    words.set(plan.partialBase, partialTable);
    engine.queue.writeBuffer(this.table, 0, words);
    // Scratch: one slot per invocation of the norm pass, one per block, one per tensor (x norms).
    const blockBase = partials * BLOCK_LANES * norms;
    const normBase = blockBase + partials * norms;
    this.scratch =
      norms > 0
        ? engine.createBuffer(`${label}/norms`, (normBase + tensors * norms) * 4)
        : undefined;

    const passes = buffers.program
      ? ([] as const)
      : norms > 0
        ? (['norm', 'update'] as const)
        : (['update'] as const);
    const slots =
      plan.launches.length * (passes.length + (flags ? 1 : 0)) +
      (counters && buffers.count !== false ? 1 : 0) +
      (norms > 0 ? 2 : 0);
    this.uniforms = engine.createBuffer(
      `${label}/launches`,
      slots * UNIFORM_SLOT,
      UNIFORM | COPY_DST,
    );
    const slot = new Uint32Array(8);
    let slotIndex = 0;
    const uniform = (values: Uint32Array): GPUBufferBinding => {
      slot.fill(0).set(values);
      engine.queue.writeBuffer(this.uniforms, slotIndex * UNIFORM_SLOT, slot);
      return { buffer: this.uniforms, offset: slotIndex++ * UNIFORM_SLOT, size: slot.byteLength };
    };
    const launchUniform = (l: Plan['launches'][number]) =>
      uniform(
        LAUNCH.pack({
          blockBase: l.blockBase,
          blockCount: l.blockCount,
          rowBase: blockWords,
          normBase,
          rowStride: rowWords,
          ringMask: ring - 1,
        }),
      );

    if (flags) {
      // Before anything else: look for non-finite gradients.
      plan.launches.forEach((launch, i) => {
        const pipeline = engine.pipelines.get(
          `nonfinite/check/${launch.vec === 4 ? 'vec4' : 'scalar'}${launch.lanes ? '/lanes' : ''}`,
          nonFiniteCheck(launch.vec, launch.lanes === true),
        );
        const entries: GPUBindGroupEntry[] = [
          { binding: BINDING.launch, resource: launchUniform(launch) },
          { binding: BINDING.table, resource: { buffer: this.table } },
          { binding: BINDING.grad, resource: { buffer: plan.segments[launch.segment]!.grad } },
          { binding: BINDING.counters, resource: { buffer: flags } },
        ];
        this.dispatches.push({
          pipeline,
          bindGroup: engine.device.createBindGroup({
            label: `${label}/nonfinite/launch${i}`,
            layout: pipeline.getBindGroupLayout(0),
            entries,
          }),
          grid: workgroupGrid(launch.blockCount, engine.limits.maxComputeWorkgroupsPerDimension),
        });
      });
    }

    for (const pass of passes) {
      if (pass === 'update' && this.scratch) {
        // Between the passes: per-block sums, then per-tensor norms.
        const maxPerDim = engine.limits.maxComputeWorkgroupsPerDimension;
        const stages = [
          { name: 'blocksum', code: blockSumKernel(norms), count: partials },
          { name: 'reduce', code: reduceKernel(norms, true), count: tensors },
        ];
        for (const stage of stages) {
          const pipeline = engine.pipelines.get(`${label}/${stage.name}${norms}`, stage.code);
          const entries: GPUBindGroupEntry[] = [
            {
              binding: 0,
              resource: uniform(
                REDUCE.pack({ count: stage.count, partialTable, normBase, blockBase }),
              ),
            },
            { binding: 2, resource: { buffer: this.scratch } },
          ];
          if (stage.name === 'reduce')
            entries.push({ binding: 1, resource: { buffer: this.table } });
          this.dispatches.push({
            pipeline,
            bindGroup: engine.device.createBindGroup({
              label: `${label}/${stage.name}`,
              layout: pipeline.getBindGroupLayout(0),
              entries,
            }),
            grid: workgroupGrid(Math.ceil(stage.count / BLOCK_LANES), maxPerDim),
          });
        }
        if (afterNorms) this.dispatches.push(...afterNorms(this.scratch, normBase, tensors));
      }
      plan.launches.forEach((launch, i) => {
        const k = kernels.get(launch.variant)!;
        const width = launch.vec === 4 ? 'vec4' : 'scalar';
        const name = `${k.label}${pass === 'norm' ? '/norms' : ''}/${width}${launch.lanes ? '/lanes' : ''}`;
        const source = { ...k, vec: launch.vec, lanes: launch.lanes === true };
        // A rule whose norm pass advances its states (normStores) updates from them alone: the
        // update pass reads no gradient and stores nothing but p.
        const update = k.normStores
          ? { ...source, grad: false, maximize: false, l2: false, stores: false }
          : source;
        const code =
          pass === 'norm'
            ? normKernel({ ...source, body: k.normBody!, stores: k.normStores === true })
            : elementwiseKernel(update);
        const readsGrad = (pass === 'norm' ? source : update).grad !== false;
        const pipeline = engine.pipelines.get(name, code);
        const segment = plan.segments[launch.segment]!;
        const entries: GPUBindGroupEntry[] = [
          { binding: BINDING.launch, resource: launchUniform(launch) },
          { binding: BINDING.table, resource: { buffer: this.table } },
          { binding: BINDING.param, resource: { buffer: segment.param } },
          ...k.states.map((s, j) => ({
            binding: FIRST_STATE_BINDING + j,
            resource: { buffer: buffers.states.get(k.bufferKeys?.[j] ?? s)![launch.segment]! },
          })),
        ];
        if (readsGrad) entries.push({ binding: BINDING.grad, resource: { buffer: segment.grad } });
        if (k.stepped || k.skipFlag)
          entries.push({ binding: BINDING.counters, resource: { buffer: counters! } });
        if (this.scratch)
          entries.push({
            binding: scratchBinding(k.states.length),
            resource: { buffer: this.scratch },
          });
        this.dispatches.push({
          pipeline,
          bindGroup: engine.device.createBindGroup({
            label: `${name}/launch${i}`,
            layout: pipeline.getBindGroupLayout(0),
            entries,
          }),
          grid: workgroupGrid(launch.blockCount, engine.limits.maxComputeWorkgroupsPerDimension),
        });
      });
    }
    if (buffers.program) {
      const program = buffers.program({
        table: this.table,
        rowBase: blockWords,
        rowStride: rowWords,
        ringMask: ring - 1,
        counters,
      });
      this.program = program;
      this.dispatches.push(...program.dispatches);
    }
    if (counters && buffers.count !== false) {
      const pipeline = engine.pipelines.get('step/count', stepCount);
      const entries: GPUBindGroupEntry[] = [
        {
          binding: BINDING.launch,
          resource: uniform(COUNT.pack({ classes: masks.length, maskBase })),
        },
        { binding: BINDING.table, resource: { buffer: this.table } },
        { binding: BINDING.counters, resource: { buffer: counters } },
      ];
      this.dispatches.push({
        pipeline,
        bindGroup: engine.device.createBindGroup({
          label: `${label}/step/count`,
          layout: pipeline.getBindGroupLayout(0),
          entries,
        }),
        grid: [1, 1],
      });
    }
  }

  /** Uploads rows[offset, offset + words) of the host's copy of the row ring (one write). */
  writeRows(rows: Float32Array<ArrayBuffer>, offset = 0, words = rows.length - offset): void {
    if (words > 0)
      this.engine.queue.writeBuffer(
        this.table,
        this.rowByteOffset + offset * 4,
        rows,
        offset,
        words,
      );
  }

  encode(pass: GPUComputePassEncoder): void {
    encodeDispatches(pass, this.dispatches);
  }

  destroy(): void {
    this.table.destroy();
    this.scratch?.destroy();
    this.uniforms.destroy();
    this.program?.destroy();
  }
}

export function encodeDispatches(
  pass: GPUComputePassEncoder,
  dispatches: readonly Dispatch[],
): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
  }
}
