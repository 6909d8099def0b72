import { expect, it } from 'vitest';
import { openPage } from './browser.ts';
import type { LeastSquaresResult } from './ort/ort-page.ts';

/**
 * ONNX Runtime Web interop (src/ort): weights in ORT GPU tensors on ORT's WebGPU device, stepped
 * in place by Adam, and used by the next session.run() (checked against X·W+B on the host with
 * the weights read back, and against ORT's wasm EP).
 */
it('Adam steps weights held in ORT GPU tensors; the next inference uses them', async () => {
  const { page, errors } = await openPage('/test/gpu/ort.html', 'window.ortHarness');
  const r = await page.evaluate(() => window.ortHarness.leastSquares(20));
  expect(r.sameDevice, "the engine is on ORT's device").toBe(true);
  expect(r.untouchedWeightsUnchanged).toBe(true);
  // Every inference after a step computes X·W+B with the stepped weights (float32 rounding)...
  for (const [t, e] of r.outputErrors.entries()) expect(e, `step ${t + 1}`).toBeLessThan(1e-5);
  // ...which differ from the previous ones (the run did not see stale weights).
  for (const [t, d] of r.outputChanges.entries()) expect(d, `step ${t + 1}`).toBeGreaterThan(1e-3);
  expect(r.losses.at(-1)!, r.losses.join(' ')).toBeLessThan(r.losses[0]! / 4);
  expect(r.wasmDifference).toBeLessThan(1e-5);
  expect(r.survivesRelease, 'engine usable after the sessions were released').toBe(true);
  expect(await page.evaluate(() => window.ortHarness.refusals())).toEqual([
    expect.stringMatching(/^TypeError: ortParameter: .*location 'gpu-buffer'.*location 'cpu'/),
    expect.stringMatching(/^RangeError: ortWeight: dims \[2, 2\]/),
  ]);
  // A buffer of another device is refused by ORT's WebGPU validation: hence ortEngine.
  expect(await page.evaluate(() => window.ortHarness.foreignDevice())).toMatch(
    /WebGPU validation failed\. \[Buffer "foreign"\] is associated with \[Device "not-orts"\]/,
  );
  expect(errors, 'page errors').toEqual([]);
  await page.close();
  console.log(`ORT WebGPU EP on ${r.adapter}: loss ${r.losses[0]} -> ${r.losses.at(-1)}`);
  void (r satisfies LeastSquaresResult);
});
