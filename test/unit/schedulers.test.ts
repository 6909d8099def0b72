/**
 * Learning-rate schedulers against closed forms written out here, independently of src/:
 * CONVENTIONS.md "Schedulers" for the simple ones, PyTorch's formulas for
 * CosineAnnealingWarmRestarts and OneCycleLR. Relative tolerance 1e-12.
 */
import { describe, expect, it } from 'vitest';
import {
  ChainedScheduler,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  InverseTimeLR,
  LambdaLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  PolynomialLR,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
  type LRScheduler,
  type Schedulable,
  type SchedulableGroup,
} from '../../src/schedulers';

const RTOL = 1e-12;
const STEPS = 36;

/** Two groups, the second with a momentum the lr schedulers must leave alone. */
function fakeOptimizer(): Schedulable {
  return { paramGroups: [{ lr: 0.1 }, { lr: 0.02, momentum: 0.9 }] };
}

function lrs(opt: Schedulable): number[] {
  return opt.paramGroups.map((g) => g.lr);
}

/** Asserts |actual - expected| <= RTOL * |expected| elementwise; prints a table on failure. */
function expectClose(actual: number[], expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const bad = actual
    .map((a, i) => ({ i, actual: a, expected: expected[i]!, err: Math.abs(a - expected[i]!) }))
    .filter((r) => !(r.err <= RTOL * Math.abs(r.expected)));
  if (bad.length > 0) {
    const rows = bad.map((r) => `  [${r.i}] actual ${r.actual} expected ${r.expected}`);
    expect.fail(
      `${what}: ${bad.length} value(s) off by more than ${RTOL} relative\n${rows.join('\n')}`,
    );
  }
}

/** Runs `steps` steps; returns the lr of every group at epochs 0..steps (index = epoch). */
function trajectory(opt: Schedulable, s: { step(): void }, steps = STEPS): number[][] {
  const out = [lrs(opt)];
  for (let e = 1; e <= steps; e++) {
    s.step();
    out.push(lrs(opt));
  }
  return out;
}

// ---- reference closed forms, written from CONVENTIONS.md / PyTorch's docs ----
const cosineRef = (b: number, e: number, tMax: number, etaMin: number) =>
  etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2;

/** SGDR: walk the restarts; returns [epochs since restart, current period]. */
function sgdrPosition(e: number, t0: number, tMult: number): [number, number] {
  let [start, period] = [0, t0];
  while (e >= start + period) {
    start += period;
    period *= tMult;
  }
  return [e - start, period];
}

interface Case {
  name: string;
  make: (opt: Schedulable) => LRScheduler;
  /** lr at epoch e for a group whose base lr is b (group index g). */
  ref: (b: number, e: number, g: number) => number;
}

