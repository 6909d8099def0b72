import { describe, expect, it } from 'vitest';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import { useHarnessPage } from './browser.ts';
import { mismatchTable } from './compare.ts';
import type { OptimizerCase } from './harness.ts';

/**
 * Every optimizer x every option set in its spec's testOptions x every layout below, 20 steps,
 * params and state compared with the float64 reference after each step within
 * max|got-ref| <= 4*t*2^-23*max|ref|.
 */
const layouts: Array<{
  name: string;
  case: Partial<OptimizerCase> & Pick<OptimizerCase, 'groups'>;
}> = [
  {
    name: 'sizes 1,3,4,255,256,257 in one dispatch',
    case: { groups: [{ sizes: [1, 3, 4, 255, 256, 257] }] },
  },
  { name: 'size 1 alone', case: { groups: [{ sizes: [1] }] } },
  { name: 'size 65537', case: { groups: [{ sizes: [65537] }] } },
  {
    // 16-block pages and at most 4 workgroups per grid dimension: 70001 elements span 5 pages of
    // their own, two 10000-element tensors share pages (the second continues on the next page),
    // each page needs a 2-D grid (more workgroups than one dimension allows) and several launches.
    name: 'sizes 70001, 5, 10000, 10000 over lowered binding and grid limits',
    case: {
      groups: [{ sizes: [70001, 5, 10000, 10000] }],
      limits: { maxStorageBufferBindingSize: 65536, maxComputeWorkgroupsPerDimension: 4 },
    },
  },
  {
    name: 'zero-copy, misaligned (scalar path)',
    case: { groups: [{ sizes: [257] }], wrap: { offset: 1, gradOffset: 3 } },
  },
  {
    name: 'skipNonFinite, NaN/Inf at steps 2,3,5,6,7 unconfirmed (no await between steps)',
    case: {
      groups: [{ sizes: [257, 1030] }],
      skipNonFinite: true,
      nonFiniteSteps: [2, 3, 5, 6, 7],
      checkEvery: 20,
    },
  },
  {
    name: 'skipNonFinite, NaN/Inf at steps 1,4,9 with reads between steps',
    case: { groups: [{ sizes: [3, 70001] }], skipNonFinite: true, nonFiniteSteps: [1, 4, 9] },
  },
  {
    name: 'zero-copy, vec4 body + scalar tail',
    case: { groups: [{ sizes: [1030] }], wrap: { offset: 4, gradOffset: 8 } },
  },
];

const STEPS = 20;

function casesFor(name: OptimizerName) {
  const spec = optimizerSpecs[name];
  const cases: Array<{ title: string; c: OptimizerCase }> = [];
  spec.testOptions.forEach((options, k) => {
    for (const layout of layouts) {
      cases.push({
        title: `${JSON.stringify(options)} | ${layout.name}`,
        c: {
          optimizer: name,
          options: options as Record<string, unknown>,
          steps: STEPS,
          seed: 17 * k + 1,
          ...layout.case,
        },
      });
    }
  });
  // Three tensors in two groups with their own lr and weight decay (param groups as in torch.optim).
  const last = spec.testOptions[spec.testOptions.length - 1] as Record<string, unknown>;
  const lr = typeof last.lr === 'number' ? last.lr : 0.01;
  cases.push({
    title: `${JSON.stringify(last)} | two param groups`,
    c: {
      optimizer: name,
      options: last,
      steps: STEPS,
      seed: 99,
      groups: [
        { sizes: [300, 7], options: { lr: lr * 2 } },
        { sizes: [1000], options: { lr: lr / 2, weightDecay: 0.05 } },
      ],
    },
  });
  return cases;
}

const harnessPage = useHarnessPage();

for (const name of Object.keys(optimizerSpecs) as OptimizerName[]) {
  describe(name, () => {
    it.each(casesFor(name))('$title', async ({ c }) => {
      const r = await harnessPage().evaluate((c) => window.harness.runOptimizerCase(c), c);
      expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
    });
  });
}
