import type { Engine } from './engine.ts';
import { groupKeys, type Optimizer } from './optimizer.ts';
import type { Run } from './parameter.ts';
import { runWords, validateStorage } from './state-dtype.ts';
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

/**
 * stateDict({ raw: true }): as StateDict, but low-precision state (bfloat16, float16, 8-bit) as
 * the u32 words the GPU stores (src/state-dtype.ts has the formats), so loading it back into an
 * optimizer with the same stateDtype, min8bitSize and layout restores the state bit for bit.
 */
export interface RawStateDict extends Omit<StateDict, 'state'> {
  state: Record<number, Record<string, number | Float32Array | Uint32Array>>;
}

/** Second moments and other state that is >= 0 by construction (Adafactor's factored and full
 * variances too); a negative value is corrupt. */
const NON_NEGATIVE = new Set([
  'expAvgSq',
  'maxExpAvgSq',
  'sum',
  'squareAvg',
  'accDelta',
  'expInf',
  'rowVar',
  'colVar',
  'variance',
]);

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
export async function readStateDict<O extends object>(
  opt: Optimizer<O>,
  raw = false,
): Promise<RawStateDict> {
  await opt.settle();
  const state: RawStateDict['state'] = {};
  const reads: Array<{ i: number; name: string } & ReturnType<Optimizer<O>['stateRead']>> = [];
  opt.tensors.forEach((_, i) => {
    const now = opt.tensorState(i);
    state[i] = { ...now.host };
    for (const name of now.touched) reads.push({ i, name, ...opt.stateRead(i, name) });
  });
  let index = 0;
  const paramGroups = opt.paramGroups.map((g) => {
    const { params, ...options } = g as typeof g & Record<string, unknown>;
    return { ...structuredClone(options), params: params.map(() => index++) };
  });
  const values = await readTensors(opt.engine, reads);
  reads.forEach((r, k) => (state[r.i]![r.name] = storedValue(r, values[k]!, raw, opt, r.i)));
  const sd: RawStateDict = { optimizer: opt.spec.name, state, paramGroups };
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
  const reads = names.map((name) => opt.stateRead(i, name));
  const values = await readTensors(opt.engine, reads);
  const entry: StateDict['state'][number] = { ...now.host };
  names.forEach((name, k) => (entry[name] = reads[k]!.decode(values[k]!)));
  return entry;
}

/**
 * A state buffer as a dict holds it: float32 values (decoded), or with `raw` the stored u32
 * words of low-precision state (float32 state stays a Float32Array).
 */
function storedValue<O extends object>(
  r: { name: string; decode(raw: Float32Array): Float32Array },
  words: Float32Array,
  raw: boolean,
  opt: Optimizer<O>,
  i: number,
): Float32Array | Uint32Array {
  if (!raw || opt.storageOf(i, r.name) === 'f32') return r.decode(words);
  return new Uint32Array(words.buffer, words.byteOffset, words.length).slice();
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
 * Checks raw state words (stateDict({ raw: true })) against how the loading optimizer stores
 * that state: the same stateDtype and min8bitSize in the dict's group, low-precision storage,
 * and the word count of the tensor's layout. Words are never reinterpreted as another format.
 */
function rawWords<O extends object>(
  opt: Optimizer<O>,
  who: string,
  i: number,
  field: string,
  value: Uint32Array,
  saved: Record<string, unknown>,
): Uint32Array {
  const t = opt.tensors[i]!;
  const live = opt.paramGroups[t.group]! as unknown as Record<string, unknown>;
  const storage = opt.storageOf(i, field, true);
  for (const key of ['stateDtype', 'min8bitSize']) {
    if (saved[key] !== live[key]) {
      throw new RangeError(
        `${who}: raw state '${field}' of parameter ${i} was saved with ${key} ${describe(saved[key])}, but group ${t.group} uses ${describe(live[key])}; raw words load only into the same format (load a stateDict() without raw to convert)`,
      );
    }
  }
  if (storage === 'f32') {
    throw new RangeError(
      `${who}: state '${field}' of parameter ${i} is float32 here; raw u32 words are for low-precision state`,
    );
  }
  const words = t.param.extents.reduce((n, e) => n + runWords(storage, e.length), 0);
  if (value.length !== words) {
    throw new RangeError(
      `${who}: raw state '${field}' of parameter ${i} has ${value.length} words, its ${storage} layout here has ${words} (the same layout needs the same tensors and engine pages)`,
    );
  }
  return value;
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
  sd: StateDict | RawStateDict,
  who = `${opt.spec.name}.loadStateDict`,
): { groups: O[]; entries: RawStateDict['state'] } {
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
    validateStorage(`${who}: group ${i}`, options, opt.spec.program !== undefined);
    return options as O;
  });
  const entries: RawStateDict['state'] = {};
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
    const out: Record<string, number | Float32Array | Uint32Array> = { step };
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
      if (value instanceof Uint32Array) {
        out[field] = rawWords(opt, who, i, field, value, sd.paramGroups[t.group]!);
        continue;
      }
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