const cases: Case[] = [
  {
    name: 'StepLR { stepSize: 3, gamma: 0.5 }',
    make: (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }),
    ref: (b, e) => b * 0.5 ** Math.floor(e / 3),
  },
  {
    name: 'StepLR { stepSize: 4 } (gamma 0.1)',
    make: (o) => new StepLR(o, { stepSize: 4 }),
    ref: (b, e) => b * 0.1 ** Math.floor(e / 4),
  },
  {
    name: 'MultiStepLR unsorted, repeated milestones',
    make: (o) => new MultiStepLR(o, { milestones: [10, 4, 4, 17], gamma: 0.3 }),
    ref: (b, e) => b * 0.3 ** [10, 4, 4, 17].filter((m) => m <= e).length,
  },
  {
    name: 'ExponentialLR { gamma: 0.9 }',
    make: (o) => new ExponentialLR(o, { gamma: 0.9 }),
    ref: (b, e) => b * 0.9 ** e,
  },
  {
    name: 'CosineAnnealingLR { tMax: 10, etaMin: 1e-3 } (past tMax)',
    make: (o) => new CosineAnnealingLR(o, { tMax: 10, etaMin: 1e-3 }),
    ref: (b, e) => cosineRef(b, e, 10, 1e-3),
  },
  {
    name: 'CosineAnnealingLR { tMax: 7 } (etaMin 0)',
    make: (o) => new CosineAnnealingLR(o, { tMax: 7 }),
    ref: (b, e) => cosineRef(b, e, 7, 0),
  },
  {
    name: 'CosineAnnealingWarmRestarts { t0: 5 }',
    make: (o) => new CosineAnnealingWarmRestarts(o, { t0: 5 }),
    ref: (b, e) => cosineRef(b, e % 5, 5, 0),
  },
  {
    name: 'CosineAnnealingWarmRestarts { t0: 3, tMult: 2, etaMin: 1e-4 }',
    make: (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2, etaMin: 1e-4 }),
    ref: (b, e) => cosineRef(b, ...sgdrPosition(e, 3, 2), 1e-4),
  },
  {
    name: 'LinearLR defaults (1/3 -> 1 over 5)',
    make: (o) => new LinearLR(o),
    ref: (b, e) => b * (1 / 3 + ((1 - 1 / 3) * Math.min(e, 5)) / 5),
  },
  {
    name: 'LinearLR { startFactor: 1, endFactor: 0.1, totalIters: 12 }',
    make: (o) => new LinearLR(o, { startFactor: 1, endFactor: 0.1, totalIters: 12 }),
    ref: (b, e) => b * (1 + ((0.1 - 1) * Math.min(e, 12)) / 12),
  },
  {
    name: 'PolynomialLR defaults (5, power 1)',
    make: (o) => new PolynomialLR(o),
    ref: (b, e) => b * (1 - Math.min(e, 5) / 5),
  },
  {
    name: 'PolynomialLR { totalIters: 25, power: 0.9 }',
    make: (o) => new PolynomialLR(o, { totalIters: 25, power: 0.9 }),
    ref: (b, e) => b * (1 - Math.min(e, 25) / 25) ** 0.9,
  },
  {
    name: 'InverseTimeLR { decayRate: 0.5 }',
    make: (o) => new InverseTimeLR(o, { decayRate: 0.5 }),
    ref: (b, e) => b / (1 + 0.5 * e),
  },
  {
    name: 'LambdaLR one function',
    make: (o) => new LambdaLR(o, { lrLambda: (e) => 0.95 ** e }),
    ref: (b, e) => b * 0.95 ** e,
  },
  {
    name: 'LambdaLR one function per group',
    make: (o) => new LambdaLR(o, { lrLambda: [(e) => 1 / (1 + e), (e) => Math.floor(e / 5) + 1] }),
    ref: (b, e, g) => b * (g === 0 ? 1 / (1 + e) : Math.floor(e / 5) + 1),
  },
];

describe('epoch schedulers follow their closed forms', () => {
  it.each(cases)('$name', ({ make, ref }) => {
    const opt = fakeOptimizer();
    const base = lrs(opt);
    const s = make(opt);
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual(base);
    const traj = trajectory(opt, s);
    traj.forEach((got, e) =>
      expectClose(
        got,
        base.map((b, g) => ref(b, e, g)),
        `epoch ${e}`,
      ),
    );
    expect(s.lastEpoch).toBe(STEPS);
    expect(s.getLastLr()).toEqual(traj[STEPS]);
    for (let e = 0; e <= STEPS; e++) {
      expectClose(
        s.getClosedFormLr(e),
        base.map((b, g) => ref(b, e, g)),
        `closed form at ${e}`,
      );
    }
    expect(opt.paramGroups[1]!.momentum).toBe(0.9);
  });

  it.each(cases)('$name: stateDict is JSON-able and a reload continues identically', ({ make }) => {
    const [a, b] = [fakeOptimizer(), fakeOptimizer()];
    const sa = make(a);
    for (let i = 0; i < 7; i++) sa.step();
    const sd = sa.stateDict();
    const json = JSON.parse(JSON.stringify(sd));
    expect(json).toEqual(sd);
    const sb = make(b);
    sb.loadStateDict(json);
    b.paramGroups.forEach((g, i) => Object.assign(g, a.paramGroups[i])); // the optimizer's own reload
    expect(sb.lastEpoch).toBe(7);
    expect(sb.getLastLr()).toEqual(sa.getLastLr());
    expect(trajectory(b, sb, 20)).toEqual(trajectory(a, sa, 20));
  });
});

