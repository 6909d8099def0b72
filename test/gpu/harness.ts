/**
 * In-page side of the GPU tests: runs a case (optimizer x options x tensor sizes x steps) on the
 * engine and on the float64 reference side by side, and returns the mismatches. Loaded by
 * test/gpu/page.html; Node-side tests call `window.harness.*` through puppeteer.
 */
import { createEngine, type Engine, type PlanningLimits } from '../../src/engine.ts';
import * as api from '../../src/index.ts';
import { runAddParamGroupCase, type AddGroupCase } from './add-param-group.ts';
import { runOptimizerCase as runCase, type OptimizerCase } from './cases.ts';
import { compareStep } from './compare.ts';
import { rejectTrial } from './reject.ts';
import { countingDevice } from './counting-device.ts';
import { runStorageKernelCase, type StorageKernelCase } from './state-dtype-cases.ts';

export type { CaseResult, OptimizerCase } from './cases.ts';

const engines = new Map<string, Promise<Engine>>();
const featureLevel = new URLSearchParams(location.search).get('featureLevel') as
  'compatibility' | null;

/** One engine per set of limits, shared across cases like a real page would. */
export function engineFor(limits: Partial<PlanningLimits> = {}): Promise<Engine> {
  const key = JSON.stringify(limits);
  let e = engines.get(key);
  if (!e)
    engines.set(key, (e = createEngine({ limits, ...(featureLevel ? { featureLevel } : {}) })));
  return e;
}

/** Runs one case on this page's engines (see cases.ts). */
export function runOptimizerCase(c: OptimizerCase) {
  return runCase(c, engineFor);
}

/** Runs one addParamGroup case on this page's engines (see add-param-group.ts). */
export function runAddGroupCase(c: AddGroupCase) {
  return runAddParamGroupCase(c, engineFor);
}

declare global {
  interface Window {
    harness: typeof harness;
    /** The public API, for tests that script the page directly. */
    webgpuOptim: typeof api;
  }
}
const harness = {
  runOptimizerCase,
  runStorageKernelCase: (c: StorageKernelCase) => runStorageKernelCase(c, () => engineFor()),
  runAddGroupCase,
  engineFor,
  compareStep,
  rejectTrial,
  countingDevice,
};
window.webgpuOptim = api;
window.harness = harness;
