import { createEngine, WebGPUUnavailableError, type Engine } from '../../src/index.ts';

/** What each page exposes on `window.demo` for the end-to-end test (and the curious console user). */
export interface DemoHooks {
  /** True once the page has finished starting (with or without WebGPU). */
  ready: boolean;
  /** Why WebGPU could not be used, when it could not. */
  unavailable?: string;
  /** Waits for the GPU and throws any pending WebGPU error (engine.sync()). */
  sync?: () => Promise<void>;
  [hook: string]: unknown;
}

declare global {
  interface Window {
    demo?: DemoHooks;
  }
}

/**
 * Creates the engine for a page. Where WebGPU is unavailable it shows the reason in the page's
 * status banner, publishes `window.demo = { ready: true, unavailable }` and returns undefined.
 */
export async function bootEngine(): Promise<Engine | undefined> {
  // ?featureLevel=compatibility asks for a compatibility-mode adapter (as the GPU tests can).
  const featureLevel = new URLSearchParams(location.search).get('featureLevel');
  try {
    return await createEngine(featureLevel === 'compatibility' ? { featureLevel } : {});
  } catch (e) {
    if (!(e instanceof WebGPUUnavailableError)) throw e;
    showStatus(
      `WebGPU is unavailable, so this demo cannot run here: ${e.message}. ` +
        'Try a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled) on a machine with a GPU.',
      'error',
    );
    window.demo = { ready: true, unavailable: e.message };
    return undefined;
  }
}

/** Publishes the page's hooks, with `sync` bound to the engine. */
export function exposeHooks(engine: Engine, hooks: Record<string, unknown>): void {
  window.demo = { ready: true, sync: () => engine.sync(), ...hooks };
}

/** Shows a message in the page's #status banner ('error' also logs it). */
export function showStatus(message: string, kind: 'info' | 'error' = 'info'): void {
  const el = document.getElementById('status');
  if (el) {
    el.textContent = message;
    el.className = `status ${kind}`;
    el.hidden = false;
  }
  if (kind === 'error') console.error(message);
}

/**
 * Shows what a run is doing in the page's #progress line (`data-state` ready / running / done /
 * stopped),
 * e.g. 'Running: step 120 of 200' then 'Done: 200 steps'.
 */
export function showProgress(
  state: 'ready' | 'running' | 'done' | 'stopped',
  message: string,
): void {
  const el = document.getElementById('progress');
  if (!el) return;
  el.textContent = message;
  el.dataset.state = state;
  el.className = `progress ${state}`;
  el.hidden = false;
}

/** Runs an async UI action, reporting any error in the status banner instead of losing it. */
export function guarded(action: () => Promise<void> | void): () => void {
  return () => {
    Promise.resolve()
      .then(action)
      .catch((e: unknown) => showStatus(String(e instanceof Error ? e.message : e), 'error'));
  };
}

/** document.getElementById that fails loudly, typed by the caller. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: no element #${id}`);
  return el as T;
}
