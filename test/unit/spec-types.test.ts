import { expect, it } from 'vitest';
import { defineSpec } from '../../src/optimizers/spec.ts';
import { optimizerSpecs } from '../../src/optimizers/registry.ts';

/**
 * A spec's field list and the keys its scalars() returns are one typed list: a missing key is a
 * compile error (checked by the tsc run of the static checks), not a NaN at run time.
 */
type O = { lr: number };
const base = {
  name: 'Typed',
  defaults: { lr: 1 },
  validate: () => {},
  variant: () => ({}),
  states: () => ({}),
  body: () => '',
  maximize: false,
  l2: false,
  reference: { name: 'Typed', init: () => ({ step: 0 }), step: () => {} },
  testOptions: [],
};
const complete = () => ({ a: 1, b: 2 });
const missing = () => ({ a: 1 });

it('scalars() must return every field (the fresh ones excepted)', () => {
  const ok = defineSpec<O>()({ ...base, fields: ['a', 'b'], scalars: complete });
  // @ts-expect-error: 'b' is a field, but scalars() does not return it
  const bad = defineSpec<O>()({ ...base, fields: ['a', 'b'], scalars: missing });
  const fresh = defineSpec<O>()({
    ...base,
    fields: ['a', 'b'],
    fresh: { b: 's' },
    scalars: missing,
  });
  expect([ok.fields, bad.fields, fresh.fields]).toEqual([
    ['a', 'b'],
    ['a', 'b'],
    ['a', 'b'],
  ]);
});

it('every registry spec returns exactly its fields at run time too', () => {
  for (const spec of Object.values(optimizerSpecs)) {
    const s = spec as unknown as {
      defaults: object;
      fields: readonly string[];
      fresh?: Record<string, string>;
      hostState?: Record<string, number>;
      scalars(o: object, state: object): Record<string, number>;
    };
    const keys = Object.keys(s.scalars(s.defaults, { step: 0, ...s.hostState })).sort();
    const want = s.fields.filter((f) => !(f in (s.fresh ?? {}))).sort();
    expect(keys, (spec as { name: string }).name).toEqual(want);
  }
});