describe('hand-checked values', () => {
  it('StepLR halves every N (the seed article step decay)', () => {
    const opt = fakeOptimizer();
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    expect(trajectory(opt, s, 5).map((l) => l[0])).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });

  it('CosineAnnealingLR reaches etaMin at tMax and the base lr at 2*tMax', () => {
    const opt = fakeOptimizer();
    const s = new CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.01 });
    const t = trajectory(opt, s, 8);
    expectClose(t[4]!, [0.01, 0.01], 'trough');
    expectClose(t[2]!, [0.055, 0.015], 'half way');
    expectClose(t[8]!, [0.1, 0.02], 'back up');
  });

  it('CosineAnnealingWarmRestarts restarts at t0, t0*(1+tMult), ...', () => {
    const opt = fakeOptimizer();
    const s = new CosineAnnealingWarmRestarts(opt, { t0: 2, tMult: 3 });
    const t = trajectory(opt, s, 9);
    for (const e of [0, 2, 8]) expect(t[e]).toEqual([0.1, 0.02]);
    expectClose(t[1]!, [0.05, 0.01], 'mid first period');
    expectClose(t[5]!, [0.05, 0.01], 'mid second period (length 6)');
  });

  it('CosineAnnealingWarmRestarts.step(epoch) takes fractional epochs, then continues', () => {
    const opt = fakeOptimizer();
    const s = new CosineAnnealingWarmRestarts(opt, { t0: 4, tMult: 2 });
    s.step(2.5);
    expectClose(
      lrs(opt),
      [0.1, 0.02].map((b) => cosineRef(b, 2.5, 4, 0)),
      'epoch 2.5',
    );
    s.step(12); // periods [0,4) [4,12) [12,28): a restart
    expect(lrs(opt)).toEqual([0.1, 0.02]);
    s.step(20);
    expectClose(lrs(opt), [0.05, 0.01], 'half of the third period');
    s.step();
    expect(s.lastEpoch).toBe(21);
    expectClose(
      lrs(opt),
      [0.1, 0.02].map((b) => cosineRef(b, 9, 16, 0)),
      'epoch 21',
    );
  });

  it('CosineAnnealingWarmRestarts.step(epoch) finds a restart exactly (PyTorch log rounds down)', () => {
    const opt = fakeOptimizer();
    const s = new CosineAnnealingWarmRestarts(opt, { t0: 1, tMult: 10 });
    s.step(111); // restarts at 1, 11, 111; log(1000) / log(10) = 2.9999999999999996
    expect(lrs(opt)).toEqual([0.1, 0.02]);
    expect([s.tCur, s.tI]).toEqual([0, 1000]);
  });

  it('step(epoch) jumps with the closed form', () => {
    const opt = fakeOptimizer();
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    s.step(7);
    expect(s.lastEpoch).toBe(7);
    expectClose(lrs(opt), [0.025, 0.005], 'epoch 7');
    s.step();
    expectClose(lrs(opt), [0.025, 0.005], 'epoch 8');
    s.step();
    expectClose(lrs(opt), [0.0125, 0.0025], 'epoch 9');
  });

  it('chainable forms build on a manual change of lr, as PyTorch', () => {
    const opt = fakeOptimizer();
    const s = new ExponentialLR(opt, { gamma: 0.5 });
    s.step();
    opt.paramGroups[0]!.lr = 1;
    s.step();
    expect(lrs(opt)).toEqual([0.5, 0.005]);
  });

  it('a group that already has initialLr keeps it (PyTorch setdefault)', () => {
    const opt: Schedulable = { paramGroups: [{ lr: 0.05, initialLr: 0.1 }] };
    const s = new ExponentialLR(opt, { gamma: 0.5 });
    expect(s.baseLrs).toEqual([0.1]);
    expect(s.getClosedFormLr(2)).toEqual([0.025]);
  });

  it('resuming (lastEpoch >= 0) needs initialLr in every group', () => {
    expect(() => new StepLR(fakeOptimizer(), { stepSize: 2, lastEpoch: 4 })).toThrow(
      /paramGroups\[0\]\.initialLr/,
    );
    const opt = fakeOptimizer();
    opt.paramGroups.forEach((g) => (g.initialLr = g.lr));
    const s = new CosineAnnealingLR(opt, { tMax: 10, lastEpoch: 4 });
    expect(s.lastEpoch).toBe(5);
  });
});

