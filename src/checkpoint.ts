import type { Engine } from './engine.ts';
import { groupKeys, type Optimizer } from './optimizer.ts';
import type { Run } from './parameter.ts';
import { checkKnownKeys, describe } from './validate.ts';

/**
 * Checkpoints in the shape of PyTorch's Optimizer.state_dict(), names in camelCase: the optimizer
 * kind, per-parameter state numbered across groups (`step`, scalar state such as `muProduct`,
 * and the state buffers some step has written) and the param groups with `params` as indices.
 */
export interface StateDict {
  /** The optimizer kind that wrote the dict ('AdamW'); loading into another kind is refused. */
  optimizer: string;
  /**
   * Schedule-free optimizers only (torch keeps it as group['train_mode']): whether the
   * parameters held y (train mode) or x (eval mode) when the dict was taken. Loading restores the
   * mode, so a checkpoint saved after eval() continues from x as it should.
   */
  trainMode?: boolean;
  state: Record<number, Record<string, number | Float32Array>>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** Second moments and other state that is >= 0 by construction; a negative value is corrupt. */
const NON_NEGATIVE = new Set(['expAvgSq', 'maxExpAvgSq', 'sum', 'squareAvg', 'accDelta', 'expInf']);

/**
 * Reads `tensors` (each a list of runs and a length) with one staging copy per GPU buffer they
 * live in, then slices each tensor out on the host: many small tensors share a few buffers, and
 * one readback per tensor made stateDict() of 10,000 tensors take seconds.
 */
export async function readTensors(
  engine: Engine,
  tensors: ReadonlyArray<{ runs: Run[]; length: number }>,
): Promise<Float32Array[]> {
  const out = tensors.map((t) => new Float32Array(t.length));
  const byBuffer = new Map<GPUBuffer, { lo: number; hi: number; parts: [number, Run][] }>();
  tensors.forEach((t, k) => {
    for (const r of t.runs) {
      if (r.length === 0) continue;
      let span = byBuffer.get(r.buffer);
      if (!span) byBuffer.set(r.buffer, (span = { lo: r.offset, hi: r.offset, parts: [] }));
      span.lo = Math.min(span.lo, r.offset);
      span.hi = Math.max(span.hi, r.offset + r.length);
      span.parts.push([k, r]);
    }
  });
  await Promise.all(
    [...byBuffer].map(async ([buffer, { lo, hi, parts }]) => {
      const data = await engine.readRuns(
        [{ buffer, offset: lo, length: hi - lo, start: 0 }],
        hi - lo,
      );
      for (const [k, r] of parts) {
        out[k]!.set(data.subarray(r.offset - lo, r.offset - lo + r.length), r.start);
      }
    }),
  );
  return out;
}

/** Reads every tensor's state back from the GPU (one readback per state buffer). */
export async function readStateDict<O extends object>(opt: Optimizer<O>): Promise<StateDict> {
  await opt.settle();
  const state: StateDict['state'] = {};
  const reads: Array<{ i: number; name: string; runs: Run[]; length: number }> = [];
  opt.tensors.forEach((_, i) => {
    const now = opt.tensorState(i);
    const sizes = opt.stateSizes(i);
    state[i] = { ...now.host };
    for (const name of now.touched)
      reads.push({ i, name, runs: opt.stateRuns(i, name), length: sizes.get(name)!.length });
  });
  let index = 0;
  const paramGroups = opt.paramGroups.map((g) => {
    const { params, ...options } = g as typeof g & Record<string, unknown>;
    return { ...structuredClone(options), params: params.map(() => index++) };
  });
  const values = await readTensors(opt.engine, reads);
  reads.forEach((r, k) => (state[r.i]![r.name] = values[k]!));
  const sd: StateDict = { optimizer: opt.spec.name, state, paramGroups };
  if (opt.spec.modes) sd.trainMode = opt.training;
  return sd;
}

/** One tensor's entry of stateDict().state (step, scalars, state buffers), read from the GPU. */
export async function readTensorState<O extends object>(
  opt: Optimizer<O>,
  i: number,
): Promise<StateDict['state'][number]> {
  await opt.settle();
  const now = opt.tensorState(i);
  const names = [...now.touched];
  const sizes = opt.stateSizes(i);
  const values = await readTensors(
    opt.engine,
    names.map((name) => ({ runs: opt.stateRuns(i, name), length: sizes.get(name)!.length })),
  );
  const entry: StateDict['state'][number] = { ...now.host };
  names.forEach((name, k) => (entry[name] = values[k]!));
  return entry;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A state buffer as given: a Float32Array, a plain number array, or the index object
 * ({"0": .., "1": ..}) that JSON.stringify makes of a Float32Array. Undefined if none fits.
 */
function asFloat32(value: unknown, length: number): Float32Array | undefined {
  if (value instanceof Float32Array) return value.length === length ? value : undefined;
  if (Array.isArray(value)) {
    if (value.length !== length || !value.every((v) => typeof v === 'number')) return undefined;
    return Float32Array.from(value as number[]);
  }
  if (!isObject(value) || ArrayBuffer.isView(value)) return undefined; // no silent rounding
  const keys = Object.keys(value);
  if (keys.length !== length) return undefined;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v = value[i];
    if (typeof v !== 'number') return undefined;
    out[i] = v;
  }
  return out;
}

/**
 * Checks a dict against the optimizer and returns the groups and the state entries, buffers as
 * Float32Arrays; throws before anything changes. Checked: the optimizer kind, the group count,
 * each group's params numbering and its complete set of known options and their values, the
 * state of each parameter (an integer step >= 0, only state names this kind keeps with these
 * options, every buffer present once a step ran, lengths, finite values, second moments >= 0).
 */
export function validateStateDict<O extends object>(
  opt: Optimizer<O>,
  sd: StateDict,
  who = `${opt.spec.name}.loadStateDict`,
): { groups: O[]; entries: StateDict['state'] } {
  const name = opt.spec.name;
  if (!isObject(sd) || !Array.isArray(sd.paramGroups) || !isObject(sd.state)) {
    throw new TypeError(
      `${who}: expected { optimizer, state, paramGroups } as stateDict() returns, got ${describe(sd)}`,
    );
  }
  const modes = opt.spec.modes !== undefined;
  checkKnownKeys(
    who,
    sd,
    ['optimizer', 'state', 'paramGroups', ...(modes ? ['trainMode'] : [])],
    'field',
  );
  if (modes && typeof sd.trainMode !== 'boolean') {
    throw new TypeError(
      `${who}: a ${name} dict says whether the parameters hold y or x: trainMode must be true or false, got ${describe(sd.trainMode)}`,
    );
  }
  if (sd.optimizer === undefined) {
    throw new TypeError(
      `${who}: the dict does not say which optimizer wrote it (its 'optimizer' field is missing; stateDict() of ${name} writes optimizer: '${name}')`,
    );
  }
  if (sd.optimizer !== name) {
    const from = typeof sd.optimizer === 'string' ? sd.optimizer : describe(sd.optimizer);
    throw new TypeError(
      `${who}: the dict is from ${from}, not ${name}; the update rules and state differ, so it cannot be loaded`,
    );
  }
  if (sd.paramGroups.length !== opt.paramGroups.length) {
    throw new RangeError(
      `${who}: ${sd.paramGroups.length} param groups, expected ${opt.paramGroups.length}`,
    );
  }
  let index = 0;
  const groups = sd.paramGroups.map((g, i) => {
    if (!isObject(g))
      throw new TypeError(`${who}: group ${i} must be an object, got ${describe(g)}`);
    const { params, ...options } = g;
    const count = opt.paramGroups[i]!.params.length;
    const expected = Array.from({ length: count }, () => index++);
    if (!Array.isArray(params) || params.length !== count) {
      throw new RangeError(
        `${who}: group ${i} has ${Array.isArray(params) ? params.length : describe(params)} params, expected ${count}`,
      );
    }
    if (!params.every((p, k) => p === expected[k])) {
      throw new RangeError(
        `${who}: group ${i} has params [${params.join(', ')}], expected [${expected.join(', ')}] (numbered across groups, as stateDict() writes them)`,
      );
    }
    checkKnownKeys(`${who}: group ${i}`, g, groupKeys(opt.spec));
    for (const key of Object.keys(opt.spec.defaults)) {
      if (!(key in options)) {
        throw new TypeError(
          `${who}: group ${i} has no option '${key}' (a stateDict() group holds every option; none is reset to a default)`,
        );
      }
    }
    opt.spec.validate(options as O);
    return options as O;
  });
  const entries: StateDict['state'] = {};
  for (const [key, entry] of Object.entries(sd.state)) {
    const i = Number(key);
    const t = Number.isInteger(i) && String(i) === key ? opt.tensors[i] : undefined;
    if (!t) throw new RangeError(`${who}: state for parameter ${key}, which does not exist`);
    if (!isObject(entry)) {
      throw new TypeError(
        `${who}: state of parameter ${i} must be an object, got ${describe(entry)}`,
      );
    }
    const step = entry.step;
    if (step === undefined) throw new RangeError(`${who}: state of parameter ${i} has no 'step'`);
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(
        `${who}: step of parameter ${i} must be a non-negative integer, got ${describe(step)}`,
      );
    }
    const host = Object.keys(opt.spec.hostState ?? {});
    const sizes = opt.stateSizes(i, groups[t.group]!);
    const buffers = [...sizes.keys()];
    const keeps = `${name} keeps ${['step', ...host, ...buffers].join(', ')} with group ${t.group}'s options`;
    const out: Record<string, number | Float32Array> = { step };
    for (const [field, value] of Object.entries(entry)) {
      if (field === 'step') continue;
      if (host.includes(field)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new RangeError(
            `${who}: state '${field}' of parameter ${i} must be a finite number, got ${describe(value)}`,
          );
        }
        out[field] = value;
        continue;
      }
      if (!buffers.includes(field)) {
        throw new RangeError(
          `${who}: parameter ${i} has state '${field}', which ${name} does not use (${keeps})`,
        );
      }
      const length = sizes.get(field)!.length;
      const data = asFloat32(value, length);
      if (!data) {
        throw new RangeError(
          `${who}: state '${field}' of parameter ${i} must be a Float32Array of length ${length} (or a number array, or the index object JSON.stringify makes of one), got ${describe(value)}`,
        );
      }
      const bad = NON_NEGATIVE.has(field)
        ? data.findIndex((v) => !Number.isFinite(v) || v < 0)
        : data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        const rule = NON_NEGATIVE.has(field) ? 'finite and >= 0' : 'finite';
        throw new RangeError(
          `${who}: state '${field}' of parameter ${i} must be ${rule}, got ${data[bad]} at index ${bad}`,
        );
      }
      out[field] = data;
    }
    if (step > 0) {
      for (const field of [...host, ...buffers]) {
        if (!(field in out)) {
          throw new RangeError(
            `${who}: parameter ${i} is at step ${step} but has no state '${field}' (${keeps}; a missing state is never reset to its initial value)`,
          );
        }
      }
    }
    entries[i] = out;
  }
  return { groups, entries };
}
