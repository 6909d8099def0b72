import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * One config for the library build (`npm run build`), the demo/test dev server and vitest.
 * GPU tests run in Node and drive headless Chromium through puppeteer (test/setup/browser.ts):
 * vitest's browser mode has no puppeteer provider.
 */
export default defineConfig({
  server: { host: '127.0.0.1' },
  build: {
    lib: {
      // The TF.js adapter is a second entry (`webgpu-optim/tfjs`); shared code goes in a chunk.
      entry: {
        'webgpu-optim': resolve(import.meta.dirname, 'src/index.ts'),
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
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