describe('OneCycleLR', () => {
  /** SGD-like group (momentum) and Adam-like group (betas). */
  const optimizer = (): Schedulable => ({
    paramGroups: [
      { lr: 0.1, momentum: 0.9 },
      { lr: 0.02, betas: [0.9, 0.999] },
    ],
  });
  const momentumOf = (g: SchedulableGroup) => (g.betas ? g.betas[0] : g.momentum!);

  /** PyTorch's OneCycleLR, written out: [lr, momentum] at step e. */
  function oneCycleRef(
    e: number,
    maxLr: number,
    o: { T: number; pct?: number; three?: boolean; linear?: boolean; div?: number; fdiv?: number },
  ): [number, number] {
    const [pct, div, fdiv] = [o.pct ?? 0.3, o.div ?? 25, o.fdiv ?? 1e4];
    const [initial, min, mMax, mBase] = [maxLr / div, maxLr / div / fdiv, 0.95, 0.85];
    const anneal = (a: number, b: number, p: number) =>
      o.linear ? (b - a) * p + a : b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1);
    const end1 = pct * o.T - 1;
    if (e <= end1) return [anneal(initial, maxLr, e / end1), anneal(mMax, mBase, e / end1)];
    if (!o.three) {
      const p = Math.min(1, (e - end1) / (o.T - 1 - end1)); // clamped at step T (see src)
      return [anneal(maxLr, min, p), anneal(mBase, mMax, p)];
    }
    const end2 = 2 * pct * o.T - 2;
    if (e <= end2) {
      const p = (e - end1) / (end2 - end1);
      return [anneal(maxLr, initial, p), anneal(mBase, mMax, p)];
    }
    return [anneal(initial, min, Math.min(1, (e - end2) / (o.T - 1 - end2))), mMax];
  }

  const variants = [
    { name: 'cos, two phases', opts: {}, ref: { T: 40 } },
    { name: 'linear', opts: { annealStrategy: 'linear' as const }, ref: { T: 40, linear: true } },
    { name: 'three phases', opts: { threePhase: true }, ref: { T: 40, three: true } },
    {
      name: 'pctStart 0.25, divFactor 10, finalDivFactor 100',
      opts: { pctStart: 0.25, divFactor: 10, finalDivFactor: 100 },
      ref: { T: 40, pct: 0.25, div: 10, fdiv: 100 },
    },
  ];

  it.each(variants)('$name: lr and momentum follow PyTorch', ({ opts, ref }) => {
    const opt = optimizer();
    const maxLr = [1, 0.5];
    const s = new OneCycleLR(opt, { maxLr, totalSteps: ref.T, ...opts });
    for (let e = 0; e <= ref.T; e++) {
      if (e > 0) s.step();
      const expected = maxLr.map((m) => oneCycleRef(e, m, ref));
      expectClose(
        lrs(opt),
        expected.map((x) => x[0]),
        `lr at step ${e}`,
      );
      expectClose(
        opt.paramGroups.map(momentumOf),
        expected.map((x) => x[1]),
        `momentum at ${e}`,
      );
      expect(opt.paramGroups[1]!.betas![1]).toBe(0.999);
    }
    expect(() => s.step()).toThrow(RangeError);
  });

  it('starts at maxLr/divFactor, peaks at maxLr, ends at initial/finalDivFactor', () => {
    const opt = optimizer();
    const s = new OneCycleLR(opt, { maxLr: 0.5, epochs: 4, stepsPerEpoch: 10 }); // 40 steps
    expectClose(lrs(opt), [0.02, 0.02], 'initial lr');
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.02, 0.02]);
    expectClose(opt.paramGroups.map(momentumOf), [0.95, 0.95], 'initial momentum');
    const t = trajectory(opt, s, 39);
    expectClose(t[11]!, [0.5, 0.5], 'peak at pctStart*T - 1 = 11');
    expect(Math.max(...t.map((l) => l[0]!))).toBeCloseTo(0.5, 15);
    expectClose(t[39]!, [2e-6, 2e-6], 'minimum');
    expectClose(opt.paramGroups.map(momentumOf), [0.95, 0.95], 'final momentum');
  });

  it('momentum is lowest (baseMomentum) at the lr peak; betas gets a new tuple each step', () => {
    const opt = optimizer();
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 20, baseMomentum: 0.8 });
    const before = opt.paramGroups[1]!.betas;
    for (let i = 0; i < 5; i++) s.step(); // peak at 0.3*20 - 1 = 5
    expect(opt.paramGroups[1]!.betas).not.toBe(before);
    expectClose(opt.paramGroups.map(momentumOf), [0.8, 0.8], 'momentum at the peak');
  });

  it('cycleMomentum: false leaves momentum alone and needs neither field', () => {
    const opt = fakeOptimizer();
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10, cycleMomentum: false });
    s.step();
    expect(opt.paramGroups[1]!.momentum).toBe(0.9);
    expect(() => new OneCycleLR(fakeOptimizer(), { maxLr: 1, totalSteps: 10 })).toThrow(
      /paramGroups\[0\] to have momentum or betas/,
    );
  });

  it('stateDict round trip', () => {
    const [a, b] = [optimizer(), optimizer()];
    const sa = new OneCycleLR(a, { maxLr: [1, 0.5], totalSteps: 30 });
    for (let i = 0; i < 9; i++) sa.step();
    const sb = new OneCycleLR(b, { maxLr: [3, 3], totalSteps: 99, threePhase: true });
    sb.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
    b.paramGroups.forEach((g, i) => Object.assign(g, structuredClone(a.paramGroups[i])));
    expect(trajectory(b, sb, 21)).toEqual(trajectory(a, sa, 21));
    expect(b.paramGroups).toEqual(a.paramGroups);
  });
});

