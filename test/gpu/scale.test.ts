import { expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * Past the buffer limits: a 300M-parameter SGD step (1.2 GB per buffer kind, more than
 * maxBufferSize on SwiftShader, so the tensor spans pages) completes and every element is right.
 * Gradients are generated and results checked by GPU kernels (reading 1.2 GB back would test the
 * readback path, not the optimizer).
 */
const harnessPage = useHarnessPage();

it('a 300M-parameter SGD step spans pages and is exact everywhere', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, SGD } = window.webgpuOptim;
    const engine = await createEngine();
    const n = 300_000_000;
    const w = engine.parameter(n); // zeros
    const opt = new SGD([w], { lr: 0.5 });
    const hash = `fn gradAt(i: u32) -> f32 { return f32((i * 2654435761u) >> 8u) * exp2(-24.0) - 0.5; }`;
    const common = `struct U { offset: u32, start: u32, length: u32, _p: u32 }
      @group(0) @binding(0) var<uniform> u: U;
      ${hash}`;
    const fill = engine.pipelines.get(
      'test/fill',
      `${common}
      @group(0) @binding(1) var<storage, read_write> buf: array<f32>;
      @compute @workgroup_size(256) fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
        let i = id.x + id.y * grid.x * 256u;
        if (i < u.length) { buf[u.offset + i] = gradAt(u.start + i); }
      }`,
    );
    const check = engine.pipelines.get(
      'test/check',
      `${common}
      @group(0) @binding(1) var<storage, read> buf: array<f32>;
      @group(0) @binding(2) var<storage, read_write> bad: array<atomic<u32>>;
      @compute @workgroup_size(256) fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
        let i = id.x + id.y * grid.x * 256u;
        if (i < u.length && buf[u.offset + i] != -0.5 * gradAt(u.start + i)) { atomicAdd(&bad[0], 1u); }
      }`,
    );
    const bad = engine.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const run = (
      pipeline: GPUComputePipeline,
      buffer: (e: (typeof w.extents)[number]) => [GPUBuffer, number],
      extra: GPUBindGroupEntry[],
    ) => {
      const encoder = engine.device.createCommandEncoder();
      for (const e of w.extents) {
        const [buf, offset] = buffer(e);
        const uniform = engine.device.createBuffer({
          size: 16,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
        engine.queue.writeBuffer(uniform, 0, new Uint32Array([offset, e.start, e.length, 0]));
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(
          0,
          engine.device.createBindGroup({
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: uniform } },
              { binding: 1, resource: { buffer: buf } },
              ...extra,
            ],
          }),
        );
        const groups = Math.ceil(e.length / 256);
        pass.dispatchWorkgroups(65535, Math.ceil(groups / 65535));
        pass.end();
      }
      engine.queue.submit([encoder.finish()]);
    };
    run(fill, (e) => [e.grad, e.gradOffset], []);
    opt.step();
    run(check, (e) => [e.param, e.paramOffset], [{ binding: 2, resource: { buffer: bad } }]);
    const mismatches = (
      await engine.readRuns([{ buffer: bad, offset: 0, length: 1, start: 0 }], 1)
    )[0];
    const pages = new Set(w.extents.map((e) => e.param)).size;
    const maxBufferSize = engine.limits.maxBufferSize;
    await engine.sync();
    engine.dispose();
    return {
      mismatches: new Uint32Array(new Float32Array([mismatches!]).buffer)[0],
      pages,
      maxBufferSize,
      bytes: n * 4,
    };
  });
  expect(r.bytes).toBeGreaterThan(r.maxBufferSize);
  expect(r.pages).toBeGreaterThan(1);
  expect(r.mismatches).toBe(0);
});
