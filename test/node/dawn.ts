import { createEngine, type Engine, type PlanningLimits } from '../../src/engine.ts';

/**
 * The Node GPU suite runs the engine on Dawn (the `webgpu` npm package), found by createEngine()
 * itself. When the package cannot be loaded at all (not installed, no prebuilt binary for this
 * platform), the suite is skipped and says why; once it loads, every failure (no adapter, no
 * device) fails the tests.
 */
export async function dawnStatus(): Promise<
  { available: true } | { available: false; reason: string }
> {
  const specifier = 'webgpu';
  try {
    await import(/* @vite-ignore */ specifier);
    return { available: true };
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
}

/** Prints the reason a Node GPU file is skipped, once per file, where `npm test` shows it. */
export function reportSkipped(file: string, reason: string): void {
  console.warn(
    `[node-gpu] SKIPPED ${file}: the 'webgpu' package (Dawn) cannot be loaded (${reason}); install it (npm install) to run the Node GPU suite`,
  );
}

const engines = new Map<string, Promise<Engine>>();

/** One engine per set of planning limits, as createEngine() finds Dawn (no gpu option). */
export function engineFor(limits: Partial<PlanningLimits> = {}): Promise<Engine> {
  const key = JSON.stringify(limits);
  let e = engines.get(key);
  if (!e) engines.set(key, (e = createEngine({ limits })));
  return e;
}

/** Disposes the engines (destroys their Dawn devices) so the worker exits cleanly. */
export async function disposeEngines(): Promise<void> {
  for (const e of engines.values()) (await e.catch(() => undefined))?.dispose();
  engines.clear();
}
