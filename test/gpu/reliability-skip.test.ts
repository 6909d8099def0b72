import { describe, expect, it } from 'vitest';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import { seededRandom } from '../../src/reference/random.ts';
import { useHarnessPage } from './browser.ts';
import { mismatchTable } from './compare.ts';
import type { OptimizerCase } from './harness.ts';

/**
 * skipNonFinite never drops a finite step: for any sequence of finite and non-finite gradients,
 * with or without awaiting between steps, with step() or step(encoder), the parameters and state
 * equal the reference run of the finite steps alone (same bound as the optimizer suite), and
 * skippedSteps() counts exactly the non-finite ones. The loops below never await between steps,
 * so no confirmation of a skip reaches the host until the end.
 */
const harnessPage = useHarnessPage();

/** Seeded random subset of 1..steps with probability `p` of each step being non-finite. */
function poisoned(seed: number, steps: number, p: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: steps }, (_, i) => i + 1).filter(() => random() < p);
}

const sequences: Array<{ name: string; steps: number; nonFiniteSteps: number[] }> = [
  // The report: 20 NaN steps, then 20 finite ones (these used to be dropped).
  { name: '20 non-finite then 20 finite', steps: 40, nonFiniteSteps: range(1, 20) },
  // The report: 40 alternating steps must count 20 skips (32 were reported).
  { name: '40 alternating', steps: 40, nonFiniteSteps: range(1, 40).filter((t) => t % 2) },
  { name: 'fuzz seed 1, p=0.3, 200 steps', steps: 200, nonFiniteSteps: poisoned(1, 200, 0.3) },
  { name: 'fuzz seed 2, p=0.7, 200 steps', steps: 200, nonFiniteSteps: poisoned(2, 200, 0.7) },
];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const cases: Array<{ title: string; c: OptimizerCase }> = [];
for (const name of Object.keys(optimizerSpecs) as OptimizerName[]) {
  const options = optimizerSpecs[name].testOptions[0] as Record<string, unknown>;
  for (const s of sequences) {
    for (const encoder of [false, true]) {
      // The fuzz sequences on every optimizer would take minutes on a software GPU: the two
      // reported sequences run everywhere, the fuzz ones on one elementwise and one norm rule.
      if (s.steps > 40 && !['Adam', 'SGD', 'LAMB', 'NAdam'].includes(name)) continue;
      cases.push({
        title: `${name} | ${s.name} | ${encoder ? 'step(encoder)' : 'step()'}`,
        c: {
          optimizer: name,
          options,
          groups: [
            { sizes: [3, 257] },
            { sizes: [1030], options: { lr: ((options.lr as number) ?? 0.01) / 2 } },
          ],
          steps: s.steps,
          seed: 5,
          skipNonFinite: true,
          nonFiniteSteps: s.nonFiniteSteps,
          checkEvery: s.steps, // compare at the end only: no await between steps
          encoder,
        },
      });
    }
  }
}

describe('skipNonFinite: parameters and state equal the run of the finite steps alone', () => {
  it.each(cases)('$title', async ({ c }) => {
    const r = await harnessPage().evaluate((c) => window.harness.runOptimizerCase(c), c);
    expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
  });
});

it('step counts in the state dict are the applied steps, per tensor, after a mixed run', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, Adam } = window.webgpuOptim;
    const engine = await createEngine();
    const w = engine.parameter(new Float32Array([1, 2, 3]));
    const opt = new Adam([w], { lr: 0.1, skipNonFinite: true });
    for (let t = 1; t <= 30; t++) {
      w.grad.write(new Float32Array([t % 3 === 0 ? Infinity : 0.5, 0.1, -0.2]));
      opt.step();
    }
    const sd = await opt.stateDict();
    const skipped = await opt.skippedSteps();
    engine.dispose();
    return { step: sd.state[0]!.step, skipped };
  });
  expect(r).toEqual({ step: 20, skipped: 10 });
});

it('options that change every step stay exact while skips are unconfirmed (each step uses the lr it was recorded with)', async () => {
  const r = await harnessPage().evaluate(async () => {
    const api = window.webgpuOptim;
    const { adamReference } = api.reference;
    const engine = await api.createEngine();
    const n = 257;
    const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const w = engine.parameter(init);
    const options = { ...api.optimizerSpecs.Adam.defaults, lr: 0.01 };
    const opt = new api.Adam([w], { lr: 0.01, skipNonFinite: true });
    const ref = Float64Array.from(init);
    const state = adamReference.init(n, options);
    for (let k = 1; k <= 60; k++) {
      const lr = 0.02 / (1 + (k % 7)); // changes at every submission
      opt.paramGroups[0]!.lr = lr;
      const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * k));
      const poisoned = k % 3 !== 1 && k % 5 === 0; // some skipped, irregularly
      if (poisoned) g[5] = NaN;
      w.grad.write(g);
      opt.step(); // no await: the host never learns which steps were skipped until the end
      if (!poisoned) adamReference.step(ref, Float64Array.from(g), state, { ...options, lr });
    }
    const got = await w.read();
    const sd = await opt.stateDict();
    engine.dispose();
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
      scale = Math.max(scale, Math.abs(ref[i]!));
    }
    return { ratio: worst / (2 ** -23 * scale), step: sd.state[0]!.step, refStep: state.step };
  });
  expect(r.step).toBe(r.refStep);
  expect(r.ratio, 'error in units of 2^-23 max|ref|').toBeLessThan(4 * 60);
});
