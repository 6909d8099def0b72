import { afterAll, describe, expect, it } from 'vitest';
import { SGD } from '../../src/index.ts';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import { casesFor, runOptimizerCase } from '../gpu/cases.ts';
import { mismatchTable } from '../gpu/compare.ts';
import { dawnStatus, disposeEngines, engineFor, reportSkipped } from './dawn.ts';

/**
 * The browser suite's optimizer cases in Node, on Dawn: every optimizer x each option set of its
 * spec x a few layouts (one dispatch over odd sizes, pages and 2-D grids under lowered limits,
 * zero-copy vec4 + tail, unconfirmed skipped steps, two param groups) vs the float64 reference,
 * with the same bound max|got-ref| <= k*t*2^-23*max|ref|.
 */
const LAYOUTS = [
  'sizes 1,3,4,255,256,257 in one dispatch',
  'sizes 70001, 5, 10000, 10000 over lowered binding and grid limits',
  'zero-copy, vec4 body + scalar tail',
  'skipNonFinite, NaN/Inf at steps 2,3,5,6,7 unconfirmed (no await between steps)',
];

const dawn = await dawnStatus();
if (!dawn.available) reportSkipped('test/node/optimizers.test.ts', dawn.reason);

afterAll(disposeEngines);

describe.skipIf(!dawn.available)('Node (Dawn)', () => {
  it('createEngine() finds Dawn with no globals set, and steps', async () => {
    // Nothing installed Dawn's globals: the engine must use the numeric usage constants.
    expect(typeof (globalThis as Record<string, unknown>).GPUBufferUsage).toBe('undefined');
    expect(typeof (globalThis as Record<string, unknown>).GPUMapMode).toBe('undefined');
    const engine = await engineFor();
    console.log(`[node-gpu] adapter: ${engine.adapterDescription}`);
    const w = engine.parameter(new Float32Array([1, 2, 3]));
    w.grad.write(new Float32Array([1, 1, 1]));
    const opt = new SGD([w], { lr: 0.5 });
    opt.step();
    expect(Array.from(await w.read())).toEqual([0.5, 1.5, 2.5]);
    opt.dispose();
    w.dispose();
  });

  for (const name of Object.keys(optimizerSpecs) as OptimizerName[]) {
    describe(name, () => {
      it.each(casesFor(name, LAYOUTS))('$title', async ({ c }) => {
        const r = await runOptimizerCase(c, engineFor);
        expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
      });
    });
  }
});
