/**
 * The optimizer-vs-reference cases of the GPU suites, independent of where they run: the browser
 * page (test/gpu/harness.ts) and Node with Dawn (test/node/) both call runOptimizerCase with an
 * engine factory of their own. Nothing here reads browser globals.
 */
import type { Engine, PlanningLimits } from '../../src/engine.ts';
import type { Parameter } from '../../src/parameter.ts';
import { optimizers, optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import type { ReferenceState } from '../../src/reference/types.ts';
import { STORAGE_USAGE } from '../../src/usage.ts';
import {
  roundTrip,
  storageOf,
  tensorDtype,
  unitRoundoff,
  type StorageOptions,
} from '../../src/state-dtype.ts';
import { compareStep, EPS32, randomFloats, RunningScale, type Mismatch } from './compare.ts';

/** An engine for a set of lowered planning limits (shared across cases, as a real app would). */
export type EngineFor = (limits?: Partial<PlanningLimits>) => Promise<Engine>;

export interface OptimizerCase {
  optimizer: OptimizerName;
  /** Constructor options (defaults for every group). */
  options: Record<string, unknown>;
  /** Tensors of each group, with the group's own options. */
  groups: Array<{ sizes: number[]; shapes?: number[][]; options?: Record<string, unknown> }>;
  steps: number;
  seed: number;
  /** Lowered engine planning limits (forces 2-D grids, split launches, paged tensors). */
  limits?: Partial<PlanningLimits>;
  /** Wrap caller-owned buffers (zero-copy) with these element offsets instead of engine.parameter(values). */
  wrap?: { offset: number; gradOffset: number };
  /** Compare every k steps (and at the last one); 1 = every step. */
  checkEvery?: number;
  /** Scale of the random gradients. */
  gradScale?: number;
  /** Construct with skipNonFinite: steps whose gradients hold NaN/Inf must leave no trace. */
  skipNonFinite?: boolean;
  /** Steps at which one gradient element is NaN (odd steps) or Inf (even steps). */
  nonFiniteSteps?: number[];
  /** Record each step into an encoder of the test's own (opt.step(encoder)) and submit it. */
  encoder?: boolean;
}

export interface CaseResult {
  mismatches: Mismatch[];
  adapter: string;
  pipelines: number;
}

function makeParameter(
  engine: Engine,
  values: Float32Array,
  c: OptimizerCase,
  owned: GPUBuffer[],
  shape: number[],
): Parameter {
  if (!c.wrap) return engine.parameter(values, { shape });
  const n = values.length;
  const usage = STORAGE_USAGE; // numbers, not GPUBufferUsage: this also runs in Node
  const param = engine.device.createBuffer({
    label: 'caller-param',
    size: (c.wrap.offset + n + 3) * 4,
    usage,
  });
  const grad = engine.device.createBuffer({
    label: 'caller-grad',
    size: (c.wrap.gradOffset + n + 3) * 4,
    usage,
  });
  owned.push(param, grad);
  // Sentinels around the region: the engine must not touch them.
  engine.queue.writeBuffer(param, 0, new Float32Array(c.wrap.offset + n + 3).fill(7));
  const p = engine.parameter(param, {
    offset: c.wrap.offset * 4,
    length: n,
    grad,
    gradOffset: c.wrap.gradOffset * 4,
    shape,
  });
  p.write(values);
  return p;
}

/**
 * The shape a test gives a tensor of n elements for this optimizer: [n], or an [n, 1] column for
 * a rule that takes matrices only (Muon), so registry-wide suites run it too.
 */
export function shapeFor(name: OptimizerName, n: number): number[] {
  const spec = optimizerSpecs[name] as { checkShape?: (s: number[]) => string | undefined };
  return spec.checkShape?.([n]) ? [n, 1] : [n];
}

/** Runs one case and returns every step's mismatches (empty when all within the bound). */
export async function runOptimizerCase(
  c: OptimizerCase,
  engineFor: EngineFor,
): Promise<CaseResult> {
  const engine = await engineFor(c.limits);
  const spec = optimizerSpecs[c.optimizer];
  const reference = spec.reference as unknown as {
    init(n: number, o: unknown, shape: number[]): ReferenceState;
    step(p: Float64Array, g: Float64Array, s: ReferenceState, o: unknown, shape: number[]): void;
  };
  const k = spec.accuracyFactor ?? 4;
  const owned: GPUBuffer[] = [];
  const tensors: Array<{
    param: Parameter;
    ref: Float64Array;
    state: ReferenceState;
    options: unknown;
    shape: number[];
  }> = [];
  let seed = c.seed;
  const groups = c.groups.map((g) => {
    const options = { ...spec.defaults, ...c.options, ...g.options };
    const shapes = g.shapes ?? g.sizes.map((n) => shapeFor(c.optimizer, n));
    const params = shapes.map((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = randomFloats(n, seed++);
      const param = makeParameter(engine, values, c, owned, shape);
      tensors.push({
        param,
        ref: Float64Array.from(values),
        state: reference.init(n, options, shape),
        options,
        shape,
      });
      return param;
    });
    return { params, ...g.options };
  });
  const Optimizer = optimizers[c.optimizer] as unknown as new (
    p: unknown,
    o: unknown,
  ) => {
    step(encoder?: GPUCommandEncoder): void;
    skippedSteps(): Promise<number>;
    stateDict(): Promise<{ state: Record<number, Record<string, number | Float32Array>> }>;
    dispose(): void;
  };
  const opt = new Optimizer(groups, {
    ...c.options,
    ...(c.skipNonFinite ? { skipNonFinite: true } : {}),
  });
  let skipped = 0;
  const mismatches: Mismatch[] = [];
  const scales = new RunningScale();
  try {
    for (let t = 1; t <= c.steps && mismatches.length === 0; t++) {
      const poisoned = c.nonFiniteSteps?.includes(t) ?? false;
      if (poisoned) skipped++;
      tensors.forEach((x, k) => {
        const g = randomFloats(x.ref.length, 1_000_003 * t + 7919 * k + c.seed, c.gradScale ?? 1);
        if (poisoned && k === tensors.length - 1) g[g.length >> 1] = t % 2 ? NaN : -Infinity;
        x.param.grad.write(g);
        // A skipped step leaves no trace in the reference either.
        if (!poisoned) {
          reference.step(x.ref, Float64Array.from(g), x.state, x.options, x.shape);
          quantizeReference(x);
        }
      });
      if (c.encoder) {
        const encoder = engine.device.createCommandEncoder({ label: 'test step' });
        opt.step(encoder);
        engine.queue.submit([encoder.finish()]);
      } else opt.step();
      if (t % (c.checkEvery ?? 1) !== 0 && t !== c.steps) continue;
      const sd = await opt.stateDict();
      for (const [i, x] of tensors.entries()) {
        const got = await x.param.read();
        const kp = k * lowPrecision(x).param;
        const m = compareStep(`param${i}`, t, got, x.ref, kp, scales.update(`param${i}`, x.ref));
        if (m) mismatches.push(m);
        const gpuState = sd.state[i]!;
        const names = (o: object) =>
          Object.keys(o)
            .filter((s) => s !== 'step')
            .sort()
            .join(',');
        if (
          gpuState.step !== x.state.step ||
          (x.state.step > 0 && names(gpuState) !== names(x.state))
        ) {
          mismatches.push({
            quantity: `state${i} names`,
            step: t,
            index: -1,
            got: Number(gpuState.step),
            expected: x.state.step,
            error: Infinity,
            bound: 0,
            neighbours: `GPU has {${names(gpuState)}}, reference has {${names(x.state)}}`,
          });
          continue;
        }
        if (x.state.step === 0) continue; // no step ran yet: torch has no state either
        for (const [name, value] of Object.entries(x.state)) {
          if (name === 'step') continue;
          const gv = gpuState[name]!;
          const ref = typeof value === 'number' ? [value] : value;
          const got = typeof value === 'number' ? [gv as number] : (gv as Float32Array);
          const ks = k * (lowPrecision(x).states[name] ?? 1);
          const m2 = compareStep(`${name}${i}`, t, got, ref, ks, scales.update(`${name}${i}`, ref));
          if (m2) mismatches.push(m2);
        }
      }
    }
    await engine.sync();
    const gpuSkipped = await opt.skippedSteps();
    if (gpuSkipped !== skipped) {
      mismatches.push({
        quantity: 'skippedSteps',
        step: c.steps,
        index: -1,
        got: gpuSkipped,
        expected: skipped,
        error: Infinity,
        bound: 0,
        neighbours: '',
      });
    }
    if (c.wrap) {
      // The sentinels around each wrapped region are intact.
      for (const [i, x] of tensors.entries()) {
        const whole = await engine.readRuns(
          [
            {
              buffer: x.param.extents[0]!.param,
              offset: 0,
              length: c.wrap.offset + x.ref.length + 3,
              start: 0,
            },
          ],
          c.wrap.offset + x.ref.length + 3,
        );
        const outside = [
          ...whole.subarray(0, c.wrap.offset),
          ...whole.subarray(c.wrap.offset + x.ref.length),
        ];
        if (outside.some((v) => v !== 7)) {
          mismatches.push({
            quantity: `sentinel${i}`,
            step: c.steps,
            index: -1,
            got: NaN,
            expected: 7,
            error: Infinity,
            bound: 0,
            neighbours: outside.join(','),
          });
        }
      }
    }
  } finally {
    opt.dispose();
    for (const x of tensors) x.param.dispose();
    for (const b of owned) b.destroy();
  }
  return { mismatches, adapter: engine.adapterDescription, pipelines: engine.pipelines.size };
}

type CaseTensor = { param: Parameter; state: ReferenceState; options: unknown };

/**
 * Low-precision state (stateDtype): after each reference step, its state buffers are stored and
 * loaded as the GPU stores them (src/state-dtype.ts, 8-bit blocks restarting at each extent), so
 * the reference follows the same quantized trajectory; it rounds float64 results where the GPU
 * rounds float32 ones, so a value near a rounding boundary may land one quantum (2u of the
 * block's largest value) apart, carried by the recurrences: the bound becomes k*t*u*max|ref|
 * with u the storage's unit roundoff (bfloat16 2^-8, float16 2^-11, 8-bit half the widest gap of
 * its map) in place of 2^-23 (the parameters take the largest u of their states).
 */
function quantizeReference(x: CaseTensor): void {
  const runs = x.param.extents.map((e) => e.length);
  const dtype = tensorDtype(x.options as StorageOptions, x.param.length);
  if (dtype === 'float32') return;
  for (const [name, value] of Object.entries(x.state)) {
    if (!(value instanceof Float64Array)) continue;
    value.set(roundTrip(storageOf(dtype, name), value, runs, x.state.step));
  }
}

/** Factors over the float32 bound for a tensor's params and states (1 for float32 state). */
function lowPrecision(x: CaseTensor): { param: number; states: Record<string, number> } {
  const dtype = tensorDtype(x.options as StorageOptions, x.param.length);
  const states: Record<string, number> = {};
  let param = 1;
  for (const [name, value] of Object.entries(x.state)) {
    if (!(value instanceof Float64Array)) continue;
    const f = Math.max(1, unitRoundoff(storageOf(dtype, name)) / EPS32);
    states[name] = f;
    param = Math.max(param, f);
  }
  return { param, states };
}

/**
 * Every optimizer x every option set in its spec's testOptions x every layout below, 20 steps,
 * params and state compared with the float64 reference after each step within
 * max|got-ref| <= 4*t*2^-23*max|ref|.
 */
export const layouts: Array<{
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

/**
 * The layouts of shaped optimizers (Adafactor, Muon): matrices thin, wide, square, with more
 * rows than a workgroup and more columns than one, batched (3-D), beside the layouts of every
 * optimizer that still apply (paging, zero-copy, skipping). `sizes` stand for [n, 1] columns
 * where a rule takes matrices only.
 */
export const shapedLayouts: typeof layouts = [
  {
    name: 'shapes [1], [7,5], [5,7], [64,129], [513,3]',
    case: { groups: [{ sizes: [], shapes: [[1], [7, 5], [5, 7], [64, 129], [513, 3]] }] },
  },
  {
    name: 'shapes [1,1], [3,1], [1,300]',
    case: {
      groups: [
        {
          sizes: [],
          shapes: [
            [1, 1],
            [3, 1],
            [1, 300],
          ],
        },
      ],
    },
  },
  { name: 'shape [2,3,70] (batched)', case: { groups: [{ sizes: [], shapes: [[2, 3, 70]] }] } },
  {
    // 16384-element pages: each matrix fits one but not two, so none is split (shaped passes
    // address a tensor as one run) and each needs a 2-D grid of rows.
    name: 'shapes [100,120], [5,9], [70,200] over lowered binding and grid limits',
    case: {
      groups: [
        {
          sizes: [],
          shapes: [
            [100, 120],
            [5, 9],
            [70, 200],
          ],
        },
      ],
      limits: { maxStorageBufferBindingSize: 65536, maxComputeWorkgroupsPerDimension: 4 },
    },
  },
  {
    name: 'zero-copy, misaligned, shape [9,30]',
    case: { groups: [{ sizes: [], shapes: [[9, 30]] }], wrap: { offset: 1, gradOffset: 3 } },
  },
  {
    name: 'skipNonFinite, NaN/Inf at steps 2,3,5,6,7 unconfirmed (no await between steps)',
    case: {
      groups: [
        {
          sizes: [],
          shapes: [
            [17, 15],
            [40, 3],
          ],
        },
      ],
      skipNonFinite: true,
      nonFiniteSteps: [2, 3, 5, 6, 7],
      checkEvery: 20,
    },
  },
  {
    name: 'skipNonFinite, NaN/Inf at steps 1,4,9 with reads between steps',
    case: {
      groups: [
        {
          sizes: [],
          shapes: [
            [3, 4],
            [33, 65],
          ],
        },
      ],
      skipNonFinite: true,
      nonFiniteSteps: [1, 4, 9],
    },
  },
];

export const STEPS = 20;

/**
 * The cases of one optimizer: each of its spec's testOptions x each layout (those named in
 * `only`, by default all), plus two param groups with their own lr and weight decay.
 */
export function casesFor(name: OptimizerName, only?: string[]) {
  const spec = optimizerSpecs[name];
  const cases: Array<{ title: string; c: OptimizerCase }> = [];
  const shaped = 'program' in spec;
  const matricesOnly = 'checkShape' in spec;
  // A rule for matrices only (Muon) takes vectors as [n, 1] columns and no batched tensors.
  const asMatrices = (l: (typeof layouts)[number]) => {
    const groups = l.case.groups.map((g) => ({
      ...g,
      shapes: g.shapes?.map((s) => (s.length === 1 ? [s[0]!, 1] : s)),
    }));
    return groups.some((g) => g.shapes?.some((s) => s.length !== 2))
      ? []
      : [{ ...l, case: { ...l.case, groups } }];
  };
  const list = !shaped
    ? layouts
    : matricesOnly
      ? shapedLayouts.flatMap(asMatrices)
      : [...layouts.slice(0, 3), ...shapedLayouts];
  spec.testOptions.forEach((options, k) => {
    for (const layout of list) {
      if (only && !only.includes(layout.name)) continue;
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
      groups: shaped
        ? [
            {
              sizes: [],
              shapes: [
                [30, 10],
                [7, 1],
              ],
              options: { lr: lr * 2 },
            },
            { sizes: [], shapes: [[10, 100]], options: { lr: lr / 2, weightDecay: 0.05 } },
          ]
        : [
            { sizes: [300, 7], options: { lr: lr * 2 } },
            { sizes: [1000], options: { lr: lr / 2, weightDecay: 0.05 } },
          ],
    },
  });
  return cases;
}
