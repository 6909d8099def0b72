import type { Engine } from './engine.ts';
import type { OptimizerSpec } from './optimizers/spec.ts';
import { Parameter } from './parameter.ts';
import { STORAGE_KEYS, validateStorage, type StorageOptions } from './state-dtype.ts';
import { checkKnownKeys, describe } from './validate.ts';

/** A param group as passed in: its parameters plus any options overriding the defaults. */
export type ParamGroupInput<O> = { params: Parameter[] } & Partial<O> & Partial<StorageOptions>;
/**
 * A live param group: every option resolved; edit fields between steps (no recompilation).
 * The generic storage options (stateDtype, min8bitSize) are fixed once the group has state.
 */
export type ParamGroup<O> = O & StorageOptions & { params: Parameter[] };

/**
 * Keys a param group may hold: the spec's options, the generic storage options, `params`, and
 * the schedulers' `initialLr`.
 */
export function groupKeys(spec: { readonly defaults: object }): string[] {
  return [...Object.keys(spec.defaults), ...STORAGE_KEYS, 'params', 'initialLr'];
}

/** Normalizes `params` (a list of Parameters, or of param groups) with a clear error otherwise. */
export function paramGroupInputs<O>(name: string, params: unknown): ParamGroupInput<O>[] {
  const expected = `expected an array of Parameters (from engine.parameter()) or of param groups { params: [...] }`;
  if (!Array.isArray(params)) throw new TypeError(`${name}: ${expected}, got ${describe(params)}`);
  if (params.length === 0) throw new RangeError(`${name}: ${expected}, got an empty array`);
  const groups = params.every((p) => p instanceof Parameter)
    ? [{ params }]
    : params.map((g, i) => {
        if (g === null || typeof g !== 'object' || g instanceof Parameter || !('params' in g)) {
          throw new TypeError(`${name}: ${expected}; element ${i} is ${describe(g)}`);
        }
        return g as { params: unknown };
      });
  groups.forEach((g, i) => {
    if (!Array.isArray(g.params) || g.params.length === 0) {
      throw new RangeError(
        `${name}: param group ${i} must have a non-empty params array, got ${describe(g.params)}`,
      );
    }
  });
  return groups as ParamGroupInput<O>[];
}

/** The options given, without `params` and without keys set to undefined. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'params') out[k] = v;
  return out as Partial<T>;
}

/**
 * Resolves `inputs` over `defaults` into live groups (numbered from `firstIndex`) and checks
 * them: known option names, the spec's value rules, and parameters that are Parameters, alive,
 * of one engine (`engine`, whose parameter `anchor` names it, when adding to an optimizer) and
 * in no group twice, nor in `taken`. Throws before anything changes.
 */
export function resolveGroups<O extends object>(
  spec: OptimizerSpec<O>,
  defaults: O,
  inputs: ParamGroupInput<O>[],
  firstIndex = 0,
  taken: ReadonlySet<Parameter> = new Set(),
  existing?: { engine: Engine; anchor: string },
): { groups: ParamGroup<O>[]; params: Parameter[]; engine: Engine } {
  const name = spec.name;
  const groups = inputs.map(
    (g) => ({ ...defaults, ...definedOnly(g), params: [...g.params] }) as ParamGroup<O>,
  );
  const seen = new Set<Parameter>();
  groups.forEach((g, k) => {
    const i = firstIndex + k;
    checkKnownKeys(`${name}: param group ${i}`, g, groupKeys(spec), 'option');
    spec.validate(g);
    validateStorage(`${name}: param group ${i}`, g, spec.program !== undefined);
    g.params.forEach((p, j) => {
      if (!(p instanceof Parameter)) {
        throw new TypeError(
          `${name}: param group ${i} params[${j}] must be a Parameter (from engine.parameter()), got ${describe(p)}`,
        );
      }
      if (seen.has(p) || taken.has(p))
        throw new RangeError(`${name}: ${p.label} appears in more than one param group`);
      seen.add(p);
      p.checkLive();
    });
  });
  const params = [...seen];
  const anchor = existing ?? { engine: params[0]!.engine, anchor: params[0]!.label };
  for (const p of params) {
    if (p.engine !== anchor.engine) {
      throw new RangeError(
        `${name}: ${anchor.anchor} and ${p.label} belong to different engines; an optimizer steps the parameters of one engine (one GPU device)`,
      );
    }
  }
  return { groups, params, engine: anchor.engine };
}

/** Whether `x` is a GPUCommandEncoder (duck-typed where the global does not exist). */
export function isCommandEncoder(x: unknown): x is GPUCommandEncoder {
  if (typeof GPUCommandEncoder !== 'undefined' && x instanceof GPUCommandEncoder) return true;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as GPUCommandEncoder).beginComputePass === 'function' &&
    typeof (x as GPUCommandEncoder).finish === 'function'
  );
}
