/**
 * "No silent failures", scheduler side: every scheduler crossed with every kind of bad input
 * (unknown option, snake_case option, wrong type, out of range, a value the optimizer would
 * refuse, a bad optimizer or options object) throws the stated error class and message, and
 * leaves every param group field exactly as it was (and, for a failed step, the scheduler's
 * state too). loadStateDict likewise refuses a bad state dict whole.
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
  type Schedulable,
  type SchedulerStateDict,
} from '../../src/schedulers';

type Options = Record<string, unknown>;
interface Stepper {
  step(metric?: number): void;
  stateDict(): SchedulerStateDict;
  loadStateDict(sd: SchedulerStateDict): void;
  getLastLr(): number[];
}

/**
 * An SGD-like group and an Adam-like group, with a validateGroup that refuses what a real
 * optimizer would (a momentum or beta1 outside [0, 1)) plus, to reach every schedule, lr > 1.
 */
function fakeOptimizer(): Schedulable {
  const opt = {
    paramGroups: [
      { lr: 0.1, momentum: 0.9, params: [] },
      { lr: 0.02, betas: [0.9, 0.999] as [number, number], params: [] },
    ],
    validateGroup(g: object) {
      const group = g as { lr: number; momentum?: number; betas?: number[] };
      if (group.lr > 1) throw new RangeError(`Fake: lr must be <= 1, got ${group.lr}`);
      const m = group.betas ? group.betas[0]! : group.momentum!;
      const field = group.betas ? 'betas[0]' : 'momentum';
      if (!(m >= 0 && m < 1)) throw new RangeError(`Fake: ${field} must be in [0, 1), got ${m}`);
    },
  };
  return opt;
}

/** Every field of every group, for deep comparison (params excluded: not the schedulers'). */
const snapshot = (opt: Schedulable) => structuredClone(opt.paramGroups.map((g) => ({ ...g })));

/** How to build each scheduler on an optimizer, with options that are valid. */
const subjects: Record<
  string,
  {
    make: (opt: Schedulable, o: Options) => Stepper;
    valid: Options | ((o: Schedulable) => Options);
  }
> = {
  StepLR: { make: (p, o) => new StepLR(p, o as never), valid: { stepSize: 2 } },
  MultiStepLR: { make: (p, o) => new MultiStepLR(p, o as never), valid: { milestones: [2] } },
  ExponentialLR: { make: (p, o) => new ExponentialLR(p, o as never), valid: { gamma: 0.5 } },
  CosineAnnealingLR: {
    make: (p, o) => new CosineAnnealingLR(p, o as never),
    valid: { tMax: 10 },
  },
  CosineAnnealingWarmRestarts: {
    make: (p, o) => new CosineAnnealingWarmRestarts(p, o as never),
    valid: { t0: 5 },
  },
  LinearLR: { make: (p, o) => new LinearLR(p, o as never), valid: {} },
  PolynomialLR: { make: (p, o) => new PolynomialLR(p, o as never), valid: {} },
  InverseTimeLR: { make: (p, o) => new InverseTimeLR(p, o as never), valid: { decayRate: 1 } },
  LambdaLR: { make: (p, o) => new LambdaLR(p, o as never), valid: { lrLambda: () => 1 } },
  OneCycleLR: {
    make: (p, o) => new OneCycleLR(p, o as never),
    valid: { maxLr: 0.5, totalSteps: 10 },
  },
  ReduceLROnPlateau: { make: (p, o) => new ReduceLROnPlateau(p, o as never), valid: {} },
  // The composites' valid options are children built on the optimizer.
  SequentialLR: {
    make: (p, o) => new SequentialLR(p, o as never),
    valid: (p) => ({
      schedulers: [new LinearLR(p), new ExponentialLR(p, { gamma: 0.5 })],
      milestones: [2],
    }),
  },
  ChainedScheduler: {
    make: (p, o) => new ChainedScheduler(p, o as never),
    valid: (p) => ({ schedulers: [new LinearLR(p), new ExponentialLR(p, { gamma: 0.5 })] }),
  },
};

