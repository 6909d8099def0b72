import type { Engine } from '../../src/index.ts';
import { createOptimizer, defaultOptions } from '../shared/optimizer-choices.ts';
import { seededRandom } from '../shared/random.ts';

export interface StepTiming {
  name: string;
  n: number;
  msPerStep: number;
  mparamsPerSecond: number;
}

/** Options timed: PyTorch defaults, SGD with momentum (the common case), a required lr set to 1e-3. */
function benchOptions(name: string): Record<string, unknown> {
  const o = defaultOptions(name);
  if (name === 'SGD') o.momentum = 0.9;
  if (Number.isNaN(o.lr)) o.lr = 1e-3;
  return o;
}

/**
 * Throughput of `name` on one tensor of `n` parameters: `warmup` steps, then `steps` steps
 * submitted back to back and waited for once with `queue.onSubmittedWorkDone()`, so the time
 * is the GPU's (and the submission's), not a readback's.
 */
export async function timeOptimizerStep(
  engine: Engine,
  name: string,
  n: number,
  steps: number,
  warmup = 3,
): Promise<StepTiming> {
  const random = seededRandom(n);
  const values = Float32Array.from({ length: n }, () => random() - 0.5);
  const p = engine.parameter(values, { label: `bench/${name}` });
  p.grad.write(values.map((v) => v * 1e-2));
  const opt = createOptimizer(name, [p], benchOptions(name));
  try {
    for (let i = 0; i < warmup; i++) opt.step();
    await engine.sync();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) opt.step();
    await engine.queue.onSubmittedWorkDone();
    const ms = (performance.now() - t0) / steps;
    await engine.sync();
    return { name, n, msPerStep: ms, mparamsPerSecond: n / (ms * 1e3) };
  } finally {
    opt.dispose();
    p.dispose();
  }
}
