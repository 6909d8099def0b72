import { expect, it } from 'vitest';
import { openPage } from '../gpu/browser.ts';

/** demo/tfjs.html trains the same TF.js model with tf.train.adam and our adapters and plots it. */
it(
  'tfjs demo: three optimizers train, with step times and falling losses',
  { retry: 1 },
  async () => {
    const { page, errors } = await openPage('/demo/tfjs.html', 'window.demo && window.demo.ready');
    try {
      expect(await page.evaluate(() => window.demo!.unavailable)).toBeUndefined();
      const rows = (await page.evaluate(() =>
        (window.demo!.runTraining as (o: object) => Promise<unknown>)({
          widths: [32, 64, 10],
          batch: 32,
          steps: 6,
          warmup: 1,
          optimizerSteps: 3,
        }),
      )) as Array<{
        name: string;
        train: number;
        opt: number;
        optRatio: number;
        finalLoss: number;
      }>;
      expect(rows.map((r) => r.name)).toEqual([
        'tf.train.adam',
        'webgpu-optim Adam',
        'webgpu-optim AdamW',
      ]);
      for (const r of rows) {
        expect(r.train, r.name).toBeGreaterThan(0);
        expect(r.opt, r.name).toBeGreaterThan(0);
        expect(Number.isFinite(r.finalLoss), r.name).toBe(true);
      }
      await page.evaluate(() => (window.demo!.sync as () => Promise<void>)());
      expect(errors.filter((e) => !/synchronously reading/.test(e))).toEqual([]);
    } finally {
      await page.close();
    }
  },
);
