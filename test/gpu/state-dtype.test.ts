import { describe, expect, it } from 'vitest';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import { useHarnessPage } from './browser.ts';
import { layouts, STEPS, type OptimizerCase } from './cases.ts';
import { mismatchTable } from './compare.ts';
import type { StorageKernelCase } from './state-dtype-cases.ts';
import { addGroupCases } from './add-param-group.ts';

/**
 * Low-precision optimizer state (stateDtype): the kernels' stores and loads bit for bit against
 * the CPU encoders, and every optimizer x bfloat16/float16/8-bit x layouts for 20 steps against
 * the float64 reference quantized the same way after each step (bound in cases.ts).
 */
const harnessPage = useHarnessPage();
const DTYPES = ['bfloat16', 'float16', '8bit'] as const;
const SIZES = [1, 3, 4, 255, 256, 257, 4097, 65537];

describe('kernel store/load vs the CPU encoders, bit for bit', () => {
  const cases: Array<{ title: string; c: StorageKernelCase }> = [];
  for (const stateDtype of DTYPES)
    for (const optimizer of ['SGD', 'Adagrad'] as const) {
      cases.push({
        title: `${optimizer} ${stateDtype} sizes ${SIZES}`,
        c: { stateDtype, optimizer, sizes: SIZES },
      });
      cases.push({
        title: `${optimizer} ${stateDtype} zero-copy misaligned 1030 (scalar path)`,
        c: { stateDtype, optimizer, sizes: [1030], wrap: { offset: 1, gradOffset: 3 } },
      });
      cases.push({
        title: `${optimizer} ${stateDtype} zero-copy vec4 + scalar tail 1030`,
        c: { stateDtype, optimizer, sizes: [1030, 517], wrap: { offset: 4, gradOffset: 8 } },
      });
    }
  it.each(cases)('$title', async ({ c }) => {
    const r = await harnessPage().evaluate((c) => window.harness.runStorageKernelCase(c), c);
    expect(r).toEqual([]);
  });
});

const LAYOUTS = [
  { name: `sizes ${SIZES.join(',')}`, case: { groups: [{ sizes: SIZES }] } },
  ...layouts.filter((l) =>
    [
      'zero-copy, misaligned (scalar path)',
      'zero-copy, vec4 body + scalar tail',
      'sizes 70001, 5, 10000, 10000 over lowered binding and grid limits',
      'skipNonFinite, NaN/Inf at steps 1,4,9 with reads between steps',
    ].includes(l.name),
  ),
];

// Shaped rules (Adafactor, Muon) keep float32 state: they refuse another stateDtype (below).
const elementwise = (Object.keys(optimizerSpecs) as OptimizerName[]).filter(
  (n) => !('program' in optimizerSpecs[n]),
);
const shaped = (Object.keys(optimizerSpecs) as OptimizerName[]).filter(
  (n) => 'program' in optimizerSpecs[n],
);

describe.each(shaped)('%s refuses low-precision state', (name) => {
  it.each(DTYPES)(
    '%s: a clear RangeError at construction, in a group and at a step',
    async (dtype) => {
      const r = await harnessPage().evaluate(
        async (name, dtype) => {
          const api = window.webgpuOptim;
          const engine = await api.createEngine();
          const W = engine.parameter(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
          const O = api.optimizers[name] as unknown as new (
            p: unknown,
            o?: unknown,
          ) => InstanceType<typeof api.Adam>;
          const messages: string[] = [];
          const attempt = (f: () => unknown) => {
            try {
              f();
              messages.push('no error');
            } catch (e) {
              messages.push(`${(e as Error).name}: ${(e as Error).message}`);
            }
          };
          attempt(() => new O([W], { stateDtype: dtype }));
          attempt(() => new O([{ params: [W], stateDtype: dtype }]));
          const opt = new O([W]);
          W.grad.write(new Float32Array(6).fill(0.5));
          opt.step();
          const before = [...(await W.read())];
          (opt.paramGroups[0] as unknown as { stateDtype: string }).stateDtype = dtype;
          attempt(() => opt.step());
          const after = [...(await W.read())];
          engine.dispose();
          return { messages, unchanged: JSON.stringify(before) === JSON.stringify(after) };
        },
        name,
        dtype,
      );
      for (const m of r.messages)
        expect(m).toMatch(
          new RegExp(
            `^RangeError: ${name}.*stateDtype '${dtype}' is not available: .*only 'float32'`,
          ),
        );
      expect(r.unchanged).toBe(true);
    },
  );
});

for (const name of elementwise) {
  describe(name, () => {
    const spec = optimizerSpecs[name];
    const cases: Array<{ title: string; c: OptimizerCase }> = [];
    for (const stateDtype of DTYPES)
      for (const layout of LAYOUTS) {
        const options = { ...(spec.testOptions[0] as object), stateDtype, min8bitSize: 0 };
        cases.push({
          title: `${stateDtype} | ${layout.name}`,
          c: { optimizer: name, options, steps: STEPS, seed: 5, ...layout.case },
        });
      }
    it.each(cases)('$title', async ({ c }) => {
      const r = await harnessPage().evaluate((c) => window.harness.runOptimizerCase(c), c);
      expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
    });
  });
}

describe('mixed dtypes, default min8bitSize, added groups', () => {
  const cases: Array<{ title: string; c: OptimizerCase }> = [
    {
      title: 'Adam: float32 and bfloat16 groups sharing a page',
      c: {
        optimizer: 'Adam',
        options: { lr: 0.01 },
        steps: STEPS,
        seed: 7,
        groups: [
          { sizes: [300, 7], options: { stateDtype: 'float32' } },
          { sizes: [1000, 5000], options: { stateDtype: 'bfloat16', lr: 0.02 } },
        ],
      },
    },
    {
      title: 'AdamW 8bit, default min8bitSize 4096: 1, 300 and 4095 keep float32 state',
      c: {
        optimizer: 'AdamW',
        options: { lr: 0.01, stateDtype: '8bit' },
        steps: STEPS,
        seed: 8,
        groups: [{ sizes: [1, 300, 4095, 4096, 5000] }],
      },
    },
    {
      title: 'LAMB: 8bit and float16 groups, skipNonFinite',
      c: {
        optimizer: 'LAMB',
        options: { lr: 0.01, min8bitSize: 0 },
        steps: STEPS,
        seed: 9,
        skipNonFinite: true,
        nonFiniteSteps: [3, 4],
        groups: [
          { sizes: [300, 4097], options: { stateDtype: '8bit' } },
          { sizes: [7, 1000], options: { stateDtype: 'float16' } },
        ],
      },
    },
  ];
  it.each(cases)('$title', async ({ c }) => {
    const r = await harnessPage().evaluate((c) => window.harness.runOptimizerCase(c), c);
    expect(r.mismatches, `\n${mismatchTable(r.mismatches)}`).toEqual([]);
  });

  const added = addGroupCases()
    .filter(({ c }) => ['SGD', 'Adam', 'LAMB'].includes(c.optimizer))
    .flatMap(({ title, c }) =>
      (['bfloat16', '8bit'] as const).map((stateDtype) => ({
        title: `addParamGroup ${stateDtype}: ${title}`,
        c: { ...c, options: { ...c.options, stateDtype, min8bitSize: 0 } },
      })),
    );
  it.each(added)('$title', async ({ c }) => {
    expect(await harnessPage().evaluate((c) => window.harness.runAddGroupCase(c), c)).toEqual([]);
  });
});
