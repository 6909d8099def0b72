/**
 * GPU-side helpers of the benchmark page: the stream kernel (the roofline), timestamp queries
 * around a step, and the timing loop. Nothing here touches the engine's internals.
 */
import type { Engine } from '../src/engine.ts';
import { workgroupGrid } from '../src/limits.ts';

const LANES = 256;

/**
 * The roofline kernel: per parameter it reads param, grad and `states` state buffers and writes
 * param and each state, as vec4 with workgroups of 256, like the optimizer kernels; one FMA per
 * buffer keeps the loads and stores alive. No block table: the ideal a fused kernel can approach.
 */
export function streamKernel(states: number): string {
  const ids = Array.from({ length: states }, (_, i) => i);
  return `
struct U { count: u32, a: f32, b: f32, _pad: f32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read_write> paramBuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gradBuf: array<vec4<f32>>;
${ids.map((i) => `@group(0) @binding(${3 + i}) var<storage, read_write> s${i}Buf: array<vec4<f32>>;`).join('\n')}

@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let i = (wid.x + wid.y * grid.x) * ${LANES}u + lane;
  if (i >= u.count) { return; }
  let g = gradBuf[i];
  var d = g;
${ids.map((i) => `  let s${i} = u.a * s${i}Buf[i] + g;\n  s${i}Buf[i] = s${i};\n  d = d + s${i};`).join('\n')}
  paramBuf[i] = paramBuf[i] - u.b * d;
}
`;
}

/** Buffers and dispatches of the stream kernel over n parameters, one dispatch per page like the engine. */
export class Stream {
  private readonly buffers: GPUBuffer[] = [];
  private readonly dispatches: Array<{ bindGroup: GPUBindGroup; grid: [number, number] }> = [];
  private readonly pipeline: GPUComputePipeline;

  constructor(
    private readonly engine: Engine,
    n: number,
    states: number,
  ) {
    this.pipeline = engine.pipelines.get(`bench/stream${states}/vec4`, streamKernel(states));
    const page = engine.pageElements;
    for (let start = 0; start < n; start += page) {
      const elements = Math.min(page, n - start);
      const vecs = Math.ceil(elements / 4);
      const uniform = engine.createBuffer(
        'bench/stream/uniform',
        16,
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      );
      const u = new ArrayBuffer(16);
      new Uint32Array(u, 0, 1)[0] = vecs;
      new Float32Array(u, 4, 2).set([0.9, 1e-3]);
      engine.queue.writeBuffer(uniform, 0, u);
      const data = Array.from({ length: 2 + states }, (_, k) =>
        engine.createBuffer(`bench/stream/${start}/${k}`, vecs * 16),
      );
      this.buffers.push(uniform, ...data);
      const bindGroup = engine.device.createBindGroup({
        label: `bench/stream${states}/${start}`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [uniform, ...data].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const workgroups = Math.ceil(vecs / LANES);
      this.dispatches.push({
        bindGroup,
        grid: workgroupGrid(workgroups, engine.limits.maxComputeWorkgroupsPerDimension),
      });
    }
  }

  step(): void {
    const encoder = this.engine.device.createCommandEncoder({ label: 'bench/stream' });
    const pass = encoder.beginComputePass({ label: 'bench/stream' });
    pass.setPipeline(this.pipeline);
    for (const d of this.dispatches) {
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
    }
    pass.end();
    this.engine.queue.submit([encoder.finish()]);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}

/**
 * GPU time of whatever is submitted between `before(i)` and `after(i)`: each is an empty compute
 * pass with a timestamp write, in its own submission (the measured work is submitted by code we
 * do not modify). The gap includes the GPU's idle time between those submissions, if any.
 */
export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;

  static create(device: GPUDevice, pairs: number): GpuTimer | undefined {
    return device.features.has('timestamp-query') ? new GpuTimer(device, pairs) : undefined;
  }

  private constructor(
    private readonly device: GPUDevice,
    private readonly pairs: number,
  ) {
    this.querySet = device.createQuerySet({
      label: 'bench/timestamps',
      type: 'timestamp',
      count: 2 * pairs,
    });
    this.resolve = device.createBuffer({
      label: 'bench/timestamps/resolve',
      size: 16 * pairs,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readback = device.createBuffer({
      label: 'bench/timestamps/readback',
      size: 16 * pairs,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  private mark(writes: GPUComputePassTimestampWrites): void {
    const encoder = this.device.createCommandEncoder({ label: 'bench/timestamp' });
    encoder.beginComputePass({ label: 'bench/timestamp', timestampWrites: writes }).end();
    this.device.queue.submit([encoder.finish()]);
  }

  before(i: number): void {
    this.mark({ querySet: this.querySet, beginningOfPassWriteIndex: 2 * i });
  }

  after(i: number): void {
    this.mark({ querySet: this.querySet, endOfPassWriteIndex: 2 * i + 1 });
  }

  /** Milliseconds of each pair, or undefined when the adapter wrote no usable timestamps. */
  async read(): Promise<number[] | undefined> {
    const encoder = this.device.createCommandEncoder({ label: 'bench/timestamps/resolve' });
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.pairs, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16 * this.pairs);
    this.device.queue.submit([encoder.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const ms = Array.from(
      { length: this.pairs },
      (_, i) => Number(t[2 * i + 1]! - t[2 * i]!) / 1e6,
    );
    return ms.every((x) => x > 0 && Number.isFinite(x)) ? ms : undefined;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}

/** Per timed step: wall ms (submit to onSubmittedWorkDone), host ms (the call itself), GPU ms. */
export interface Timing {
  wall: number[];
  host: number[];
  gpu?: number[];
}

/** Something to time: `step` submits work, `done` resolves when that work has completed. */
export interface Subject {
  step: () => void;
  done: () => Promise<void>;
}

/**
 * Runs each subject `warmup` times, then `reps` timed rounds in which the subjects take turns
 * (a, b, a, b, ...), so that load from elsewhere on the machine falls on all of them alike. Each
 * step completes before the next starts. Subjects on one device share its timestamp queries.
 */
export async function measure(
  device: GPUDevice,
  subjects: Subject[],
  warmup: number,
  reps: number,
): Promise<Timing[]> {
  for (let i = 0; i < warmup; i++) {
    for (const s of subjects) {
      s.step();
      await s.done();
    }
  }
  const timer = GpuTimer.create(device, reps * subjects.length);
  const out = subjects.map(() => ({ wall: [] as number[], host: [] as number[] }));
  try {
    for (let i = 0; i < reps; i++) {
      for (const [k, s] of subjects.entries()) {
        const slot = i * subjects.length + k;
        timer?.before(slot);
        const t0 = performance.now();
        s.step();
        const t1 = performance.now();
        timer?.after(slot);
        await s.done();
        const t2 = performance.now();
        out[k]!.host.push(t1 - t0);
        out[k]!.wall.push(t2 - t0);
      }
    }
    const gpu = await timer?.read();
    return out.map((t, k) =>
      gpu ? { ...t, gpu: gpu.filter((_, slot) => slot % subjects.length === k) } : t,
    );
  } finally {
    timer?.destroy();
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
