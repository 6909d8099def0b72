import type { Optimizer } from './optimizer.ts';

/**
 * Checkpoints in the shape of PyTorch's Optimizer.state_dict(), names in camelCase: per-parameter
 * state numbered across groups (`step`, scalar state such as `muProduct`, and the state buffers
 * some step has written) and the param groups with `params` as indices.
 */
export interface StateDict {
  state: Record<number, Record<string, number | Float32Array>>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** Reads every tensor's state back from the GPU. */
export async function readStateDict<O extends object>(opt: Optimizer<O>): Promise<StateDict> {
  await opt.settle();
  const state: StateDict['state'] = {};
  await Promise.all(
    opt.tensors.map(async (t, i) => {
      const now = opt.stateOf(i);
      const entry: Record<string, number | Float32Array> = { ...now.host };
      for (const name of now.touched)
        entry[name] = await opt.engine.readRuns(opt.stateRuns(i, name), t.param.length);
      state[i] = entry;
    }),
  );
  let index = 0;
  const paramGroups = opt.paramGroups.map((g) => {
    const { params, ...options } = g as typeof g & Record<string, unknown>;
    return { ...structuredClone(options), params: params.map(() => index++) };
  });
  return { state, paramGroups };
}

/**
 * Checks a dict against the optimizer (group count and sizes, option values, state names of this
 * optimizer kind, buffer lengths) and returns the resolved groups; throws before anything changes.
 */
export function validateStateDict<O extends object>(
  opt: Optimizer<O>,
  sd: StateDict,
): { groups: O[]; entries: StateDict['state'] } {
  const name = opt.spec.name;
  if (
    !sd ||
    typeof sd !== 'object' ||
    !Array.isArray(sd.paramGroups) ||
    typeof sd.state !== 'object'
  ) {
    throw new TypeError(`${name}.loadStateDict: expected { state, paramGroups }`);
  }
  if (sd.paramGroups.length !== opt.paramGroups.length) {
    throw new RangeError(
      `${name}.loadStateDict: ${sd.paramGroups.length} param groups, expected ${opt.paramGroups.length}`,
    );
  }
  const groups = sd.paramGroups.map((g, i) => {
    const { params, ...options } = g;
    const expected = opt.paramGroups[i]!.params.length;
    if (!Array.isArray(params) || params.length !== expected) {
      throw new RangeError(
        `${name}.loadStateDict: group ${i} has ${params?.length} params, expected ${expected}`,
      );
    }
    const resolved = { ...opt.defaults, ...options } as O;
    opt.spec.validate(resolved);
    return resolved;
  });
  for (const [key, entry] of Object.entries(sd.state)) {
    const i = Number(key);
    const t = opt.tensors[i];
    if (!t)
      throw new RangeError(
        `${name}.loadStateDict: state for parameter ${key}, which does not exist`,
      );
    const allowed = new Set([
      'step',
      ...Object.keys(opt.spec.hostState ?? {}),
      ...Object.keys(opt.spec.states(groups[t.group]!)),
    ]);
    for (const [field, value] of Object.entries(entry)) {
      if (!allowed.has(field)) {
        throw new RangeError(
          `${name}.loadStateDict: parameter ${i} has state '${field}', which ${name} does not use`,
        );
      }
      const buffer = value instanceof Float32Array;
      if (buffer ? value.length !== t.param.length : typeof value !== 'number') {
        const want = buffer ? `a Float32Array of length ${t.param.length}` : 'a number';
        throw new RangeError(
          `${name}.loadStateDict: state '${field}' of parameter ${i} must be ${want}`,
        );
      }
    }
  }
  return { groups, entries: sd.state };
}
