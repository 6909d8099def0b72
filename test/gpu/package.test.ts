import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer';
import { build } from 'vite';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

/**
 * The built package (`npm run build`'s bundle) imports in a plain page with no bundler and no dev
 * server: served as static files, loaded with <script type="module">.
 */
const outDir = resolve('test-output/package');
let server: Server;
let url: string;

beforeAll(async () => {
  await build({ logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const page = `<!doctype html><link rel="icon" href="data:,"><script type="module">
    import { createEngine, SGD } from './webgpu-optim.js';
    const engine = await createEngine();
    const w = engine.parameter(new Float32Array([1, 2, 3]));
    w.grad.write(new Float32Array([1, 1, 1]));
    new SGD([w], { lr: 0.5 }).step();
    window.result = Array.from(await w.read());
  </script>`;
  server = createServer(async (req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    try {
      const body = await readFile(join(outDir, (req.url ?? '').replace(/\?.*$/, '')));
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
afterAll(async () => {
  server?.closeAllConnections(); // the browser keeps its connection alive
  await new Promise<void>((done) => server?.close(() => done()));
});

it('dist/webgpu-optim.js runs an SGD step in a page without a bundler', async () => {
  const browser = await puppeteer.connect({ browserWSEndpoint: inject('browserWSEndpoint') });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction('window.result', { timeout: 60_000 });
  expect(await page.evaluate('window.result')).toEqual([0.5, 1.5, 2.5]);
  expect(errors).toEqual([]);
  await page.close();
});
