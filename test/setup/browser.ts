import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    browserWSEndpoint: string;
    baseUrl: string;
    adapter: 'default' | 'compat';
  }
}

/** Chromium flags for headless WebGPU (software Vulkan where there is no GPU). */
export function chromiumArgs(adapter: 'default' | 'compat'): string[] {
  const args = [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  if (adapter === 'compat') {
    args.push('--use-angle=vulkan', '--use-webgpu-adapter=opengles', '--force-webgpu-compat');
  }
  return args;
}

/** The system Chromium when there is one (CI, this machine), else puppeteer's own Chrome. */
export function chromiumPath(): string | undefined {
  const path = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
  return existsSync(path) ? path : undefined;
}

/** Starts puppeteer's browser once per run, plus a vite dev server for the test pages. */
export async function startBrowserAndServer(adapter: 'default' | 'compat'): Promise<{
  browser: Browser;
  server: ViteDevServer;
  baseUrl: string;
}> {
  // No HMR or file watching: a page must not reload under a running test when a file changes.
  const server = await createServer({
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  });
  await server.listen();
  const baseUrl = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
  const browser = await puppeteer.launch({
    headless: true,
    executablePath: chromiumPath(),
    args: chromiumArgs(adapter),
  });
  return { browser, server, baseUrl };
}

export default async function setup(project: TestProject) {
  const adapter = process.env.WEBGPU_OPTIM_ADAPTER === 'compat' ? 'compat' : 'default';
  const { browser, server, baseUrl } = await startBrowserAndServer(adapter);
  project.provide('browserWSEndpoint', browser.wsEndpoint());
  project.provide('baseUrl', baseUrl);
  project.provide('adapter', adapter);
  return async () => {
    await browser.close();
    await server.close();
  };
}
