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

/** What each canvas drew (its `data-plot` summary, see demo/shared/axes.ts), by canvas id. */
interface PlotSummary {
  title: string;
  x?: { label: string; ticks: string[]; log?: boolean };
  y?: { label: string; ticks: string[]; log?: boolean };
  legend?: Array<{ label: string; color: string }>;
  legendBottom?: number;
  plotTop?: number;
}
function plots(page: Page): Promise<Record<string, PlotSummary>> {
  return page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll<HTMLCanvasElement>('canvas[data-plot][id]')).map((c) => [
        c.id,
        JSON.parse(c.dataset.plot!),
      ]),
    ),
  );
}

/** A plot a person can read: labelled axes with at least two ticks, the legend above the data. */
function expectReadable(p: PlotSummary | undefined, what: string): void {
  expect(p, what).toBeDefined();
  for (const axis of [p!.x, p!.y].filter(Boolean)) {
    expect(axis!.label, what).not.toBe('');
    expect(axis!.ticks.length, `${what}: ${axis!.label} ticks`).toBeGreaterThanOrEqual(2);
  }
  if (p!.plotTop !== undefined) expect(p!.legendBottom!, what).toBeLessThanOrEqual(p!.plotTop);
  const colors = (p!.legend ?? []).map((l) => l.color);
  expect(new Set(colors).size, `${what}: one colour per optimizer`).toBe(colors.length);
}

async function progress(page: Page): Promise<{ state?: string; text: string }> {
  return page.evaluate(() => {
    const el = document.getElementById('progress')!;
    return { state: el.dataset.state, text: el.hidden ? '' : el.textContent! };
  });
}

/** Each optimizer's colour on each page, to check they agree across pages. */
const colours: Record<string, Record<string, string>> = {};
function noteColours(pageName: string, p: PlotSummary | undefined): void {
  for (const { label, color } of p?.legend ?? []) {
    (colours[label === 'SGD' ? 'GD' : label] ??= {})[pageName] = color;
  }
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
    // The bowl's loss spans decades: the chart says its y scale is logarithmic.
    let drawn = await plots(page);
    expectReadable(drawn.loss, 'race loss chart');
    expect(drawn.loss!.y).toMatchObject({ label: 'loss f(x, y) (log scale)', log: true });
    expectReadable(drawn.plot, 'race contour plot');

    const slow = byLabel(
      await call<RacerResult[]>(page, 'race', { preset: 'adadelta-slow', steps: 200 }),
    );
    // Adadelta's tiny first steps: after 200 steps it is still far above where Adam got.
    expect(slow.Adadelta!.finalLoss!).toBeGreaterThan(slow.Adam!.finalLoss! + 1);
    expect(await progress(page)).toEqual({ state: 'done', text: 'Done: 200 steps (7 optimizers)' });
    drawn = await plots(page);
    expectReadable(drawn.loss, 'race loss chart');
    expect(drawn.loss!.x!.label).toBe('step');
    expect(drawn.loss!.legend!.map((l) => l.label)).toContain('Adadelta');
    noteColours('race', drawn.loss);
    const noteText = () => page.$eval('#note', (el) => el.textContent);
    expect(await noteText()).toMatch(/Adadelta's step/);
    await call(page, 'sync');
    await screenshot(page, 'race');
    // Changing the surface clears the preset and its note.
    await page.select('#surface', 'bowl');
    expect(await noteText()).toBe('Click on the plot to choose the start point.');
    expect(await page.$eval('#preset', (el) => (el as HTMLSelectElement).value)).toBe('');

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
    expect(await progress(page)).toEqual({
      state: 'done',
      text: 'Done: 100 steps (7 optimizers × 1024 points)',
    });
    drawn = await plots(page);
    expectReadable(drawn.loss, 'swarm loss chart');
    expect(drawn.loss!.y!.label).toBe('median loss');
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
    expect(await progress(page)).toEqual({
      state: 'done',
      text: 'Done: 200 steps (5 optimizers, batch 32)',
    });
    const drawn = await plots(page);
    expectReadable(drawn.loss, 'train loss chart');
    expectReadable(drawn.accuracy, 'train accuracy chart');
    expect(drawn.loss!.y).toMatchObject({ label: 'cross-entropy (log scale)', log: true });
    expect(drawn.accuracy!.y!.label).toBe('accuracy');
    noteColours('train', drawn.loss);
    await call(page, 'sync');
    await screenshot(page, 'train');
    expect(errors, 'page errors').toEqual([]);
  });

  it('train: the state selector trains Adam and AdamW with bfloat16 and 8-bit state as well', async () => {
    const { page, errors } = await open('/demo/train.html');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const stateDtype of ['bfloat16', '8bit']) {
      const runs = await page.evaluate(
        (stateDtype) =>
          (
            window.demo!.trainSteps as (
              n: number,
              o: object,
            ) => Promise<Array<{ label: string; loss: number[] }>>
          )(200, { stateDtype, optimizers: ['Adam', 'AdamW'] }),
        stateDtype,
      );
      expect(runs.map((r) => r.label)).toEqual(['Adam', 'AdamW']);
      for (const r of runs) {
        const first = mean(r.loss.slice(0, 5));
        const last = mean(r.loss.slice(-20));
        expect(last, `${r.label} ${stateDtype} loss ${first} -> ${last}`).toBeLessThanOrEqual(
          first / 2,
        );
      }
      expect(await page.$eval('#stateDtype', (e) => (e as HTMLSelectElement).value)).toBe(
        stateDtype,
      );
    }
    expect(errors, 'page errors').toEqual([]);
  });

  it('train: Adafactor factors the weight matrices and Muon trains them with AdamW on the biases', async () => {
    const { page, errors } = await open('/demo/train.html');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const runs = await page.evaluate(() =>
      (
        window.demo!.trainSteps as (
          n: number,
          o: object,
        ) => Promise<Array<{ label: string; loss: number[] }>>
      )(200, { stateDtype: 'float32', optimizers: ['Adafactor', 'Muon'] }),
    );
    expect(runs.map((r) => r.label)).toEqual(['Adafactor', 'Muon']);
    for (const r of runs) {
      const first = mean(r.loss.slice(0, 5));
      const last = mean(r.loss.slice(-20));
      expect(last, `${r.label} loss ${first} -> ${last}`).toBeLessThanOrEqual(first / 2);
    }
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
    expect(await progress(page)).toEqual({
      state: 'done',
      text: `Done: ${results.length} optimizers at 262,144 parameters, 5 timed steps each.`,
    });
    const drawn = await plots(page);
    expectReadable(drawn.ms, 'bench ms chart');
    expectReadable(drawn.throughput, 'bench throughput chart');
    expect(drawn.ms!.x!.label).toBe('ms per step');
    noteColours('bench', drawn.ms);
    // One colour per optimizer on every page (the race and train tests ran first).
    for (const [label, byPage] of Object.entries(colours)) {
      expect(new Set(Object.values(byPage)).size, `${label}: ${JSON.stringify(byPage)}`).toBe(1);
    }
    expect(Object.keys(colours.Adam ?? {}).sort()).toEqual(['bench', 'race', 'train']);
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
