import { matmulKernel, type MatmulPass } from '../shaders/passes.wgsl.ts';
import { PASS } from '../shaders/layout.ts';
import type { Engine } from '../src/engine.ts';

/**
 * C = A B for n x n matrices with two kernels on the same adapter: the tiled GEMM Muon's
 * Newton-Schulz passes use (shaders/passes.wgsl.ts: 64 x 64 outputs per workgroup in workgroup
 * memory, 4 x 4 per invocation) and a plain one (one invocation per output, reading A and B from
 * storage), so the bench can show what the tiling buys.
 */
const plainKernel = `
struct Dims { n: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = dims.n;
  if (id.x >= n || id.y >= n) { return; }
  var acc = 0.0;
  for (var k = 0u; k < n; k = k + 1u) { acc = fma(a[id.y * n + k], b[k * n + id.x], acc); }
  c[id.y * n + id.x] = acc;
}`;

const TILED: MatmulPass = {
  kind: 'matmul',
  c: 'c',
  a: 'a',
  b: 'b',
  alpha: '1.0',
  dims: ['short', 'short', 'short'],
};

export class Gemm {
  private readonly buffers: GPUBuffer[] = [];
  private readonly runs: Record<'tiled' | 'plain', () => void>;

  constructor(
    engine: Engine,
    readonly n: number,
  ) {
    const device = engine.device;
    const make = (label: string, bytes: number, usage?: number) => {
      const b = engine.createBuffer(`bench/gemm/${label}`, bytes, usage);
      this.buffers.push(b);
      return b;
    };
    const [a, b, c] = ['a', 'b', 'c'].map((l) => make(l, n * n * 4));
    const values = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) * 0.01);
    engine.queue.writeBuffer(a!, 0, values);
    engine.queue.writeBuffer(b!, 0, values);
    const uniform = make('uniform', 256, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const table = make('table', 16);
    const sums = make('sums', 16);
    const pass = PASS.pack({
      rowBase: 0,
      rowStride: 0,
      ringMask: 0,
      cls: 0,
      param: 0,
      grad: 0,
      batch: 1,
      rows: n,
      cols: n,
      count: n * n,
      sums: 0,
      partials: 0,
      groups: 0,
      transposed: 0,
      m: n,
      n,
      k: n,
    });
    engine.queue.writeBuffer(uniform, 0, pass);
    const tiled = engine.pipelines.get(
      'bench/gemm/tiled',
      matmulKernel({ fields: [], stepped: false, skip: false, maximize: false }, TILED),
    );
    const tiledGroup = device.createBindGroup({
      layout: tiled.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform, size: PASS.words * 4 } },
        { binding: 1, resource: { buffer: table } },
        { binding: 5, resource: { buffer: sums } },
        { binding: 6, resource: { buffer: c! } },
        { binding: 7, resource: { buffer: a! } },
        { binding: 8, resource: { buffer: b! } },
      ],
    });
    const dimsBuffer = make('dims', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    engine.queue.writeBuffer(dimsBuffer, 0, new Uint32Array([n, 0, 0, 0]));
    const plain = engine.pipelines.get('bench/gemm/plain', plainKernel);
    const plainGroup = device.createBindGroup({
      layout: plain.getBindGroupLayout(0),
      entries: [dimsBuffer, a!, b!, c!].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    const tiles = Math.ceil(n / 64);
    const run = (pipeline: GPUComputePipeline, group: GPUBindGroup, grid: number) => () => {
      const encoder = device.createCommandEncoder({ label: 'bench/gemm' });
      const p = encoder.beginComputePass();
      p.setPipeline(pipeline);
      p.setBindGroup(0, group);
      p.dispatchWorkgroups(grid, grid);
      p.end();
      engine.queue.submit([encoder.finish()]);
    };
    this.runs = {
      tiled: run(tiled, tiledGroup, tiles),
      plain: run(plain, plainGroup, Math.ceil(n / 16)),
    };
  }

  /** Floating-point operations of one product (a multiply-add counts 2). */
  get flops(): number {
    return 2 * this.n ** 3;
  }

  step(kind: 'tiled' | 'plain'): void {
    this.runs[kind]();
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}

/** FLOPs of Muon's Newton-Schulz products for one [rows, cols] matrix: three GEMMs per iteration. */
export function newtonSchulzFlops(rows: number, cols: number, nsSteps: number): number {
  const r = Math.min(rows, cols);
  const c = Math.max(rows, cols);
  return nsSteps * (2 * r * r * c + 2 * r * r * r + 2 * r * r * c);
}
