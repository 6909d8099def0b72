import { resolve } from 'node:path';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { dawnEnvironment } from './test/setup/dawn.ts';

/**
 * One config for the library build (`npm run build`), the demo/test dev server and vitest.
 * GPU tests run in Node and drive headless Chromium through puppeteer (test/setup/browser.ts):
 * vitest's browser mode has no puppeteer provider.
 */
/**
 * The dev server's root URL (the one vite prints, and `npm run demo` serves) has no page of its
 * own: send it to the demo, and print the demo's URL beside vite's.
 */
function demoAtRoot(): Plugin {
  return {
    name: 'webgpu-optim:demo-at-root',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url !== '/' && req.url !== '/index.html') return next();
        res.writeHead(302, { location: '/demo/' }).end();
      });
      const printUrls = server.printUrls.bind(server);
      server.printUrls = () => {
        printUrls();
        for (const url of server.resolvedUrls?.local ?? [])
          server.config.logger.info(`  ➜  Demo:    ${url.replace(/\/$/, '')}/demo/`);
      };
    },
  };
}

export default defineConfig({
  plugins: [demoAtRoot()],
  server: { host: '127.0.0.1' },
  build: {
    lib: {
      // Subpath entries: webgpu-optim/ort and webgpu-optim/tfjs load only for their users;
      // shared code goes in a chunk.
      entry: {
        'webgpu-optim': resolve(import.meta.dirname, 'src/index.ts'),
        ort: resolve(import.meta.dirname, 'src/ort/index.ts'),
        tfjs: resolve(import.meta.dirname, 'src/tfjs/index.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    target: 'es2022',
    sourcemap: true,
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/browser.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // GPU files share one software GPU (SwiftShader) on a small machine: run files one at a time.
    fileParallelism: false,
    // Test workers are spawned with it: the Node GPU suite (test/node) finds a Vulkan for Dawn.
    env: dawnEnvironment().env,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
