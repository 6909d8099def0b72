/**
 * Scheduler options at the boundary. Each scheduler declares its options once, as a table of
 * parsers (`OptionSpec`); `parseOptions` checks the optimizer and the options object, refuses
 * unknown names (suggesting the nearest valid one, snake_case included) and runs every parser,
 * so the names a scheduler accepts are exactly the ones its constructor reads. A value of the
 * wrong type throws a TypeError, a value out of range a RangeError; both name the scheduler,
 * the option and the value.
 */
import { checkKnownKeys, describe } from '../validate';

/** How a value is shown in a message: strings quoted, short arrays listed, the rest described. */
function show(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? describe(value) : `'${value}'`;
  if (Array.isArray(value) && value.length <= 8) return `[${value.map(show).join(', ')}]`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describe(value);
}

/** Throws a RangeError: the value has the right type but is out of range. */
export function fail(owner: string, name: string, rule: string, value: unknown): never {
  throw new RangeError(`${owner}: ${name} must be ${rule}, got ${show(value)}`);
}

/** Throws a TypeError: the value is not of the type the option needs. */
export function failType(owner: string, name: string, rule: string, value: unknown): never {
  throw new TypeError(`${owner}: ${name} must be ${rule}, got ${show(value)}`);
}

/** A check of one value; returns it (typed) or throws. */
export type Check<T> = (owner: string, name: string, v: unknown) => T;

/** A number check: TypeError unless a number, RangeError unless `ok`. */
function numberCheck(rule: string, ok: (v: number) => boolean): Check<number> {
  return (owner, name, v) => {
    if (typeof v !== 'number') failType(owner, name, rule, v);
    if (!ok(v)) fail(owner, name, rule, v);
    return v;
  };
}

export const checkPositiveInt = numberCheck(
  'a positive integer',
  (v) => Number.isInteger(v) && v > 0,
);
export const checkNonNegativeInt = numberCheck(
  'a non-negative integer',
  (v) => Number.isInteger(v) && v >= 0,
);
export const checkNonNegative = numberCheck(
  'a finite number >= 0',
  (v) => Number.isFinite(v) && v >= 0,
);
export const checkPositive = numberCheck('a finite number > 0', (v) => Number.isFinite(v) && v > 0);
export const checkFinite = numberCheck('a finite number', Number.isFinite);
/** PyTorch's `last_epoch`: -1 starts afresh, e >= 0 resumes. */
export const checkLastEpoch = numberCheck(
  'an integer >= -1',
  (v) => Number.isInteger(v) && v >= -1,
);

/** A finite number with lo < v <= hi (or lo <= v when loClosed), e.g. LinearLR's startFactor. */
export function interval(lo: number, hi: number, loClosed = false): Check<number> {
  return numberCheck(
    `in ${loClosed ? '[' : '('}${lo}, ${hi}]`,
    (v) => Number.isFinite(v) && v <= hi && (loClosed ? v >= lo : v > lo),
  );
}

export const checkBoolean: Check<boolean> = (owner, name, v) => {
  if (typeof v !== 'boolean') failType(owner, name, 'a boolean', v);
  return v;
};

/** One of a few strings, e.g. `oneOf('cos', 'linear')`. */
export function oneOf<T extends string>(...values: T[]): Check<T> {
  const rule = values.map((s) => `'${s}'`).join(' or ');
  return (owner, name, v) => {
    if (typeof v !== 'string') failType(owner, name, rule, v);
    if (!values.includes(v as T)) fail(owner, name, rule, v);
    return v as T;
  };
}

/** A number for every group, or one per group (PyTorch's `_format_param`). */
export function perGroup(
  owner: string,
  name: string,
  v: unknown,
  groups: number,
  check: Check<number>,
): number[] {
  if (!Array.isArray(v)) return new Array<number>(groups).fill(check(owner, name, v));
  if (v.length !== groups) fail(owner, name, `a number or ${groups} numbers (one per group)`, v);
  return v.map((x, i) => check(owner, `${name}[${i}]`, x));
}

// ---- option declarations ----

/** Reads one option from its raw value (undefined when absent), knowing the number of groups. */
export type OptionParser<T> = (owner: string, key: string, value: unknown, groups: number) => T;
/** A scheduler's options: every name it accepts, with how to read it. */
export type OptionSpec = Record<string, OptionParser<unknown>>;
export type ParsedOptions<S extends OptionSpec> = { [K in keyof S]: ReturnType<S[K]> };

/** An option without a default: absent is a TypeError, as a missing argument in Python. */
export function required<T>(check: Check<T>): OptionParser<T> {
  return (owner, key, v) => {
    if (v === undefined) throw new TypeError(`${owner}: option '${key}' is required`);
    return check(owner, key, v);
  };
}

/** An option with a default (absent or undefined means the default). */
export function optional<T>(check: Check<T>, fallback: T): OptionParser<T> {
  return (owner, key, v) => (v === undefined ? fallback : check(owner, key, v));
}

/** An option that may stay absent (e.g. OneCycleLR's `epochs` when `totalSteps` is given). */
export function maybe<T>(check: Check<T>): OptionParser<T | undefined> {
  return (owner, key, v) => (v === undefined ? undefined : check(owner, key, v));
}

/** A number or one number per group; absent means `fallback` (required when none). */
export function perGroupOption(check: Check<number>, fallback?: number): OptionParser<number[]> {
  return (owner, key, v, groups) => {
    if (v === undefined && fallback === undefined) {
      throw new TypeError(`${owner}: option '${key}' is required`);
    }
    return perGroup(owner, key, v ?? fallback, groups, check);
  };
}

/** `lastEpoch`, which every LRScheduler accepts. */
export const lastEpochOption = optional(checkLastEpoch, -1);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `optimizer` has param groups whose lr (and initialLr, where set) a scheduler can
 * read, that `options` is an object with only the names of `spec`, and reads every option.
 * Nothing is written anywhere.
 */
export function parseOptions<S extends OptionSpec>(
  owner: string,
  optimizer: unknown,
  options: unknown,
  spec: S,
): ParsedOptions<S> {
  checkSchedulable(owner, optimizer);
  if (options === undefined) options = {};
  if (!isObject(options)) {
    throw new TypeError(`${owner}: options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(owner, options, Object.keys(spec));
  const groups = optimizer.paramGroups.length;
  const out: Record<string, unknown> = {};
  for (const [key, parse] of Object.entries(spec)) {
    out[key] = parse(owner, key, options[key], groups);
  }
  return out as ParsedOptions<S>;
}

/** An optimizer (or any object) with a non-empty array of param groups with a valid lr. */
export function checkSchedulable(
  owner: string,
  optimizer: unknown,
): asserts optimizer is { paramGroups: Record<string, unknown>[] } {
  const groups = isObject(optimizer) ? optimizer.paramGroups : undefined;
  if (!Array.isArray(groups) || groups.length === 0 || !groups.every(isObject)) {
    throw new TypeError(
      `${owner}: expected an optimizer with a non-empty array of paramGroups, got ${describe(optimizer)}`,
    );
  }
  groups.forEach((g, i) => {
    checkNonNegative(owner, `paramGroups[${i}].lr`, g.lr);
    if (g.initialLr !== undefined)
      checkNonNegative(owner, `paramGroups[${i}].initialLr`, g.initialLr);
  });
}
