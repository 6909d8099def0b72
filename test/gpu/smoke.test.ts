import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { openPage } from './browser.ts';
import { mismatchTable } from './compare.ts';
import type { OptimizerCase } from './harness.ts';

let page: Page;
beforeAll(async () => {
  ({ page } = await openPage('/test/gpu/page.html'));
});
afterAll(() => page?.close());

it.each([
  { optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9 }, sizes: [1, 3, 257, 5000] },
  { optimizer: 'Adam', options: { lr: 0.01, amsgrad: true }, sizes: [1, 3, 257, 5000] },
] as const)('$optimizer $sizes', async ({ optimizer, options, sizes }) => {
  const c: OptimizerCase = { optimizer, options, groups: [{ sizes: [...sizes] }], steps: 20, seed: 1 };
  const r = await page.evaluate((c) => window.harness.runOptimizerCase(c), c);
  console.log(r.adapter, r.pipelines);
  expect(r.mismatches, mismatchTable(r.mismatches)).toEqual([]);
});