describe('SequentialLR', () => {
  it('LinearLR warm-up, then CosineAnnealingLR from its epoch 0 at the milestone', () => {
    const opt = fakeOptimizer();
    const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 4 });
    const cosine = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 1e-3 });
    const s = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [5] });
    const ref = (b: number, e: number) =>
      e < 5 ? b * (0.1 + (0.9 * Math.min(e, 4)) / 4) : cosineRef(b, e - 5, 10, 1e-3);
    trajectory(opt, s).forEach((got, e) =>
      expectClose(
        got,
        [0.1, 0.02].map((b) => ref(b, e)),
        `epoch ${e}`,
      ),
    );
    expect(s.lastEpoch).toBe(STEPS);
    expect(s.getLastLr()).toEqual(lrs(opt));
  });

  it('three schedulers, two milestones', () => {
    const opt = fakeOptimizer();
    const s = new SequentialLR(opt, {
      schedulers: [
        new ExponentialLR(opt, { gamma: 0.5 }),
        new StepLR(opt, { stepSize: 2, gamma: 0.1 }),
        new LinearLR(opt, { startFactor: 0.5, totalIters: 4 }),
      ],
      milestones: [3, 8],
    });
    const ref = (b: number, e: number) =>
      e < 3
        ? b * 0.5 ** e
        : e < 8
          ? b * 0.1 ** Math.floor((e - 3) / 2)
          : b * (0.5 + (0.5 * Math.min(e - 8, 4)) / 4);
    trajectory(opt, s, 20).forEach((got, e) =>
      expectClose(
        got,
        [0.1, 0.02].map((b) => ref(b, e)),
        `epoch ${e}`,
      ),
    );
  });

  it('stateDict round trip', () => {
    const build = (o: Schedulable) =>
      new SequentialLR(o, {
        schedulers: [new LinearLR(o), new ExponentialLR(o, { gamma: 0.8 })],
        milestones: [6],
      });
    const [a, b] = [fakeOptimizer(), fakeOptimizer()];
    const sa = build(a);
    for (let i = 0; i < 4; i++) sa.step();
    const sb = build(b);
    sb.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
    b.paramGroups.forEach((g, i) => (g.lr = a.paramGroups[i]!.lr));
    expect(trajectory(b, sb, 10)).toEqual(trajectory(a, sa, 10));
  });
});

describe('ChainedScheduler', () => {
  it('multiplies chainable schedules: LinearLR warm-up times ExponentialLR', () => {
    const opt = fakeOptimizer();
    const s = new ChainedScheduler(opt, {
      schedulers: [
        new LinearLR(opt, { startFactor: 0.5, totalIters: 4 }),
        new ExponentialLR(opt, { gamma: 0.9 }),
      ],
    });
    const ref = (b: number, e: number) => b * (0.5 + (0.5 * Math.min(e, 4)) / 4) * 0.9 ** e;
    trajectory(opt, s, 20).forEach((got, e) =>
      expectClose(
        got,
        [0.1, 0.02].map((b) => ref(b, e)),
        `epoch ${e}`,
      ),
    );
  });
});

