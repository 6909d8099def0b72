import { afterAll, describe, expect, it } from 'vitest';
import { Adam, SGD } from '../../src/index.ts';
import { addGroupCases, runAddParamGroupCase } from '../gpu/add-param-group.ts';
import { dawnStatus, disposeEngines, engineFor, reportSkipped } from './dawn.ts';

/**
 * torch.optim conveniences on the GPU (Dawn): addParamGroup keeps the old groups' state and
 * counts and starts the new one fresh (bit for bit against twins that never shared an
 * optimizer); it validates like the constructor and changes nothing when it throws; stateOf.
 */
const dawn = await dawnStatus();
if (!dawn.available) reportSkipped('test/node/param-groups.test.ts', dawn.reason);

afterAll(disposeEngines);

describe.skipIf(!dawn.available)('addParamGroup (Dawn)', () => {
  it.each(addGroupCases())('$title', async ({ c }) => {
    expect(await runAddParamGroupCase(c, engineFor)).toEqual([]);
  });

  it.each([
    [
      'an unknown option',
      (p: unknown) => ({ params: [p], beta: 0.9 }),
      TypeError,
      /unknown option 'beta'/,
    ],
    ['a bad value', (p: unknown) => ({ params: [p], lr: -1 }), RangeError, /lr/],
    ['no params', () => ({ params: [] }), RangeError, /non-empty params/],
    ['not a group', (p: unknown) => [p], TypeError, /param group/],
    [
      'a non-Parameter',
      () => ({ params: [new Float32Array(3)] }),
      TypeError,
      /must be a Parameter/,
    ],
    [
      'a parameter already in the optimizer',
      (_p: unknown, w: unknown) => ({ params: [w] }),
      RangeError,
      /more than one param group/,
    ],
    [
      'a parameter twice',
      (p: unknown) => ({ params: [p, p] }),
      RangeError,
      /more than one param group/,
    ],
  ])('refuses %s and changes nothing', async (_what, group, type, message) => {
    const engine = await engineFor();
    const w = engine.parameter(new Float32Array([1, 2, 3]));
    const p = engine.parameter(new Float32Array([4, 5]));
    const opt = new Adam([w], { lr: 0.1 });
    opt.step();
    const before = JSON.stringify(await opt.stateDict(), (_k, v) =>
      v instanceof Float32Array ? Array.from(v) : v,
    );
    expect(() => opt.addParamGroup(group(p, w) as never)).toThrow(type);
    expect(() => opt.addParamGroup(group(p, w) as never)).toThrow(message);
    expect(opt.paramGroups).toHaveLength(1);
    const after = JSON.stringify(await opt.stateDict(), (_k, v) =>
      v instanceof Float32Array ? Array.from(v) : v,
    );
    expect(after).toBe(before);
    opt.step(); // still steps
    await engine.sync();
    opt.dispose();
    w.dispose();
    p.dispose();
  });

  it('refuses a parameter of another engine', async () => {
    const engine = await engineFor();
    const other = await engineFor({ maxComputeWorkgroupsPerDimension: 8 });
    const w = engine.parameter(3);
    const q = other.parameter(3);
    const opt = new SGD([w], { lr: 0.1 });
    expect(() => opt.addParamGroup({ params: [q] })).toThrow(/different engines/);
    expect(opt.paramGroups).toHaveLength(1);
    opt.dispose();
    w.dispose();
    q.dispose();
  });
});

describe.skipIf(!dawn.available)('stateOf (Dawn)', () => {
  it('gives a parameter its stateDict entry, { step: 0 } before a step, and refuses strangers', async () => {
    const engine = await engineFor();
    const w = engine.parameter(new Float32Array([1, -2, 3]));
    const stranger = engine.parameter(2);
    const opt = new Adam([w], { lr: 0.1 });
    expect(await opt.stateOf(w)).toEqual({ step: 0 });
    w.grad.write(new Float32Array([0.5, 0.5, -1]));
    opt.step();
    opt.step();
    const s = await opt.stateOf(w);
    expect(s.step).toBe(2);
    expect(s).toEqual((await opt.stateDict()).state[0]);
    expect(Array.from(s.expAvg as Float32Array)).toEqual(
      Array.from(new Float32Array([0.5, 0.5, -1].map((g) => g * (1 - 0.9 * 0.9)))),
    );
    await expect(opt.stateOf(stranger)).rejects.toThrow(/not a parameter of this optimizer/);
    opt.dispose();
    w.dispose();
    stranger.dispose();
  });
});
