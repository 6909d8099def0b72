import { mkdirSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { afterEach, describe, expect, it } from 'vitest';
import { openPage } from '../gpu/browser.ts';

/**
 * Opens each demo page in the shared headless Chromium, drives it through the hooks it exposes on
 * `window.demo`, and checks: no page error, no WebGPU validation error (`demo.sync()` throws
 * pending GPU errors), and the behaviour each page exists to show. Screenshots go to test-output/;
 * with DEMO_SCREENSHOTS=1 also to demo/screenshots/ (the README shows those):
 *   DEMO_SCREENSHOTS=1 npx vitest run test/e2e
 */

const READY = 'window.demo && window.demo.ready';

/** Calls `window.demo[name](arg)` in the page and returns what it resolves to. */
function call<T>(page: Page, name: string, arg?: unknown): Promise<T> {
  return page.evaluate(
    (name, arg) => (window.demo![name] as (a: unknown) => Promise<unknown>)(arg),
    name,
    arg,
  ) as Promise<T>;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync('test-output', { recursive: true });
  await page.screenshot({ path: `test-output/demo-${name}.png`, fullPage: true });
  if (process.env.DEMO_SCREENSHOTS) {
    await page.screenshot({ path: `demo/screenshots/${name}.png`, fullPage: true });
  }
}

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(path, READY);
  await opened.page.setViewport({ width: 1280, height: 1000 });
  const unavailable = await opened.page.evaluate(() => window.demo!.unavailable);
  expect(unavailable, 'WebGPU unavailable in the test browser').toBeUndefined();
  pages.push(opened.page);
  return opened;
}

const pages: Page[] = [];
afterEach(async () => {
  for (const p of pages.splice(0)) await p.close();
});

interface RacerResult {
  label: string;
  finalLoss?: number;
  medianLoss?: number;
  finiteFraction?: number;
}

// A page reloads if vite sees a source file change mid-test (others edit src/ concurrently): retry once.
describe('demo pages', { retry: 1 }, () => {
  it("race: the seed articles' observations, and a swarm, without GPU errors", async () => {
    const { page, errors } = await open('/demo/index.html');
    const byLabel = (rs: RacerResult[]) => Object.fromEntries(rs.map((r) => [r.label, r]));

    const oscillation = byLabel(
      await call<RacerResult[]>(page, 'race', { preset: 'gd-oscillates', steps: 200 }),
    );
    // lr 0.28 on curvature 7.12: GD still zig-zags after 200 steps; AdaGrad has converged.
    expect(oscillation.GD!.finalLoss!).toBeGreaterThan(0.1);
    expect(oscillation.Adagrad!.finalLoss!).toBeLessThan(1e-3);

    const slow = byLabel(
      await call<RacerResult[]>(page, 'race', { preset: 'adadelta-slow', steps: 200 }),
    );
    // Adadelta's tiny first steps: after 200 steps it is still far above where Adam got.
    expect(slow.Adadelta!.finalLoss!).toBeGreaterThan(slow.Adam!.finalLoss! + 1);
    await call(page, 'sync');
    await screenshot(page, 'race');

    const swarm = await call<RacerResult[]>(page, 'swarm', {
      surface: 'random',
      steps: 100,
      points: 1024,
      every: 25,
    });
    expect(swarm.length).toBeGreaterThan(5);
    const adam = byLabel(swarm).Adam!;
    expect(adam.finiteFraction).toBe(1);
    expect(adam.medianLoss!).toBeLessThan(0);
    await call(page, 'sync');
    await screenshot(page, 'race-swarm');
    expect(errors, 'page errors').toEqual([]);
  });

  it('train: 200 mini-batch steps halve the loss, without GPU errors', async () => {
    const { page, errors } = await open('/demo/train.html');
    const runs = await call<Array<{ label: string; loss: number[]; accuracy: number[] }>>(
      page,
      'trainSteps',
      200,
    );
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const adam = runs.find((r) => r.label === 'Adam')!;
    expect(adam.loss).toHaveLength(200);
    const first = mean(adam.loss.slice(0, 5));
    const last = mean(adam.loss.slice(-20));
    expect(last, `Adam loss ${first} -> ${last}`).toBeLessThanOrEqual(first / 2);
    expect(mean(adam.accuracy.slice(-20))).toBeGreaterThan(0.8);
    for (const r of runs) expect(r.loss.every(Number.isFinite), r.label).toBe(true);
    await call(page, 'sync');
    await screenshot(page, 'train');
    expect(errors, 'page errors').toEqual([]);
  });

  it('bench: times every optimizer in the page and plots it', async () => {
    const { page, errors } = await open('/demo/bench.html');
    const names = await page.evaluate(() =>
      Object.keys((window as unknown as { demo: { optimizers?: string[] } }).demo),
    );
    expect(names).toContain('runBench');
    const results = await call<
      Array<{ name: string; msPerStep: number; mparamsPerSecond: number }>
    >(page, 'runBench', { n: 1 << 18, steps: 5 });
    expect(results.map((r) => r.name)).toEqual(expect.arrayContaining(['SGD', 'Adam', 'AdamW']));
    for (const r of results) {
      expect(r.msPerStep, r.name).toBeGreaterThan(0);
      expect(Number.isFinite(r.mparamsPerSecond), r.name).toBe(true);
    }
    await call(page, 'sync');
    await screenshot(page, 'bench');
    expect(errors, 'page errors').toEqual([]);
  });

  it('every page says so clearly where WebGPU is unavailable', async () => {
    const { page } = await open('/demo/index.html');
    await page.evaluateOnNewDocument(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
    });
    for (const path of ['index.html', 'train.html', 'bench.html']) {
      await page.goto(new URL(path, page.url()).href);
      await page.waitForFunction(READY, { timeout: 30_000 });
      const shown = await page.evaluate(() => ({
        unavailable: window.demo!.unavailable,
        banner: document.getElementById('status')!.hidden
          ? ''
          : document.getElementById('status')!.textContent,
      }));
      expect(shown.unavailable, path).toMatch(/navigator\.gpu/);
      expect(shown.banner, path).toMatch(/WebGPU is unavailable/);
    }
  });
});