const validOf = (name: string, opt: Schedulable): Options => {
  const v = subjects[name]!.valid;
  return typeof v === 'function' ? v(opt) : v;
};
const makeValid = (name: string, opt: Schedulable) => subjects[name]!.make(opt, validOf(name, opt));

interface Row {
  scheduler: string;
  kind: string;
  options: Options;
  /** Steps to take after construction; the throw is expected at the last one (0: the constructor). */
  steps?: number;
  error: typeof TypeError | typeof RangeError;
  message: RegExp;
}

const row = (
  scheduler: string,
  kind: string,
  options: Options,
  error: Row['error'],
  message: RegExp,
  steps = 0,
): Row => ({ scheduler, kind, options, error, message, steps });

/** One line per scheduler x kind of bad input; `null` where no option value can produce it. */
const table: Row[] = [
  // ---- unknown names (typos and PyTorch's snake_case) ----
  ...(
    [
      ['StepLR', 'gama', 'gamma'],
      ['StepLR', 'stepsize', 'stepSize'],
      ['MultiStepLR', 'milestone', 'milestones'],
      ['ExponentialLR', 'gama', 'gamma'],
      ['CosineAnnealingLR', 'tmax', 'tMax'],
      ['CosineAnnealingWarmRestarts', 'tmult', 'tMult'],
      ['LinearLR', 'startfactor', 'startFactor'],
      ['PolynomialLR', 'powr', 'power'],
      ['InverseTimeLR', 'decayrate', 'decayRate'],
      ['LambdaLR', 'lrLambdas', 'lrLambda'],
      ['OneCycleLR', 'maxlr', 'maxLr'],
      ['ReduceLROnPlateau', 'patiense', 'patience'],
      ['SequentialLR', 'milestone', 'milestones'],
      ['ChainedScheduler', 'scheduler', 'schedulers'],
    ] as const
  ).map(([s, key, near]) =>
    row(
      s,
      'unknown key',
      { [key]: 1 },
      TypeError,
      new RegExp(`^${s}: unknown option '${key}' \\(did you mean '${near}'\\?\\)$`),
    ),
  ),
  ...(
    [
      ['StepLR', 'step_size', 'stepSize'],
      ['MultiStepLR', 'last_epoch', 'lastEpoch'],
      ['ExponentialLR', 'last_epoch', 'lastEpoch'],
      ['CosineAnnealingLR', 'T_max', 'tMax'],
      ['CosineAnnealingLR', 'eta_min', 'etaMin'],
      ['CosineAnnealingWarmRestarts', 'T_0', 't0'],
      ['LinearLR', 'total_iters', 'totalIters'],
      ['PolynomialLR', 'total_iters', 'totalIters'],
      ['InverseTimeLR', 'decay_rate', 'decayRate'],
      ['LambdaLR', 'lr_lambda', 'lrLambda'],
      ['OneCycleLR', 'max_lr', 'maxLr'],
      ['OneCycleLR', 'max_momentum', 'maxMomentum'],
      ['ReduceLROnPlateau', 'min_lr', 'minLr'],
      ['SequentialLR', 'last_epoch', 'lastEpoch'],
    ] as const
  ).map(([s, key, near]) =>
    row(
      s,
      'snake_case key',
      { [key]: 1 },
      TypeError,
      new RegExp(`^${s}: unknown option '${key}' \\(did you mean '${near}'\\?\\)$`),
    ),
  ),
  // ---- wrong type ----
  row(
    'StepLR',
    'wrong type',
    { gamma: '0.5' },
    TypeError,
    /^StepLR: gamma must be a finite number >= 0, got '0.5'$/,
  ),
  row(
    'MultiStepLR',
    'wrong type',
    { milestones: 3 },
    TypeError,
    /^MultiStepLR: milestones must be an array of epoch indices, got 3$/,
  ),
  row(
    'ExponentialLR',
    'wrong type',
    { gamma: null },
    TypeError,
    /^ExponentialLR: gamma must be a finite number >= 0, got null$/,
  ),
  row(
    'CosineAnnealingLR',
    'wrong type',
    { tMax: '10' },
    TypeError,
    /^CosineAnnealingLR: tMax must be a positive integer, got '10'$/,
  ),
  row(
    'CosineAnnealingWarmRestarts',
    'wrong type',
    { tMult: true },
    TypeError,
    /^CosineAnnealingWarmRestarts: tMult must be a positive integer, got true$/,
  ),
  row(
    'LinearLR',
    'wrong type',
    { startFactor: '0.5' },
    TypeError,
    /^LinearLR: startFactor must be in \(0, 1\], got '0.5'$/,
  ),
  row(
    'PolynomialLR',
    'wrong type',
    { power: [2] },
    TypeError,
    /^PolynomialLR: power must be a finite number >= 0, got \[2\]$/,
  ),
  row(
    'InverseTimeLR',
    'wrong type',
    { decayRate: '1' },
    TypeError,
    /^InverseTimeLR: decayRate must be/,
  ),
  row(
    'LambdaLR',
    'wrong type',
    { lrLambda: 0.5 },
    TypeError,
    /^LambdaLR: lrLambda must be a function or 2 functions \(one per group\), got 0.5$/,
  ),
  row(
    'OneCycleLR',
    'wrong type',
    { threePhase: 'yes' },
    TypeError,
    /^OneCycleLR: threePhase must be a boolean, got 'yes'$/,
  ),
  row(
    'OneCycleLR',
    'missing length',
    { totalSteps: undefined },
    TypeError,
    /^OneCycleLR: give totalSteps, or epochs and stepsPerEpoch$/,
  ),
  row(
    'ReduceLROnPlateau',
    'wrong type',
    { factor: '0.5' },
    TypeError,
    /^ReduceLROnPlateau: factor must be in \[0, 1\), got '0.5'$/,
  ),
  row(
    'SequentialLR',
    'wrong type',
    { milestones: '2' },
    TypeError,
    /^SequentialLR: milestones must be an array of epochs, got '2'$/,
  ),
  row(
    'ChainedScheduler',
    'wrong type',
    { schedulers: [1] },
    TypeError,
    /^ChainedScheduler: schedulers\[0\] must be a scheduler, got 1$/,
  ),
  // ---- out of range ----
  row(
    'StepLR',
    'out of range',
    { stepSize: 0 },
    RangeError,
    /^StepLR: stepSize must be a positive integer, got 0$/,
  ),
  row(
    'MultiStepLR',
    'out of range',
    { milestones: [2, -1] },
    RangeError,
    /^MultiStepLR: milestones\[1\] must be a non-negative integer, got -1$/,
  ),
  row(
    'ExponentialLR',
    'out of range',
    { gamma: NaN },
    RangeError,
    /^ExponentialLR: gamma must be a finite number >= 0, got NaN$/,
  ),
  row(
    'CosineAnnealingLR',
    'out of range',
    { etaMin: -1 },
    RangeError,
    /^CosineAnnealingLR: etaMin must be a finite number >= 0, got -1$/,
  ),
  row(
    'CosineAnnealingWarmRestarts',
    'out of range',
    { tMult: 1.5 },
    RangeError,
    /^CosineAnnealingWarmRestarts: tMult must be a positive integer, got 1.5$/,
  ),
  row(
    'LinearLR',
    'out of range',
    { endFactor: 2 },
    RangeError,
    /^LinearLR: endFactor must be in \[0, 1\], got 2$/,
  ),
  row(
    'PolynomialLR',
    'out of range',
    { totalIters: 0 },
    RangeError,
    /^PolynomialLR: totalIters must be a positive integer, got 0$/,
  ),
  row(
    'InverseTimeLR',
    'out of range',
    { decayRate: -1 },
    RangeError,
    /^InverseTimeLR: decayRate must be a finite number >= 0, got -1$/,
  ),
  row(
    'LambdaLR',
    'out of range',
    { lrLambda: [() => 1] },
    RangeError,
    /^LambdaLR: lrLambda must be a function or 2 functions/,
  ),
  row(
    'OneCycleLR',
    'out of range',
    { pctStart: 1.5 },
    RangeError,
    /^OneCycleLR: pctStart must be in \[0, 1\], got 1.5$/,
  ),
  row(
    'ReduceLROnPlateau',
    'out of range',
    { factor: 1 },
    RangeError,
    /^ReduceLROnPlateau: factor must be in \[0, 1\), got 1$/,
  ),
  row(
    'SequentialLR',
    'out of range',
    { milestones: [0] },
    RangeError,
    /^SequentialLR: milestones\[0\] must be a positive integer, got 0$/,
  ),
  row(
    'ChainedScheduler',
    'out of range',
    { schedulers: [] },
    RangeError,
    /^ChainedScheduler: schedulers must be a non-empty array of schedulers, got \[\]$/,
  ),
  row(
    'LambdaLR',
    'out of range',
    { lastEpoch: -2 },
    RangeError,
    /^LambdaLR: lastEpoch must be an integer >= -1, got -2$/,
  ),
  // ---- a value the optimizer (or any optimizer) would refuse, found at build or at a step ----
  row(
    'StepLR',
    'refused by the optimizer',
    { stepSize: 1, gamma: 20 },
    RangeError,
    /^StepLR: would set lr to 2 in param group 0: Fake: lr must be <= 1, got 2$/,
    1,
  ),
  row(
    'MultiStepLR',
    'refused by the optimizer',
    { milestones: [2], gamma: 20 },
    RangeError,
    /^MultiStepLR: would set lr to 2 in param group 0: Fake: lr must be <= 1/,
    2,
  ),
  row(
    'ExponentialLR',
    'refused by the optimizer',
    { gamma: 20 },
    RangeError,
    /^ExponentialLR: would set lr to 2 in param group 0: Fake/,
    1,
  ),
  row(
    'ExponentialLR',
    'infinite lr (no validateGroup)',
    { gamma: 1e300 },
    RangeError,
    /^ExponentialLR: would set lr to Infinity in param group 0: an lr must be a finite number >= 0$/,
    2,
  ),
  row(
    'CosineAnnealingLR',
    'refused by the optimizer',
    { tMax: 4, etaMin: 5 },
    RangeError,
    /^CosineAnnealingLR: would set lr to 2\.5\d* in param group 0: Fake: lr must be <= 1/,
    2,
  ),
  row(
    'CosineAnnealingWarmRestarts',
    'refused by the optimizer',
    { t0: 4, etaMin: 5 },
    RangeError,
    /^CosineAnnealingWarmRestarts: would set lr to 2\.5\d* in param group 0: Fake/,
    2,
  ),
  row(
    'LambdaLR',
    'refused by the optimizer',
    { lrLambda: (e: number) => (e === 2 ? 20 : 1) },
    RangeError,
    /^LambdaLR: would set lr to 2 in param group 0: Fake: lr must be <= 1, got 2$/,
    2,
  ),
  row(
    'LambdaLR',
    'lambda returns NaN',
    { lrLambda: (e: number) => (e === 1 ? NaN : 1) },
    RangeError,
    /^LambdaLR: lrLambda returned NaN at epoch 1 for param group 0, expected a finite number >= 0$/,
    1,
  ),
  row(
    'LambdaLR',
    'lambda returns -1',
    { lrLambda: () => -1 },
    RangeError,
    /^LambdaLR: lrLambda returned -1 at epoch 0 for param group 0/,
  ),
  row(
    'LambdaLR',
    'lambda returns a string',
    { lrLambda: [() => 1, () => '2'] },
    TypeError,
    /^LambdaLR: lrLambda returned string '2' at epoch 0 for param group 1/,
  ),
  row(
    'OneCycleLR',
    'maxMomentum refused',
    { maxMomentum: 1.2 },
    RangeError,
    /^OneCycleLR: would set momentum to 1.2 in param group 0: Fake: momentum must be in \[0, 1\), got 1.2$/,
  ),
  row(
    'OneCycleLR',
    'baseMomentum refused (betas[0])',
    { baseMomentum: [0.85, 1.5] },
    RangeError,
    /^OneCycleLR: would set betas\[0\] to 1.5 in param group 1: Fake: betas\[0\] must be in \[0, 1\), got 1.5$/,
  ),
  row(
    'OneCycleLR',
    'maxLr refused on the way up',
    { maxLr: 2 },
    RangeError,
    /^OneCycleLR: would set lr to 1\.04\d* in param group 0: Fake: lr must be <= 1/,
    1,
  ),
  row(
    'SequentialLR',
    'refused in the second scheduler',
    {},
    RangeError,
    /^ExponentialLR: would set lr to 2 in param group 0: Fake/,
    3,
  ),
  row(
    'ChainedScheduler',
    'refused by the second child, after the first wrote',
    {},
    RangeError,
    /^ExponentialLR: would set lr to 1.6 in param group 0: Fake/,
    1,
  ),
  // LinearLR, PolynomialLR, InverseTimeLR, ReduceLROnPlateau: every valid option keeps the lr in
  // [0, lr], which any optimizer accepts; their bad values are the rows above.
];

