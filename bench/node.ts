/**
 * `npm run bench -- --runtime node`: the benchmark page's functions (bench/page.ts) run in Node on
 * Dawn (the `webgpu` npm package), found by createEngine() as in any Node program. The page code
 * reads a few browser names (window, location, navigator.userAgent) and, in bench/gpu.ts, the
 * GPUBufferUsage / GPUMapMode globals: those are provided here (Dawn's globals); the engine itself
 * needs none of them.
 */
import type { Bench } from './page.ts';

export async function nodeBench(): Promise<Bench> {
  const specifier = 'webgpu';
  const { globals } = (await import(/* @vite-ignore */ specifier)) as {
    globals: Record<string, unknown>;
  };
  const g = globalThis as Record<string, unknown>;
  for (const name of ['GPUBufferUsage', 'GPUMapMode']) g[name] ??= globals[name];
  g.window ??= globalThis;
  g.location ??= new URL('http://node.invalid/bench/bench.html');
  if (typeof (g.navigator as { userAgent?: string } | undefined)?.userAgent !== 'string') {
    Object.defineProperty(globalThis, 'navigator', {
      value: { userAgent: `Node.js ${process.version} (Dawn)` },
      configurable: true,
    });
  }
  await import('./page.ts');
  return (globalThis as unknown as { bench: Bench }).bench;
}
