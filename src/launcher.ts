import { elementwiseKernel, FIRST_STATE_BINDING } from '../shaders/common.wgsl.ts';
import type { Engine } from './engine.ts';
import { workgroupGrid } from './limits.ts';
import { BLOCK_WORDS, packBlocks, type Plan } from './plan.ts';
import type { Variant } from './optimizers/spec.ts';

/** What one kernel variant needs to be compiled and bound. */
export interface KernelVariant {
  /** Label prefix, e.g. 'adam/amsgrad'. */
  label: string;
  states: readonly string[];
  variant: Variant;
  body: string;
  fields: readonly string[];
  maximize: boolean;
  l2: boolean;
}

/** Bytes between per-launch uniform slots (minUniformBufferOffsetAlignment's default). */
const UNIFORM_SLOT = 256;

/**
 * The GPU side of a planned step: the block table and per-tensor scalar rows (one buffer, rows
 * rewritten with one write per step), a uniform slot and a bind group per launch, and the cached
 * pipelines. Built once per plan; `encode` records the dispatches with no allocation.
 */
export class Launcher {
  readonly table: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly rowByteOffset: number;
  private readonly dispatches: Array<{
    pipeline: GPUComputePipeline;
    bindGroup: GPUBindGroup;
    grid: [number, number];
  }>;

  constructor(
    private readonly engine: Engine,
    label: string,
    plan: Plan,
    kernels: ReadonlyMap<string, KernelVariant>,
    /** State buffers per name, one per plan segment. */
    states: ReadonlyMap<string, GPUBuffer[]>,
    rowWords: number,
  ) {
    const device = engine.device;
    const blockWords = plan.blocks.length * BLOCK_WORDS;
    this.rowByteOffset = blockWords * 4;
    this.table = engine.createBuffer(`${label}/table`, (blockWords + rowWords) * 4);
    const words = new Uint32Array(blockWords);
    packBlocks(plan.blocks, words);
    engine.queue.writeBuffer(this.table, 0, words);

    this.uniforms = engine.createBuffer(
      `${label}/launches`,
      Math.max(1, plan.launches.length) * UNIFORM_SLOT,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
    const slot = new Uint32Array(UNIFORM_SLOT / 4);
    this.dispatches = plan.launches.map((launch, i) => {
      const k = kernels.get(launch.variant)!;
      const width = launch.vec === 4 ? 'vec4' : 'scalar';
      const pipeline = engine.pipelines.get(
        `${k.label}/${width}`,
        elementwiseKernel({ ...k, label: k.label, vec: launch.vec }),
      );
      slot.set([
        launch.blockBase,
        launch.blockCount,
        blockWords,
        plan.partialBase[plan.partialBase.length - 1]!,
      ]);
      engine.queue.writeBuffer(this.uniforms, i * UNIFORM_SLOT, slot);
      const segment = plan.segments[launch.segment]!;
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: this.uniforms, offset: i * UNIFORM_SLOT, size: 16 } },
        { binding: 1, resource: { buffer: this.table } },
        { binding: 2, resource: { buffer: segment.param } },
        { binding: 3, resource: { buffer: segment.grad } },
        ...k.states.map((name, s) => ({
          binding: FIRST_STATE_BINDING + s,
          resource: { buffer: states.get(name)![launch.segment]! },
        })),
      ];
      const bindGroup = device.createBindGroup({
        label: `${k.label}/${width}/launch${i}`,
        layout: pipeline.getBindGroupLayout(0),
        entries,
      });
      const grid = workgroupGrid(launch.blockCount, engine.limits.maxComputeWorkgroupsPerDimension);
      return { pipeline, bindGroup, grid };
    });
  }

  /** Uploads this step's per-tensor scalars (one write). */
  writeRows(rows: Float32Array<ArrayBuffer>): void {
    this.engine.queue.writeBuffer(this.table, this.rowByteOffset, rows);
  }

  encode(pass: GPUComputePassEncoder): void {
    for (const d of this.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
    }
  }

  destroy(): void {
    this.table.destroy();
    this.uniforms.destroy();
  }
}