describe('ReduceLROnPlateau', () => {
  function run(s: ReduceLROnPlateau, opt: Schedulable, metrics: number[]): number[] {
    return metrics.map((m) => (s.step(m), opt.paramGroups[0]!.lr));
  }

  it('reduces after more than `patience` bad epochs, then counts again', () => {
    const opt = fakeOptimizer();
    const s = new ReduceLROnPlateau(opt, { patience: 2, factor: 0.5 });
    const got = run(s, opt, [10, 9, 9, 9, 9, 8, 8, 8, 8]);
    expectClose(got, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025], 'lr');
    expectClose(s.getLastLr(), [0.025, 0.005], 'both groups');
    expect(s.best).toBe(8);
  });

  it('cooldown: bad epochs are not counted for `cooldown` epochs after a reduction', () => {
    const opt = fakeOptimizer();
    const s = new ReduceLROnPlateau(opt, { patience: 0, cooldown: 2 });
    const got = run(s, opt, [1, 1, 1, 1, 1, 1, 1, 1]);
    expectClose(got, [0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 1e-4], 'lr');
  });

  it('threshold: rel in min mode needs best*(1-threshold); abs in max mode best+threshold', () => {
    const opt = fakeOptimizer();
    const rel = new ReduceLROnPlateau(opt, { patience: 0, threshold: 0.1 });
    expectClose(run(rel, opt, [1, 0.95, 0.85]), [0.1, 0.01, 0.01], 'rel');
    const opt2 = fakeOptimizer();
    const abs = new ReduceLROnPlateau(opt2, {
      mode: 'max',
      thresholdMode: 'abs',
      threshold: 0.5,
      patience: 0,
    });
    expectClose(run(abs, opt2, [1, 1.6, 2.0, 2.05, 2.2]), [0.1, 0.1, 0.01, 0.001, 0.001], 'abs');
  });

  it('minLr per group, and changes not above eps are skipped', () => {
    const opt = fakeOptimizer();
    const s = new ReduceLROnPlateau(opt, { patience: 0, minLr: [0.05, 0] });
    for (const m of [1, 1, 1]) s.step(m);
    expectClose(lrs(opt), [0.05, 0.0002], 'clamped at minLr');
    const tiny: Schedulable = { paramGroups: [{ lr: 1e-9 }] };
    const t = new ReduceLROnPlateau(tiny, { patience: 0 });
    t.step(1);
    t.step(1);
    expect(tiny.paramGroups[0]!.lr).toBe(1e-9);
  });

  it('stateDict survives JSON (best = Infinity before the first step) and continues', () => {
    const [a, b] = [fakeOptimizer(), fakeOptimizer()];
    const sa = new ReduceLROnPlateau(a, { patience: 1, cooldown: 1 });
    const sb = new ReduceLROnPlateau(b, { patience: 1, cooldown: 1 });
    sb.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
    expect(sb.best).toBe(Infinity);
    for (const m of [3, 3, 3]) sa.step(m);
    const sc = new ReduceLROnPlateau(b, { mode: 'max' });
    sc.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
    b.paramGroups.forEach((g, i) => (g.lr = a.paramGroups[i]!.lr));
    const metrics = [3, 2, 2, 2, 2, 2, 1, 5, 5, 5];
    expect(run(sc, b, metrics)).toEqual(run(sa, a, metrics));
    expect(sc.mode).toBe('min');
  });
});

