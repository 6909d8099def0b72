import { expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';
import { mismatchTable, type Mismatch } from './compare.ts';

/** clipGradNorm / clipGradValue on the GPU against the float64 reference, over several layouts. */
const harnessPage = useHarnessPage();

const layouts = [
  { name: 'sizes 1, 3, 1030', sizes: [1, 3, 1030], limits: {} },
  {
    name: 'size 70001 + 5 over lowered binding and grid limits',
    sizes: [70001, 5],
    limits: { maxStorageBufferBindingSize: 65536, maxComputeWorkgroupsPerDimension: 4 },
  },
  {
    name: '300 tensors of 1..600',
    sizes: Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 600)),
    limits: {},
  },
];

it.each(layouts.flatMap((l) => [0.5, 1e6].map((maxNorm) => ({ ...l, maxNorm }))))(
  'clipGradNorm, $name, maxNorm $maxNorm, repeated 3 times',
  async ({ sizes, limits, maxNorm }) => {
    const r = await harnessPage().evaluate(
      async (sizes, limits, maxNorm) => {
        const { clipGradNorm, reference, SGD } = window.webgpuOptim;
        const { compareStep } = window.harness;
        const engine = await window.harness.engineFor(limits);
        const ws = sizes.map((n) => engine.parameter(n));
        new SGD(ws, { lr: 0.1 }).dispose(); // pack into pages as a real model would be
        const mismatches: Mismatch[] = [];
        const norms: Array<[number, number]> = [];
        for (let call = 1; call <= 3; call++) {
          const grads = sizes.map((n, k) =>
            Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k + call) * (k + 1)),
          );
          ws.forEach((w, k) => w.grad.write(grads[k]!));
          const refGrads = grads.map((g) => Float64Array.from(g));
          const expected = reference.clipGradNormReference(refGrads, maxNorm);
          const handle = clipGradNorm(ws, maxNorm);
          const got = await handle.read();
          norms.push([got, expected]);
          for (const [k, w] of ws.entries()) {
            const m = compareStep(
              `grad${k}`,
              1,
              await w.grad.read(),
              refGrads[k]!,
              4 * Math.log2(sizes.reduce((a, b) => a + b)),
            );
            if (m) mismatches.push(m);
          }
        }
        await engine.sync();
        ws.forEach((w) => w.dispose());
        return { mismatches, norms };
      },
      sizes,
      limits,
      maxNorm,
    );
    expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
    for (const [got, expected] of r.norms)
      expect(Math.abs(got - expected) / expected).toBeLessThan(1e-6);
  },
);

it('clipGradValue clamps every gradient element', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { clipGradValue, reference } = window.webgpuOptim;
    const engine = await window.harness.engineFor({
      maxStorageBufferBindingSize: 65536,
      maxComputeWorkgroupsPerDimension: 4,
    });
    const sizes = [1, 257, 70001];
    const ws = sizes.map((n) => engine.parameter(n));
    const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3));
    ws.forEach((w, k) => w.grad.write(grads[k]!));
    const refGrads = grads.map((g) => Float64Array.from(g));
    reference.clipGradValueReference(refGrads, 0.5);
    clipGradValue(ws, 0.5);
    const same = await Promise.all(
      ws.map(async (w, k) =>
        (await w.grad.read()).every((v, i) => v === Math.fround(refGrads[k]![i]!)),
      ),
    );
    ws.forEach((w) => w.dispose());
    return same;
  });
  expect(r).toEqual([true, true, true]);
});

it('bad clipping arguments throw a RangeError before any GPU work', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { clipGradNorm, clipGradValue } = window.webgpuOptim;
    const engine = await window.harness.engineFor();
    const w = engine.parameter(3);
    const messages: string[] = [];
    for (const f of [
      () => clipGradNorm([w], 0),
      () => clipGradNorm([], 1),
      () => clipGradValue([w], -1),
    ]) {
      try {
        f();
      } catch (e) {
        messages.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    w.dispose();
    return messages;
  });
  expect(r).toEqual([
    'RangeError: clipGradNorm: maxNorm must be a finite number > 0, got 0',
    'RangeError: clipGradNorm: expected at least one parameter',
    'RangeError: clipGradValue: clipValue must be a finite number >= 0, got -1',
  ]);
});