/** A row's options (children built here, before the snapshot), undefined values dropped. */
function optionsOf(r: Row, opt: Schedulable): Options {
  if (r.scheduler === 'SequentialLR' && r.kind.startsWith('refused')) {
    const warmUp = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    return { schedulers: [warmUp, new ExponentialLR(opt, { gamma: 20 })], milestones: [2] };
  }
  if (r.scheduler === 'ChainedScheduler' && r.kind.startsWith('refused')) {
    // lr 0.1 -> 0.05 by the first, then x32 = 1.6 refused: the first one's write is undone.
    return {
      schedulers: [new ExponentialLR(opt, { gamma: 0.5 }), new ExponentialLR(opt, { gamma: 32 })],
    };
  }
  const options: Options = { ...validOf(r.scheduler, opt), ...r.options };
  for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
  return options;
}

const stepOf = (s: Stepper) => s.step(s instanceof ReduceLROnPlateau ? 1 : undefined);

describe('every scheduler x every kind of bad option: throws, changes nothing', () => {
  it('the table covers all 13 schedulers', () => {
    expect(new Set(table.map((r) => r.scheduler))).toEqual(new Set(Object.keys(subjects)));
  });

  it.each(table)('$scheduler, $kind', (r) => {
    const opt = fakeOptimizer();
    if (r.kind.includes('no validateGroup')) delete opt.validateGroup;
    const options = optionsOf(r, opt);
    const make = () => subjects[r.scheduler]!.make(opt, options);
    if (r.steps === 0) {
      const before = snapshot(opt);
      const act = make;
      expect(act).toThrow(r.error);
      expect(act).toThrow(r.message);
      expect(snapshot(opt)).toEqual(before);
      return;
    }
    const s = make();
    for (let i = 1; i < r.steps!; i++) stepOf(s);
    const [groups, state, lastLr] = [snapshot(opt), s.stateDict(), s.getLastLr()];
    let error: unknown;
    try {
      stepOf(s);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(r.error);
    expect((error as Error).message).toMatch(r.message);
    expect(snapshot(opt)).toEqual(groups);
    expect(s.stateDict()).toEqual(state);
    expect(s.getLastLr()).toEqual(lastLr);
  });
});

describe('a bad optimizer or options object is a clear TypeError', () => {
  const bad: [string, unknown, unknown, RegExp][] = [
    ['options a number', 'ok', 5, /options must be an object, got 5/],
    ['options null', 'ok', null, /options must be an object, got null/],
    ['options an array', 'ok', [], /options must be an object, got array\(0\)/],
    [
      'no paramGroups',
      {},
      'valid',
      /expected an optimizer with a non-empty array of paramGroups, got object \{\}/,
    ],
    ['optimizer undefined', undefined, 'valid', /expected an optimizer .* got undefined/],
    [
      'lr not a number',
      { paramGroups: [{ lr: '0.1' }] },
      'valid',
      /paramGroups\[0\]\.lr must be a finite number >= 0, got '0.1'/,
    ],
  ];
  const rows = Object.keys(subjects).flatMap((name) => bad.map((b) => [name, ...b] as const));
  it.each(rows)('%s: %s', (name, _, optimizer, options, message) => {
    const good = fakeOptimizer();
    const valid = validOf(name, good);
    const before = snapshot(good);
    const target = (optimizer === 'ok' ? good : optimizer) as Schedulable;
    const make = () =>
      subjects[name]!.make(target, (options === 'valid' ? valid : options) as Options);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`^${name}: ${message.source}`));
    expect(snapshot(good)).toEqual(before);
  });
});

