import { measure, median } from '../../bench/gpu.ts';
import { benchShape } from '../../bench/shape.ts';
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
 * Throughput of `name` on one tensor of `n` parameters, timed as the CLI benchmark times it
 * (bench/gpu.ts `measure`: `warmup` steps, then the median of `steps` steps, each waited for
 * with `queue.onSubmittedWorkDone()`), so the page and `npm run bench` report the same figure.
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
  const p = engine.parameter(values, { label: `bench/${name}`, shape: benchShape(name, n) });
  p.grad.write(values.map((v) => v * 1e-2));
  const opt = createOptimizer(name, [p], benchOptions(name));
  try {
    const subject = { step: () => opt.step(), done: () => engine.queue.onSubmittedWorkDone() };
    const [timing] = await measure(engine.device, [subject], warmup, steps);
    const ms = median(timing!.wall);
    await engine.sync();
    return { name, n, msPerStep: ms, mparamsPerSecond: n / (ms * 1e3) };
  } finally {
    opt.dispose();
    p.dispose();
  }
}