describe('invalid options throw RangeError naming the option and value', () => {
  const o = fakeOptimizer;
  const bad: [string, () => unknown, RegExp][] = [
    [
      'StepLR stepSize 0',
      () => new StepLR(o(), { stepSize: 0 }),
      /^StepLR: stepSize must be a positive integer, got 0$/,
    ],
    ['StepLR stepSize 1.5', () => new StepLR(o(), { stepSize: 1.5 }), /stepSize .* got 1\.5/],
    [
      'StepLR gamma -1',
      () => new StepLR(o(), { stepSize: 1, gamma: -1 }),
      /StepLR: gamma .* got -1/,
    ],
    [
      'MultiStepLR milestone -1',
      () => new MultiStepLR(o(), { milestones: [2, -1] }),
      /milestones\[1\] .* got -1/,
    ],
    ['ExponentialLR gamma NaN', () => new ExponentialLR(o(), { gamma: NaN }), /gamma .* got NaN/],
    ['CosineAnnealingLR tMax 0', () => new CosineAnnealingLR(o(), { tMax: 0 }), /tMax .* got 0/],
    [
      'CosineAnnealingLR etaMin -1',
      () => new CosineAnnealingLR(o(), { tMax: 2, etaMin: -1 }),
      /etaMin .* got -1/,
    ],
    ['CAWR t0 0', () => new CosineAnnealingWarmRestarts(o(), { t0: 0 }), /t0 .* got 0/],
    [
      'CAWR tMult 1.5',
      () => new CosineAnnealingWarmRestarts(o(), { t0: 2, tMult: 1.5 }),
      /tMult .* got 1\.5/,
    ],
    [
      'LinearLR startFactor 0',
      () => new LinearLR(o(), { startFactor: 0 }),
      /startFactor must be in \(0, 1\], got 0/,
    ],
    [
      'LinearLR startFactor 1.5',
      () => new LinearLR(o(), { startFactor: 1.5 }),
      /startFactor .* got 1\.5/,
    ],
    ['LinearLR endFactor 2', () => new LinearLR(o(), { endFactor: 2 }), /endFactor .* got 2/],
    ['LinearLR totalIters 0', () => new LinearLR(o(), { totalIters: 0 }), /totalIters .* got 0/],
    ['PolynomialLR power -1', () => new PolynomialLR(o(), { power: -1 }), /power .* got -1/],
    [
      'InverseTimeLR decayRate -1',
      () => new InverseTimeLR(o(), { decayRate: -1 }),
      /decayRate .* got -1/,
    ],
    [
      'LambdaLR 1 of 2',
      () => new LambdaLR(o(), { lrLambda: [() => 1] }),
      /lrLambda .* 2 functions/,
    ],
    [
      'OneCycleLR totalSteps 0',
      () => new OneCycleLR(o(), { maxLr: 1, totalSteps: 0 }),
      /totalSteps .* got 0/,
    ],
    [
      'OneCycleLR pctStart 1.5',
      () => new OneCycleLR(o(), { maxLr: 1, totalSteps: 9, pctStart: 1.5 }),
      /pctStart .* got 1\.5/,
    ],
    [
      'OneCycleLR annealStrategy',
      () => new OneCycleLR(o(), { maxLr: 1, totalSteps: 9, annealStrategy: 'exp' as 'cos' }),
      /annealStrategy .* got 'exp'/,
    ],
    [
      'OneCycleLR maxLr per group',
      () => new OneCycleLR(o(), { maxLr: [1, 2, 3], totalSteps: 9 }),
      /maxLr .* got \[1, 2, 3\]/,
    ],
    [
      'ReduceLROnPlateau factor 1',
      () => new ReduceLROnPlateau(o(), { factor: 1 }),
      /factor must be in \[0, 1\), got 1/,
    ],
    [
      'ReduceLROnPlateau mode',
      () => new ReduceLROnPlateau(o(), { mode: 'up' as 'min' }),
      /mode .* got 'up'/,
    ],
    [
      'ReduceLROnPlateau thresholdMode',
      () => new ReduceLROnPlateau(o(), { thresholdMode: 'x' as 'abs' }),
      /thresholdMode .* got 'x'/,
    ],
    [
      'ReduceLROnPlateau patience -1',
      () => new ReduceLROnPlateau(o(), { patience: -1 }),
      /patience .* got -1/,
    ],
    [
      'ReduceLROnPlateau minLr length',
      () => new ReduceLROnPlateau(o(), { minLr: [0] }),
      /minLr .* got \[0\]/,
    ],
    [
      'lastEpoch -2',
      () => new ExponentialLR(o(), { gamma: 0.5, lastEpoch: -2 }),
      /lastEpoch .* got -2/,
    ],
    [
      'SequentialLR milestones count',
      () => {
        const opt = o();
        return new SequentialLR(opt, { schedulers: [new LinearLR(opt)], milestones: [3] });
      },
      /milestones must be 0 epochs/,
    ],
    [
      'SequentialLR milestones order',
      () => {
        const opt = o();
        const s = [new LinearLR(opt), new LinearLR(opt), new LinearLR(opt)];
        return new SequentialLR(opt, { schedulers: s, milestones: [5, 5] });
      },
      /milestones must be increasing/,
    ],
    [
      'SequentialLR other optimizer',
      () => new SequentialLR(o(), { schedulers: [new LinearLR(o())], milestones: [] }),
      /schedulers\[0\] was built on another optimizer/,
    ],
  ];
  it.each(bad)('%s', (_, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it('loadStateDict rejects unknown keys', () => {
    const s = new StepLR(fakeOptimizer(), { stepSize: 2 });
    expect(() => s.loadStateDict({ tMax: 3 })).toThrow(/unknown key 'tMax'/);
  });
});
