import puppeteer, { type Page } from 'puppeteer';
import { afterAll, beforeAll, expect, inject } from 'vitest';

/**
 * Opens a test page in the shared headless Chromium (started in test/setup/browser.ts) and waits
 * for its harness. Page errors and console errors are collected for the tests to assert on.
 */
export async function openPage(
  path: string,
  ready = 'window.harness',
): Promise<{ page: Page; errors: string[] }> {
  const browser = await puppeteer.connect({ browserWSEndpoint: inject('browserWSEndpoint') });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || /WebGPU|validation/i.test(m.text())) errors.push(m.text());
  });
  const query = inject('adapter') === 'compat' ? '?featureLevel=compatibility' : '';
  await page.goto(`${inject('baseUrl')}${path}${query}`);
  await page.waitForFunction(ready, { timeout: 60_000 });
  return { page, errors };
}

/**
 * The usual fixture of a GPU test file: the harness page opened before the tests, and after
 * them no page error may have been seen. Returns a getter (the page exists once beforeAll ran).
 */
export function useHarnessPage(): () => Page {
  let page: Page | undefined;
  let errors: string[] = [];
  beforeAll(async () => {
    ({ page, errors } = await openPage('/test/gpu/page.html'));
  });
  afterAll(async () => {
    expect(errors, 'page errors').toEqual([]);
    await page?.close();
  });
  return () => page!;
}
