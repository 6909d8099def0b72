import puppeteer, { type Page } from 'puppeteer';
import { inject } from 'vitest';

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
