import { describe, expect, it } from 'vitest';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import { casesFor } from './cases.ts';
import { useHarnessPage } from './browser.ts';
import { mismatchTable } from './compare.ts';

/**
 * Every optimizer x every option set in its spec's testOptions x every layout (cases.ts), 20
 * steps, params and state compared with the float64 reference after each step within
 * max|got-ref| <= 4*t*2^-23*max|ref|.
 */
const harnessPage = useHarnessPage();

for (const name of Object.keys(optimizerSpecs) as OptimizerName[]) {
  describe(name, () => {
    it.each(casesFor(name))('$title', async ({ c }) => {
      const r = await harnessPage().evaluate((c) => window.harness.runOptimizerCase(c), c);
      expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
    });
  });
}
