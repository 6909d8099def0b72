import { expect, it } from 'vitest';
import { openPage } from './browser.ts';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll } from 'vitest';

/** webgpu-optim/tfjs against TF.js itself, in a page running TF.js's webgpu backend. */
let page: Page;
let errors: string[] = [];
beforeAll(async () => {
  ({ page, errors } = await openPage('/test/gpu/tfjs-page.html', 'window.tfjsHarness'));
  await page.evaluate(() => window.tfjsHarness.ready);
});
afterAll(async () => {
  expect(
    errors.filter((e) => !/synchronously reading data/.test(e)),
    'page errors',
  ).toEqual([]);
  await page?.close();
});

it.each(['adam', 'sgd', 'momentum', 'nesterov', 'rmsprop', 'rmspropCentered'])(
  'matches tf.train.%s on the same gradients',
  async (which) => {
    const r = await page.evaluate((w) => window.tfjsHarness.versusTfTrain(w, 5), which);
    for (const e of r.errors) expect(e).toBeLessThan(1e-5);
    // The helper makes each variable with tf.variable(tensor), which shares the data: 4 detached.
    expect(r.stats).toEqual({ sets: 1, detached: 4, rebinds: 0 });
  },
);

it('model.fit with AdamW matches a float64 AdamW on the gradients fit computed', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.fitAdamW(4, 16));
  expect(r.steps).toBe(16);
  expect(r.iterations).toBe(16);
  expect(r.mismatches).toEqual([]);
  expect(r.loss.at(-1)!).toBeLessThan(r.loss[0]!);
  expect(r.leakedTensors).toBe(0);
  console.log(JSON.stringify(r));
});

it('every registry optimizer steps TF.js variables like its float64 reference', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.allOptimizers());
  for (const [name, m] of Object.entries(r)) expect(m, name).toEqual([]);
});

it('minimize() through TF.js autodiff matches tf.train.adam', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.versusTfTrain('adam', 5, true));
  for (const e of r.errors) expect(e).toBeLessThan(1e-5);
});

it("variables' .data() and .dataSync() after steps, and ops reading them", async () => {
  const r = await page.evaluate(() => window.tfjsHarness.dataAfterSteps());
  expect(r).toEqual([
    [1, 2, 3, 4],
    [0.5, 1.5, 2, 3],
    [0.5, 1.5, 2, 3],
    [0, 1, 1, 2],
    [0, 2, 2, 4],
  ]);
});

it('leaks no tensor, no TF.js GPU memory, and no engine buffer after dispose()', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.leaks(30));
  expect(r).toEqual({ tensors: 0, bytesInGPU: 0, iterations: 31, engineBuffersAlive: 0 });
});

it('a model of 300 variables matches tf.train.adam', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.manyVariables(300, 3));
  for (const e of r.errors) expect(e).toBeLessThan(1e-5);
  expect(r.stats.sets).toBe(1);
  console.log('300 variables, ms per minimize (3 steps, SwiftShader):', r.ms);
});

it('follows a variable whose buffer TF.js replaced (assign, model.setWeights)', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.reassigned());
  for (const e of r.errors) expect(e).toBeLessThan(1e-5);
  expect(r.stats.ours.rebinds).toBe(1);
  expect(r.stats.model.rebinds).toBeGreaterThanOrEqual(1);
  for (const k of r.kernel) expect(k).toBeCloseTo(1 - (0.1 * 4) / 3, 5);
});

it('a variable sharing data with another tensor gets its own; the tensor is untouched', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.sharedData());
  expect(r).toEqual({
    xUnchanged: true,
    stepped: true,
    stats: { sets: 1, detached: 1, rebinds: 0 },
  });
});

it("getWeights in TF.js's names; setWeights into a fresh optimizer continues bit-identically", async () => {
  const r = await page.evaluate(() => window.tfjsHarness.weightsRoundTrip());
  expect(r.identical).toBe(true);
  expect(r.iterations).toBe(4);
  expect(r.ourNames).toEqual(r.theirNames);
});

it('is a registered tf.Optimizer: getConfig/fromConfig, className, options checked up front', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.serialization());
  expect(r.className).toBe('WebGPUAdamW');
  expect(r.isOptimizer).toBe(true);
  expect(r.kind).toBe('AdamW');
  expect(r.config).toEqual({ lr: 3e-4, weightDecay: 0.1, clipGradNorm: 2 });
  expect(r.roundTrip).toEqual(r.config);
  expect(r.errors).toHaveLength(4);
  expect(r.errors[1]).toMatch(/learningRate/);
});

it('runs a scheduler after every step and clipGradNorm before it', async () => {
  const r = await page.evaluate(() => window.tfjsHarness.schedulerAndClip());
  expect(r.lrs).toEqual([1, 0.5, 0.5, 0.25]);
  // Clipped gradient [0.6, 0.8, 0, 0] times lrs 1, 1, 0.5, 0.5 (lr changes after each step).
  const total = 1 + 1 + 0.5 + 0.5;
  expect(r.values[0]).toBeCloseTo(-0.6 * total, 5);
  expect(r.values[1]).toBeCloseTo(-0.8 * total, 5);
});