describe('loadStateDict refuses a bad state dict whole', () => {
  type Mutation = [string, (sd: Record<string, unknown>) => unknown, typeof TypeError, RegExp];
  const mutations: Mutation[] = [
    ['not an object', () => null, TypeError, /expected a state dict object, got null/],
    [
      'another kind',
      (sd) => ({ ...sd, kind: 'Other' }),
      TypeError,
      /the state dict is of a string 'Other'/,
    ],
    ['unknown key', (sd) => ({ ...sd, tMaxx: 3 }), TypeError, /unknown key 'tMaxx'/],
    ['missing lastEpoch', ({ lastEpoch: _, ...sd }) => sd, TypeError, /missing key 'lastEpoch'/],
    [
      'lastEpoch a string',
      (sd) => ({ ...sd, lastEpoch: '3' }),
      TypeError,
      /'lastEpoch' must be a number/,
    ],
    [
      'lastEpoch 1.5',
      (sd) => ({ ...sd, lastEpoch: 1.5 }),
      RangeError,
      /lastEpoch'? must be (an integer >= -?\d|a non-negative integer), got 1.5/,
    ],
    [
      'lastEpoch -2',
      (sd) => ({ ...sd, lastEpoch: -2 }),
      RangeError,
      /lastEpoch'? must be (an integer >= -?\d|a non-negative integer), got -2/,
    ],
    [
      'lastLr of 1 group',
      (sd) => ({ ...sd, lastLr: [0.1] }),
      RangeError,
      /'lastLr' must have 2 entries \(one per param group\), got 1/,
    ],
    [
      'lastLr NaN',
      (sd) => ({ ...sd, lastLr: [NaN, 0.1] }),
      RangeError,
      /'lastLr\[0\]' must be a finite number, got NaN/,
    ],
    [
      'lastLr -1',
      (sd) => ({ ...sd, lastLr: [-1, 0.1] }),
      RangeError,
      /lastLr\[0\].* must be .*>= 0, got -1/,
    ],
  ];
  const rows = Object.keys(subjects).flatMap((name) => mutations.map((m) => [name, ...m] as const));
  it.each(rows)('%s: %s', (name, _, mutate, error, message) => {
    const opt = fakeOptimizer();
    const s = makeValid(name, opt);
    for (let i = 0; i < 3; i++) stepOf(s);
    const [groups, state] = [snapshot(opt), s.stateDict()];
    const sd = mutate(JSON.parse(JSON.stringify(state)) as Record<string, unknown>);
    const act = () => s.loadStateDict(sd as SchedulerStateDict);
    expect(act).toThrow(error);
    expect(act).toThrow(new RegExp(`^${name}\\.loadStateDict: ${message.source}`));
    expect(s.stateDict()).toEqual(state);
    expect(snapshot(opt)).toEqual(groups);
  });

  const typed: [string, string, unknown, RegExp][] = [
    ['StepLR', 'gamma', '0.5', /'gamma' must be a number, got string '0.5'/],
    ['StepLR', 'stepSize', 0, /stepSize must be a positive integer, got 0/],
    ['MultiStepLR', 'milestones', [-1], /milestones\[0\] must be a non-negative integer, got -1/],
    ['CosineAnnealingLR', 'etaMin', -1, /etaMin must be a finite number >= 0, got -1/],
    ['CosineAnnealingWarmRestarts', 'tI', 0, /tI must be a finite number > 0, got 0/],
    ['OneCycleLR', 'annealStrategy', 'exp', /annealStrategy must be 'cos' or 'linear', got 'exp'/],
    [
      'OneCycleLR',
      'maxMomentums',
      [0.95, 1.2],
      /would set betas\[0\] to 1.2 in param group 1: Fake/,
    ],
    ['OneCycleLR', 'useBeta1', [true, true], /useBeta1 must match/],
    [
      'ReduceLROnPlateau',
      'best',
      'NaN',
      /best must be a number, 'Infinity' or '-Infinity', got 'NaN'/,
    ],
    ['ReduceLROnPlateau', 'mode', 'up', /mode must be 'min' or 'max', got 'up'/],
    ['SequentialLR', 'milestones', [3], /milestones \[3\] differ from this scheduler's \[2\]/],
  ];
  it.each(typed)('%s: %s = %j', (name, key, value, message) => {
    const opt = fakeOptimizer();
    const s = makeValid(name, opt);
    stepOf(s);
    const [groups, state] = [snapshot(opt), s.stateDict()];
    expect(() => s.loadStateDict({ ...state, [key]: value } as SchedulerStateDict)).toThrow(
      message,
    );
    expect(s.stateDict()).toEqual(state);
    expect(snapshot(opt)).toEqual(groups);
  });

  it.each(['SequentialLR', 'ChainedScheduler'])(
    '%s: a bad child state leaves the children already loaded as they were',
    (name) => {
      const opt = fakeOptimizer();
      const s = makeValid(name, opt);
      stepOf(s);
      const state = s.stateDict();
      const other = makeValid(name, fakeOptimizer());
      for (let i = 0; i < 4; i++) stepOf(other);
      const sd = JSON.parse(JSON.stringify(other.stateDict())) as {
        schedulers: { lastEpoch: unknown }[];
      };
      sd.schedulers[1]!.lastEpoch = 'x';
      expect(() => s.loadStateDict(sd as unknown as SchedulerStateDict)).toThrow(
        /^ExponentialLR\.loadStateDict: 'lastEpoch' must be a number, got string 'x'$/,
      );
      expect(s.stateDict()).toEqual(state);
    },
  );
});

describe('ReduceLROnPlateau.step', () => {
  it.each([
    [NaN, RangeError, /^ReduceLROnPlateau: metric must be a finite number, got NaN$/],
    ['0.5', TypeError, /^ReduceLROnPlateau: metric must be a finite number, got '0.5'$/],
  ] as const)('metric %s throws and counts nothing', (metric, error, message) => {
    const opt = fakeOptimizer();
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    s.step(1);
    const [groups, state] = [snapshot(opt), s.stateDict()];
    expect(() => s.step(metric as number)).toThrow(error);
    expect(() => s.step(metric as number)).toThrow(message);
    expect(s.stateDict()).toEqual(state);
    expect(snapshot(opt)).toEqual(groups);
  });

  it('a reduced lr the optimizer refuses throws and changes nothing', () => {
    const opt = fakeOptimizer();
    opt.validateGroup = (g) => {
      if ((g as { lr: number }).lr < 0.015) throw new RangeError('Fake: lr must be >= 0.015');
    };
    const s = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    s.step(1);
    const [groups, state] = [snapshot(opt), s.stateDict()];
    expect(() => s.step(2)).toThrow(
      /^ReduceLROnPlateau: would set lr to 0.01 in param group 1: Fake: lr must be >= 0.015$/,
    );
    expect(s.stateDict()).toEqual(state);
    expect(snapshot(opt)).toEqual(groups);
  });
});
