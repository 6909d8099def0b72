/**
 * Checks of a scheduler state dict before it is loaded: a state dict is refused whole (a
 * TypeError or RangeError naming the key) or loaded whole, never assigned key by key.
 */
import { checkKnownKeys, describe } from '../validate';
import type { SchedulerStateDict, StateValue } from './scheduler';
import { atomically } from './write';
import { checkNonNegative, checkNonNegativeInt } from './options';
import type { Schedulable } from './scheduler';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `value` has the type and shape of `like` (the value the scheduler holds now):
 * the same primitive type, numbers finite where `like` is, arrays of elements like `like`'s
 * first one, objects with the same keys.
 */
function checkLike(where: string, path: string, like: unknown, value: unknown): void {
  function bad(rule: string): never {
    throw new TypeError(`${where}: '${path}' must be ${rule}, got ${describe(value)}`);
  }
  if (like === null) {
    if (value !== null) bad('null');
  } else if (typeof like === 'number') {
    if (typeof value !== 'number') bad('a number');
    if (Number.isFinite(like) && !Number.isFinite(value)) {
      throw new RangeError(`${where}: '${path}' must be a finite number, got ${value}`);
    }
  } else if (typeof like === 'string' || typeof like === 'boolean') {
    if (typeof value !== typeof like) bad(`a ${typeof like}`);
  } else if (Array.isArray(like)) {
    if (!Array.isArray(value)) bad('an array');
    if (like.length > 0) value.forEach((v, i) => checkLike(where, `${path}[${i}]`, like[0], v));
  } else if (isObject(like)) {
    if (!isObject(value)) bad('an object');
    const keys = Object.keys(like);
    if (Object.keys(value).length !== keys.length || !keys.every((k) => Object.hasOwn(value, k))) {
      bad(`an object with keys ${keys.join(', ')}`);
    }
    for (const k of keys) checkLike(where, `${path}.${k}`, like[k], value[k]);
  }
}

/**
 * Checks a state dict against the state the scheduler holds now (`current`): a plain object of
 * this `kind` (where it records one), no unknown and no missing key, every value like the
 * current one, the `perGroup` arrays with one entry per group. Returns a copy without `kind`.
 */
export function checkStateDict(
  where: string,
  kind: string,
  stateDict: unknown,
  current: SchedulerStateDict,
  perGroup: readonly string[],
): SchedulerStateDict {
  if (!isObject(stateDict)) {
    throw new TypeError(`${where}: expected a state dict object, got ${describe(stateDict)}`);
  }
  const { kind: got, ...sd } = stateDict;
  if (got !== undefined && got !== kind) {
    throw new TypeError(`${where}: the state dict is of a ${describe(got)}, not of a ${kind}`);
  }
  const keys = Object.keys(current).filter((k) => k !== 'kind');
  checkKnownKeys(where, sd, keys, 'key');
  for (const key of keys) {
    if (!Object.hasOwn(sd, key)) throw new TypeError(`${where}: missing key '${key}'`);
    checkLike(where, key, current[key], sd[key]);
  }
  for (const key of perGroup) {
    const [want, v] = [(current[key] as unknown[]).length, sd[key] as unknown[]];
    if (v.length !== want) {
      throw new RangeError(
        `${where}: '${key}' must have ${want} entries (one per param group), got ${v.length}`,
      );
    }
  }
  return structuredClone(sd) as SchedulerStateDict;
}

/**
 * Restores the shared part of a composite scheduler's state (ChainedScheduler, SequentialLR):
 * checks it, then loads each child from `sd.schedulers`; if a child refuses its state, the
 * children already loaded are put back. Returns lastEpoch and lastLr.
 */
export function loadChildStates(
  owner: string,
  stateDict: SchedulerStateDict,
  current: SchedulerStateDict,
  optimizer: Schedulable,
  children: ReadonlyArray<{
    stateDict(): SchedulerStateDict;
    loadStateDict(sd: SchedulerStateDict): void;
  }>,
): SchedulerStateDict {
  const where = `${owner}.loadStateDict`;
  // The children differ in kind: their states are checked by their own loadStateDict.
  const sd = checkStateDict(where, owner, stateDict, { ...current, schedulers: [] }, ['lastLr']);
  const states = sd.schedulers as StateValue[];
  if (states.length !== children.length) {
    throw new RangeError(
      `${where}: 'schedulers' must have ${children.length} entries, got ${states.length}`,
    );
  }
  checkNonNegativeInt(where, 'lastEpoch', sd.lastEpoch);
  (sd.lastLr as number[]).forEach((v, i) => checkNonNegative(where, `lastLr[${i}]`, v));
  atomically(optimizer, children, () =>
    children.forEach((s, i) => s.loadStateDict(states[i] as SchedulerStateDict)),
  );
  return sd;
}
