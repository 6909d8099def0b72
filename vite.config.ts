import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { dawnEnvironment } from './test/setup/dawn.ts';

/**
 * One config for the library build (`npm run build`), the demo/test dev server and vitest.
 * GPU tests run in Node and drive headless Chromium through puppeteer (test/setup/browser.ts):
 * vitest's browser mode has no puppeteer provider.
 */
export default defineConfig({
  server: { host: '127.0.0.1' },
  build: {
    lib: {
      entry: resolve(import.meta.dirname, 'src/index.ts'),
      formats: ['es'],
      fileName: () => 'webgpu-optim.js',
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
