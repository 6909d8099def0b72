import { expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * "No silent failures" with the real optimizers: every scheduler x every kind of bad option
 * throws the stated error, leaves the param groups deep-equal to before, and one more optimizer
 * step gives parameters bit-identical to an untouched twin (same setup, no failing call).
 */
const harnessPage = useHarnessPage();

interface Row {
  scheduler: string;
  /** unknown key, snake_case key, wrong type, out of range, or a value the optimizer refuses. */
  kind: string;
  /** `children: [[name, options]]` builds schedulers on the optimizer (before the failing call);
   * `lrLambdaReturns` becomes `lrLambda: () => value` ('NaN' for NaN). */
  options: Record<string, unknown>;
  /** Scheduler steps that succeed before the failing one (undefined: the constructor fails). */
  steps?: number;
  optimizer?: 'SGD' | 'Adam';
  error: 'TypeError' | 'RangeError';
  message: RegExp;
}

const chain = [
  ['LinearLR', {}],
  ['ExponentialLR', { gamma: 0.5 }],
];
const unknown = (s: string, key: string, near: string) =>
  new RegExp(`^${s}: unknown option '${key}' \\(did you mean '${near}'\\?\\)$`);

const rows: Row[] = [
  {
    scheduler: 'StepLR',
    kind: 'unknown key',
    options: { stepSize: 2, gama: 0.5 },
    error: 'TypeError',
    message: unknown('StepLR', 'gama', 'gamma'),
  },
  {
    scheduler: 'StepLR',
    kind: 'snake_case key',
    options: { step_size: 2 },
    error: 'TypeError',
    message: unknown('StepLR', 'step_size', 'stepSize'),
  },
  {
    scheduler: 'StepLR',
    kind: 'wrong type',
    options: { stepSize: '2' },
    error: 'TypeError',
    message: /^StepLR: stepSize must be a positive integer, got '2'$/,
  },
  {
    scheduler: 'StepLR',
    kind: 'out of range',
    options: { stepSize: 2, gamma: -1 },
    error: 'RangeError',
    message: /^StepLR: gamma must be a finite number >= 0, got -1$/,
  },
  {
    scheduler: 'StepLR',
    kind: 'refused for the optimizer',
    options: { stepSize: 1, gamma: 1e300 },
    steps: 1,
    error: 'RangeError',
    message:
      /^StepLR: would set lr to Infinity in param group 0: an lr must be a finite number >= 0$/,
  },
  {
    scheduler: 'MultiStepLR',
    kind: 'unknown key',
    options: { milestone: [2] },
    error: 'TypeError',
    message: unknown('MultiStepLR', 'milestone', 'milestones'),
  },
  {
    scheduler: 'MultiStepLR',
    kind: 'snake_case key',
    options: { milestones: [2], last_epoch: 3 },
    error: 'TypeError',
    message: unknown('MultiStepLR', 'last_epoch', 'lastEpoch'),
  },
  {
    scheduler: 'MultiStepLR',
    kind: 'wrong type',
    options: { milestones: 2 },
    error: 'TypeError',
    message: /^MultiStepLR: milestones must be an array of epoch indices, got 2$/,
  },
  {
    scheduler: 'MultiStepLR',
    kind: 'out of range',
    options: { milestones: [1.5] },
    error: 'RangeError',
    message: /^MultiStepLR: milestones\[0\] must be a non-negative integer, got 1.5$/,
  },
  {
    scheduler: 'ExponentialLR',
    kind: 'unknown key',
    options: { gama: 0.5 },
    error: 'TypeError',
    message: unknown('ExponentialLR', 'gama', 'gamma'),
  },
  {
    scheduler: 'ExponentialLR',
    kind: 'wrong type',
    options: { gamma: '0.5' },
    error: 'TypeError',
    message: /^ExponentialLR: gamma must be a finite number >= 0, got '0.5'$/,
  },
  {
    scheduler: 'ExponentialLR',
    kind: 'out of range',
    options: { gamma: -2 },
    error: 'RangeError',
    message: /^ExponentialLR: gamma must be a finite number >= 0, got -2$/,
  },
  {
    scheduler: 'ExponentialLR',
    kind: 'refused for the optimizer',
    options: { gamma: 1e300 },
    steps: 1,
    error: 'RangeError',
    message: /^ExponentialLR: would set lr to Infinity in param group 0/,
  },
  {
    scheduler: 'CosineAnnealingLR',
    kind: 'snake_case key',
    options: { T_max: 10 },
    error: 'TypeError',
    message: unknown('CosineAnnealingLR', 'T_max', 'tMax'),
  },
  {
    scheduler: 'CosineAnnealingLR',
    kind: 'wrong type',
    options: { tMax: 10, etaMin: '0' },
    error: 'TypeError',
    message: /^CosineAnnealingLR: etaMin must be a finite number >= 0, got '0'$/,
  },
  {
    scheduler: 'CosineAnnealingLR',
    kind: 'out of range',
    options: { tMax: 10, etaMin: -1e-3 },
    error: 'RangeError',
    message: /^CosineAnnealingLR: etaMin must be a finite number >= 0, got -0.001$/,
  },
  {
    scheduler: 'CosineAnnealingWarmRestarts',
    kind: 'snake_case key',
    options: { T_0: 5 },
    error: 'TypeError',
    message: unknown('CosineAnnealingWarmRestarts', 'T_0', 't0'),
  },
  {
    scheduler: 'CosineAnnealingWarmRestarts',
    kind: 'out of range',
    options: { t0: 5, tMult: 0 },
    error: 'RangeError',
    message: /^CosineAnnealingWarmRestarts: tMult must be a positive integer, got 0$/,
  },
  {
    scheduler: 'LinearLR',
    kind: 'snake_case key',
    options: { start_factor: 0.5 },
    error: 'TypeError',
    message: unknown('LinearLR', 'start_factor', 'startFactor'),
  },
  {
    scheduler: 'LinearLR',
    kind: 'out of range',
    options: { startFactor: 0 },
    error: 'RangeError',
    message: /^LinearLR: startFactor must be in \(0, 1\], got 0$/,
  },
  {
    scheduler: 'PolynomialLR',
    kind: 'unknown key',
    options: { powr: 2 },
    error: 'TypeError',
    message: unknown('PolynomialLR', 'powr', 'power'),
  },
  {
    scheduler: 'PolynomialLR',
    kind: 'wrong type',
    options: { totalIters: null },
    error: 'TypeError',
    message: /^PolynomialLR: totalIters must be a positive integer, got null$/,
  },
  {
    scheduler: 'InverseTimeLR',
    kind: 'snake_case key',
    options: { decay_rate: 0.5 },
    error: 'TypeError',
    message: unknown('InverseTimeLR', 'decay_rate', 'decayRate'),
  },
  {
    scheduler: 'InverseTimeLR',
    kind: 'out of range',
    options: { decayRate: -0.5 },
    error: 'RangeError',
    message: /^InverseTimeLR: decayRate must be a finite number >= 0, got -0.5$/,
  },
  {
    scheduler: 'LambdaLR',
    kind: 'snake_case key',
    options: { lr_lambda: 1 },
    error: 'TypeError',
    message: unknown('LambdaLR', 'lr_lambda', 'lrLambda'),
  },
  {
    scheduler: 'LambdaLR',
    kind: 'wrong type',
    options: { lrLambdaReturns: 'a string' },
    error: 'TypeError',
    message:
      /^LambdaLR: lrLambda returned string 'a string' at epoch 0 for param group 0, expected a finite number >= 0$/,
  },
  {
    scheduler: 'LambdaLR',
    kind: 'out of range',
    options: { lrLambdaReturns: -1 },
    error: 'RangeError',
    message: /^LambdaLR: lrLambda returned -1 at epoch 0 for param group 0/,
  },
  {
    scheduler: 'LambdaLR',
    kind: 'lambda returns NaN',
    options: { lrLambdaReturns: 'NaN' },
    error: 'RangeError',
    message: /^LambdaLR: lrLambda returned NaN at epoch 0/,
  },
  {
    scheduler: 'OneCycleLR',
    kind: 'snake_case key',
    options: { max_lr: 0.1, totalSteps: 10 },
    error: 'TypeError',
    message: unknown('OneCycleLR', 'max_lr', 'maxLr'),
  },
  {
    scheduler: 'OneCycleLR',
    kind: 'wrong type',
    options: { maxLr: '0.1', totalSteps: 10 },
    error: 'TypeError',
    message: /^OneCycleLR: maxLr must be a finite number > 0, got '0.1'$/,
  },
  {
    scheduler: 'OneCycleLR',
    kind: 'out of range',
    options: { maxLr: 0.1, totalSteps: 10, divFactor: 0 },
    error: 'RangeError',
    message: /^OneCycleLR: divFactor must be a finite number > 0, got 0$/,
  },
  {
    scheduler: 'OneCycleLR',
    kind: 'refused for the optimizer',
    optimizer: 'Adam',
    options: { maxLr: 0.1, totalSteps: 10, maxMomentum: 1.2 },
    error: 'RangeError',
    message:
      /^OneCycleLR: would set betas\[0\] to 1.2 in param group 0: Adam: betas\[0\] must be in \[0, 1\), got 1.2$/,
  },
  {
    scheduler: 'OneCycleLR',
    kind: 'refused for the optimizer',
    optimizer: 'Adam',
    options: { maxLr: 0.1, totalSteps: 10, baseMomentum: 1 },
    error: 'RangeError',
    message:
      /^OneCycleLR: would set betas\[0\] to 1 in param group 0: Adam: betas\[0\] must be in \[0, 1\), got 1$/,
  },
  {
    scheduler: 'ReduceLROnPlateau',
    kind: 'snake_case key',
    options: { min_lr: 1e-4 },
    error: 'TypeError',
    message: unknown('ReduceLROnPlateau', 'min_lr', 'minLr'),
  },
  {
    scheduler: 'ReduceLROnPlateau',
    kind: 'wrong type',
    options: { mode: 1 },
    error: 'TypeError',
    message: /^ReduceLROnPlateau: mode must be 'min' or 'max', got 1$/,
  },
  {
    scheduler: 'ReduceLROnPlateau',
    kind: 'out of range',
    options: { factor: 1.5 },
    error: 'RangeError',
    message: /^ReduceLROnPlateau: factor must be in \[0, 1\), got 1.5$/,
  },
  {
    scheduler: 'SequentialLR',
    kind: 'unknown key',
    options: { children: chain, milestones: [2], milestone: 2 },
    error: 'TypeError',
    message: unknown('SequentialLR', 'milestone', 'milestones'),
  },
  {
    scheduler: 'SequentialLR',
    kind: 'out of range',
    options: { children: chain, milestones: [2, 4] },
    error: 'RangeError',
    message:
      /^SequentialLR: milestones must be 1 epochs \(one fewer than schedulers\), got \[2, 4\]$/,
  },
  {
    scheduler: 'SequentialLR',
    kind: 'refused for the optimizer',
    options: {
      children: [
        ['LinearLR', {}],
        ['ExponentialLR', { gamma: 1e300 }],
      ],
      milestones: [1],
    },
    steps: 2,
    error: 'RangeError',
    message: /^ExponentialLR: would set lr to Infinity in param group 0/,
  },
  {
    scheduler: 'ChainedScheduler',
    kind: 'unknown key',
    options: { children: chain, lastEpoch: 0 },
    error: 'TypeError',
    message: /^ChainedScheduler: unknown option 'lastEpoch' \(valid: schedulers\)$/,
  },
  {
    scheduler: 'ChainedScheduler',
    kind: 'wrong type',
    options: { schedulers: 'all' },
    error: 'TypeError',
    message: /^ChainedScheduler: schedulers must be a non-empty array of schedulers, got 'all'$/,
  },
  {
    scheduler: 'ChainedScheduler',
    kind: 'refused for the optimizer',
    options: {
      children: [
        ['ExponentialLR', { gamma: 0.5 }],
        ['ExponentialLR', { gamma: 1e300 }],
        ['ExponentialLR', { gamma: 1e300 }],
      ],
    },
    steps: 0,
    error: 'RangeError',
    message: /^ExponentialLR: would set lr to Infinity in param group 0/,
  },
];

it('the table covers all 13 schedulers', () => {
  expect(new Set(rows.map((r) => r.scheduler)).size).toBe(13);
});

it.each(rows)('$scheduler, $kind $options', async (row) => {
  const { message, ...data } = row;
  const r = await harnessPage().evaluate(async (row) => {
    type Sched = { step(metric?: number): void };
    const api = window.webgpuOptim as unknown as Record<string, new (...a: unknown[]) => Sched>;
    const { createEngine, optimizers } = window.webgpuOptim;
    const engine = await createEngine();
    const init = [7, 33].map((n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + k)));
    const make = () => {
      const ws = init.map((v) => engine.parameter(v));
      const options = row.optimizer === 'Adam' ? { lr: 0.01 } : { lr: 0.1, momentum: 0.9 };
      const opt = new optimizers[(row.optimizer ?? 'SGD') as 'SGD'](ws, options as object);
      // The setup both twins share: children of a composite, and the options object.
      const { children, lrLambdaReturns, ...rest } = row.options as Record<string, unknown>;
      const o: Record<string, unknown> = { ...rest };
      if (children) {
        o.schedulers = (children as [string, object][]).map(([n, c]) => new api[n]!(opt, c));
      }
      if (lrLambdaReturns !== undefined) {
        o.lrLambda = () => (lrLambdaReturns === 'NaN' ? NaN : lrLambdaReturns);
      }
      return { ws, opt, o };
    };
    const metric = row.scheduler === 'ReduceLROnPlateau' ? 1 : undefined;
    const groupsOf = (opt: { paramGroups: object[] }) =>
      JSON.stringify(
        opt.paramGroups.map((g) => {
          const { params: _params, ...rest } = g as Record<string, unknown>;
          return rest;
        }),
      );
    const [a, b] = [make(), make()];
    // The twin runs every call that succeeds; the subject also the one that must fail.
    let before = groupsOf(a.opt);
    let error: { name: string; message: string } | undefined;
    try {
      const sa = new api[row.scheduler]!(a.opt, a.o);
      const sb = new api[row.scheduler]!(b.opt, b.o);
      for (let i = 0; i < (row.steps ?? 0); i++) {
        sa.step(metric);
        sb.step(metric);
      }
      before = groupsOf(a.opt);
      sa.step(metric);
    } catch (e) {
      error = { name: (e as Error).name, message: (e as Error).message };
    }
    const groupsUnchanged = groupsOf(a.opt) === before;
    const groupsMatchTwin = groupsOf(a.opt) === groupsOf(b.opt);
    for (const { ws } of [a, b]) {
      ws.forEach((w, k) => w.grad.write(Float32Array.from(init[k]!, (x) => Math.cos(3 * x))));
    }
    a.opt.step();
    b.opt.step();
    let bitIdentical = true;
    for (let k = 0; k < init.length; k++) {
      const [x, y] = [await a.ws[k]!.read(), await b.ws[k]!.read()];
      const [ux, uy] = [new Uint32Array(x.buffer), new Uint32Array(y.buffer)];
      if (ux.length !== uy.length || ux.some((v, i) => v !== uy[i])) bitIdentical = false;
    }
    engine.dispose();
    return { error, groupsUnchanged, groupsMatchTwin, bitIdentical };
  }, data);
  expect(r.error?.name).toBe(row.error);
  expect(r.error?.message).toMatch(message);
  expect(r.groupsUnchanged, 'param groups unchanged by the failing call').toBe(true);
  expect(r.groupsMatchTwin, 'param groups equal to the twin').toBe(true);
  expect(r.bitIdentical, 'one more step: parameters bit-identical to the twin').toBe(true);
});
