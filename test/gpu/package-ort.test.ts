import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer';
import { build } from 'vite';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { linearModel } from './ort/linear-model.ts';

/**
 * The README's ORT recipe as a user of the built package runs it: `dist/ort.js` and
 * `dist/webgpu-optim.js` and onnxruntime-web's own files served as static files, no bundler, no
 * dev server. One Adam step on weights in ORT GPU tensors, then an inference that uses them.
 */
const outDir = resolve('test-output/package-ort');
const ortDir = resolve('node_modules/onnxruntime-web/dist');
let server: Server;
let url: string;

const page = `<!doctype html><link rel="icon" href="data:,"><script type="module">
  import * as ort from './ort/ort.webgpu.min.mjs';
  import { Adam } from './webgpu-optim.js';
  import { ortEngine, ortWeight } from './ort.js';
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  ort.env.wasm.numThreads = 1;
  try {
    const engine = await ortEngine(ort);
    const model = new Uint8Array(await (await fetch('./model.onnx')).arrayBuffer());
    const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
    const W = ortWeight(ort, engine, Float32Array.from([1, 2]), [2, 1], 'W');
    const B = ortWeight(ort, engine, Float32Array.from([0.5]), [1], 'B');
    const X = new ort.Tensor('float32', Float32Array.from([1, 1]), [1, 2]);
    const before = (await session.run({ X, W: W.tensor, B: B.tensor })).Y.data[0];
    W.parameter.grad.write(Float32Array.from([1, 1]));
    B.parameter.grad.write(Float32Array.from([1]));
    new Adam([W.parameter, B.parameter], { lr: 0.25 }).step();
    const after = (await session.run({ X, W: W.tensor, B: B.tensor })).Y.data[0];
    window.result = { before, after };
  } catch (e) {
    window.result = { error: String(e) };
  }
</script>`;

beforeAll(async () => {
  await build({ logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const model = linearModel(2, 1);
  server = createServer(async (req, res) => {
    const path = (req.url ?? '').replace(/\?.*$/, '');
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    if (path === '/model.onnx') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
      return;
    }
    try {
      const file = path.startsWith('/ort/') ? join(ortDir, path.slice(5)) : join(outDir, path);
      const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      res.writeHead(200, { 'content-type': type }).end(await readFile(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => server?.close(() => done()));
});

it('dist/ort.js steps weights in ORT GPU tensors in a page without a bundler', async () => {
  const browser = await puppeteer.connect({ browserWSEndpoint: inject('browserWSEndpoint') });
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  await tab.goto(url);
  await tab.waitForFunction('window.result', { timeout: 60_000 });
  // Y = 1·1 + 1·2 + 0.5; Adam's first step moves each weight by lr = 0.25 against the gradient.
  expect(await tab.evaluate('window.result')).toEqual({ before: 3.5, after: 2.75 });
  expect(errors).toEqual([]);
  await tab.close();
});
