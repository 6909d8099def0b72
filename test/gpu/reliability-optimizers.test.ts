import { describe, expect, it } from 'vitest';
import { optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import { useHarnessPage } from './browser.ts';
import type { ParamsKind, RejectCase, StepKind } from './reject.ts';

/**
 * Every optimizer x every kind of bad input (after torch's optim_error_inputs_func): each call
 * throws the expected error class and message, and leaves parameters and state bit-identical to
 * an untouched twin after one more step.
 */
const harnessPage = useHarnessPage();

interface Row {
  title: string;
  c: RejectCase;
  error: 'TypeError' | 'RangeError';
  message: RegExp;
}

const names = Object.keys(optimizerSpecs) as OptimizerName[];
const has = (name: OptimizerName, option: string) => option in optimizerSpecs[name].defaults;

function rows(name: OptimizerName): Row[] {
  const ctor = (options: unknown, error: Row['error'], message: RegExp, title: string): Row => ({
    title: `options: ${title}`,
    // LARS has no default lr: give it one, so the row tests what it says.
    c: {
      optimizer: name,
      at: 'constructor',
      options:
        name === 'LARS' && options && typeof options === 'object' && !Array.isArray(options)
          ? { lr: 0.1, ...options }
          : options,
    },
    error,
    message,
  });
  const out: Row[] = [
    ctor(
      { weight_decay: 0.01 },
      'TypeError',
      /unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/,
      'snake_case weight_decay',
    ),
    ctor({ lrr: 0.1 }, 'TypeError', /unknown option 'lrr' \(did you mean 'lr'\?\)/, 'typo lrr'),
    ctor(
      { learningRate: 0.1 },
      'TypeError',
      /unknown option 'learningRate'/,
      'foreign name learningRate',
    ),
    ctor({ lr: '0.1' }, 'RangeError', /lr must be >= 0, got string '0.1'/, 'lr as a string'),
    ctor({ lr: null }, 'RangeError', /lr must be >= 0, got null/, 'lr null'),
    ctor({ lr: -0.5 }, 'RangeError', /lr must be >= 0, got -0.5/, 'negative lr'),
    ctor(
      { weightDecay: -1 },
      'RangeError',
      /weightDecay must be >= 0, got -1/,
      'negative weightDecay',
    ),
    ctor(
      { skipNonFinite: 'yes' },
      'RangeError',
      /skipNonFinite must be a boolean, got string 'yes'/,
      'skipNonFinite as a string',
    ),
    ctor(null, 'TypeError', /options must be an object, got null/, 'null'),
    ctor([0.1], 'TypeError', /options must be an object, got array\(1\)/, 'an array'),
  ];
  if (has(name, 'maximize'))
    out.push(
      ctor(
        { maximize: 1 },
        'RangeError',
        /maximize must be a boolean, got 1/,
        'maximize as a number',
      ),
    );
  else
    out.push(
      ctor(
        { maximize: true },
        'TypeError',
        /unknown option 'maximize'/,
        'maximize (not an option)',
      ),
    );
  if (has(name, 'betas')) {
    out.push(
      ctor(
        { betas1: 0.9 },
        'TypeError',
        /unknown option 'betas1' \(did you mean 'betas'\?\)/,
        'typo betas1',
      ),
      ctor(
        { betas: [1, 0.999] },
        'RangeError',
        /betas\[0\] must be in \[0, 1\), got 1/,
        'betas[0] = 1',
      ),
      ctor(
        { betas: 0.9 },
        'RangeError',
        /betas must be a pair \[beta1, beta2\], got 0.9/,
        'betas a number',
      ),
    );
  }
  if (has(name, 'momentum'))
    out.push(
      ctor(
        { momentun: 0.9 },
        'TypeError',
        /unknown option 'momentun' \(did you mean 'momentum'\?\)/,
        'typo momentun',
      ),
    );
  if (has(name, 'amsgrad'))
    out.push(
      ctor(
        { amsGrad: true },
        'TypeError',
        /unknown option 'amsGrad' \(did you mean 'amsgrad'\?\)/,
        'amsGrad',
      ),
    );
  const eps = (optimizerSpecs[name].defaults as unknown as Record<string, unknown>).eps;
  if (Array.isArray(eps))
    out.push(
      ctor({ eps: [null, -1] }, 'RangeError', /eps\[1\] must be >= 0, got -1/, 'eps [null, -1]'),
    );
  else if (name === 'Muon')
    // torch.optim.Muon takes any eps >= 0
    out.push(ctor({ eps: -1 }, 'RangeError', /eps must be >= 0, got -1/, 'eps -1'));
  else if (has(name, 'eps'))
    out.push(ctor({ eps: 0 }, 'RangeError', /eps must be > 0, got 0/, 'eps 0'));
  out.push({
    title: 'param group: snake_case key',
    c: { optimizer: name, at: 'group', group: { weight_decay: 0.1 } },
    error: 'TypeError',
    message: new RegExp(
      `^${name}: param group 0: unknown option 'weight_decay' \\(did you mean 'weightDecay'\\?\\)`,
    ),
  });
  out.push({
    title: 'param group: negative lr',
    c: { optimizer: name, at: 'group', group: { lr: -2 } },
    error: 'RangeError',
    message: /lr must be >= 0, got -2/,
  });
  const params: Array<[ParamsKind, Row['error'], RegExp]> = [
    ['bare parameter', 'TypeError', /expected an array of Parameters .* got a Parameter/],
    ['Float32Array', 'TypeError', /element 0 is Float32Array\(4\) \[0, 0, 0, 0\]/],
    ['null', 'TypeError', /expected an array of Parameters .* got null/],
    ['string', 'TypeError', /got string 'w'/],
    ['empty', 'RangeError', /got an empty array/],
    ['empty group', 'RangeError', /param group 1 must have a non-empty params array/],
    ['group and parameter mixed', 'TypeError', /element 1 is a Parameter/],
    ['two engines', 'RangeError', /param\d+ and otherEngineParam belong to different engines/],
    ['disposed', 'Error', /disposedParam has been disposed/] as never,
  ];
  for (const [kind, error, message] of params) {
    out.push({
      title: `params: ${kind}`,
      c: { optimizer: name, at: 'params', params: kind },
      error,
      message,
    });
  }
  const steps: Array<[StepKind, Row['error'], RegExp]> = [
    [
      'closure',
      'TypeError',
      /step: the argument must be a GPUCommandEncoder or nothing, got function/,
    ],
    [
      'string',
      'TypeError',
      /step: the argument must be a GPUCommandEncoder or nothing, got string 'encoder'/,
    ],
    ['typo in a group', 'TypeError', /param group 0: unknown option 'lrr' \(did you mean 'lr'\?\)/],
    ['snake_case in a group', 'TypeError', /param group 0: unknown option 'weight_decay'/],
    ['negative lr in a group', 'RangeError', /lr must be >= 0, got -1/],
  ];
  for (const [kind, error, message] of steps) {
    out.push({
      title: `step: ${kind}`,
      c: { optimizer: name, at: 'step', step: kind },
      error,
      message,
    });
  }
  return out;
}

for (const name of names) {
  describe(name, () => {
    it.each(rows(name))('$title', async ({ c, error, message }) => {
      const r = await harnessPage().evaluate((c) => window.harness.rejectTrial(c), c);
      expect(r.error, 'the call must throw').toBeDefined();
      if ((error as string) !== 'Error') expect(r.error!.name).toBe(error);
      expect(r.error!.message).toMatch(message);
      expect(r.identical, r.detail).toBe(true);
    });
  });
}
