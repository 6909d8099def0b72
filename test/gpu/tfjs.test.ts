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
    expect(r.stats).toEqual({ sets: 1, detached: 0, rebinds: 0 });
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
