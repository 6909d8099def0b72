import { readTensors, validateStateDict, type StateDict } from './checkpoint.ts';
import { Optimizer } from './optimizer.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  type Tensor,
  type TensorInput,
} from './safetensors.ts';
import { checkKnownKeys, describe } from './validate.ts';

/**
 * Checkpoints as safetensors files (see safetensors.ts), laid out like torch's optimizer
 * state_dict so that `safetensors.torch.load_file` reads them:
 *
 *   state.<i>.<name>   tensor i's state in snake_case (`state.0.exp_avg`, `state.0.exp_avg_sq`),
 *                      F32 in the parameter's shape; `state.<i>.step` an F32 scalar (shape [],
 *                      as torch keeps it; F64 past 2^24, where F32 would round); scalar host state
 *                      such as `state.<i>.mu_product` F64, since the engine keeps it in float64
 *   params.<i>         with { params: true }, parameter i (F32, its shape or [length])
 *   __metadata__       format 'webgpu-optim.checkpoint', version '1', optimizer (the kind),
 *                      paramGroups (JSON: the groups as stateDict() gives them, camelCase option
 *                      names, params as indices), params ('true' | 'false')
 *
 * Tensors are numbered across groups in order, as in stateDict().
 */

const FORMAT = 'webgpu-optim.checkpoint';
const VERSION = '1';

export interface SaveCheckpointOptions {
  /** Also save the parameters' values (default false: optimizer state only, as torch's state_dict). */
  params?: boolean;
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function shapeOf(param: { length: number }): number[] {
  const shape = (param as { shape?: readonly number[] }).shape;
  return shape ? [...shape] : [param.length];
}

function checkOptimizer(what: string, opt: unknown): asserts opt is Optimizer<object> {
  if (!(opt instanceof Optimizer)) {
    throw new TypeError(`${what}: expected an optimizer, got ${describe(opt)}`);
  }
}

/** JSON that parses back to the same values: non-finite numbers and non-JSON values are refused. */
function exactJson(who: string, value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new RangeError(`${who}: option '${key}' is ${v}, which JSON cannot hold`);
    }
    if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
      throw new TypeError(`${who}: option '${key}' is ${describe(v)}, which JSON cannot hold`);
    }
    return v;
  });
}

/**
 * Saves the optimizer's state (and with { params: true } the parameters) as safetensors bytes.
 * The state is checked as loadCheckpoint will check it, so a saved file always loads: NaN state
 * (from NaN gradients without skipNonFinite) is refused here, not discovered at load time.
 */
export async function saveCheckpoint<O extends object>(
  opt: Optimizer<O>,
  options: SaveCheckpointOptions = {},
): Promise<Uint8Array> {
  checkOptimizer('saveCheckpoint', opt);
  const who = `${opt.spec.name}.saveCheckpoint`;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${who}: options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(who, options, ['params']);
  const withParams = options.params ?? false;
  if (typeof withParams !== 'boolean') {
    throw new TypeError(`${who}: params must be a boolean, got ${describe(withParams)}`);
  }
  const [sd, values] = await Promise.all([
    opt.stateDict(),
    withParams
      ? readTensors(
          opt.engine,
          opt.tensors.map((t) => ({ runs: t.param.paramRuns(), length: t.param.length })),
        )
      : Promise.resolve([]),
  ]);
  validateStateDict(opt, sd, who);
  const wide: Array<[string, TensorInput]> = []; // F64 first: keeps them 8-byte aligned
  const narrow: Array<[string, TensorInput]> = [];
  for (const [i, entry] of Object.entries(sd.state)) {
    const sizes = opt.stateSizes(Number(i));
    for (const [name, value] of Object.entries(entry)) {
      const key = `state.${i}.${snake(name)}`;
      if (value instanceof Float32Array)
        narrow.push([key, { shape: sizes.get(name)!.shape, data: value }]);
      else if (name === 'step' && Math.fround(value) === value)
        narrow.push([key, { shape: [], data: new Float32Array([value]) }]);
      else wide.push([key, { shape: [], data: new Float64Array([value]) }]);
    }
  }
  values.forEach((v, i) =>
    narrow.push([`params.${i}`, { shape: shapeOf(opt.tensors[i]!.param), data: v }]),
  );
  return encodeSafetensors([...wide, ...narrow], {
    format: FORMAT,
    version: VERSION,
    optimizer: sd.optimizer,
    paramGroups: exactJson(who, sd.paramGroups),
    params: String(withParams),
    ...(sd.trainMode === undefined ? {} : { trainMode: String(sd.trainMode) }),
  });
}

/**
 * Restores a saveCheckpoint() file: the state (through loadStateDict) and, if the file holds
 * them, the parameters. Everything is checked first (the file's structure, that it is a
 * checkpoint of this optimizer kind, every tensor's name, dtype and shape, the state's values);
 * on any error nothing has changed.
 */
export async function loadCheckpoint<O extends object>(
  opt: Optimizer<O>,
  bytes: Uint8Array | ArrayBuffer,
): Promise<void> {
  checkOptimizer('loadCheckpoint', opt);
  opt.checkLive();
  const name = opt.spec.name;
  const who = `${name}.loadCheckpoint`;
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(
      `${who}: expected the bytes of a file (a Uint8Array), got ${describe(bytes)}`,
    );
  }
  const file = decodeSafetensors(data);
  const meta = file.metadata;
  if (meta.format !== FORMAT) {
    throw new TypeError(
      `${who}: not a webgpu-optim checkpoint (its __metadata__ has no format '${FORMAT}'; metadata keys: ${Object.keys(meta).join(', ') || 'none'})`,
    );
  }
  if (meta.version !== VERSION) {
    throw new RangeError(
      `${who}: checkpoint version ${describe(meta.version)}, this engine reads version ${VERSION}`,
    );
  }
  if (meta.optimizer !== name) {
    throw new TypeError(
      `${who}: the checkpoint is from ${meta.optimizer ?? 'no named optimizer'}, not ${name}; the update rules and state differ, so it cannot be loaded`,
    );
  }
  let paramGroups: unknown;
  try {
    paramGroups = JSON.parse(meta.paramGroups ?? '');
  } catch (e) {
    throw new TypeError(
      `${who}: __metadata__.paramGroups is not valid JSON (${(e as Error).message})`,
    );
  }
  if (meta.params !== 'true' && meta.params !== 'false') {
    throw new TypeError(
      `${who}: __metadata__.params must be 'true' or 'false', got ${describe(meta.params)}`,
    );
  }

  const state: StateDict['state'] = {};
  const params = new Map<number, Float32Array>();
  const indexOf = (key: string, text: string) => {
    const i = Number(text);
    if (String(i) !== text || !opt.tensors[i]) {
      throw new RangeError(
        `${who}: tensor '${key}' is for parameter ${text}, but the optimizer has ${opt.tensors.length}`,
      );
    }
    return i;
  };
  const expectTensor = (key: string, t: Tensor, dtypes: string[], shape: number[]) => {
    if (!dtypes.includes(t.dtype)) {
      throw new TypeError(`${who}: tensor '${key}' is ${t.dtype}, expected ${dtypes.join(' or ')}`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
      throw new RangeError(
        `${who}: tensor '${key}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
  };
  for (const [key, t] of file.tensors) {
    const param = /^params\.(\d+)$/.exec(key);
    if (param) {
      const i = indexOf(key, param[1]!);
      expectTensor(key, t, ['F32'], shapeOf(opt.tensors[i]!.param));
      params.set(i, t.data as Float32Array);
      continue;
    }
    const match = /^state\.(\d+)\.([a-z][a-z0-9_]*)$/.exec(key);
    if (!match || snake(camel(match[2]!)) !== match[2]) {
      throw new TypeError(
        `${who}: unexpected tensor '${key}' (a checkpoint holds state.<i>.<snake_case name> and params.<i>)`,
      );
    }
    const i = indexOf(key, match[1]!);
    const field = camel(match[2]!);
    const scalar = field === 'step' || field in (opt.spec.hostState ?? {});
    if (scalar) expectTensor(key, t, ['F32', 'F64'], []);
    else {
      // A state's own shape (Adafactor's rowVar is [..., rows, 1]); an unknown name is reported
      // by validateStateDict below.
      const sizes = opt.stateSizes(i);
      expectTensor(key, t, ['F32'], sizes.get(field)?.shape ?? shapeOf(opt.tensors[i]!.param));
    }
    (state[i] ??= {})[field] = scalar ? t.data[0]! : (t.data as Float32Array);
  }
  const saved = meta.params === 'true';
  if (saved ? params.size !== opt.tensors.length : params.size !== 0) {
    const missing = opt.tensors.findIndex((_, i) => !params.has(i));
    throw new RangeError(
      saved
        ? `${who}: the checkpoint says it holds the parameters but has no 'params.${missing}'`
        : `${who}: the checkpoint says it holds no parameters but has ${params.size}`,
    );
  }
  const sd = { optimizer: name, state, paramGroups } as StateDict;
  if (meta.trainMode !== undefined) {
    if (meta.trainMode !== 'true' && meta.trainMode !== 'false')
      throw new TypeError(
        `${who}: __metadata__.trainMode must be 'true' or 'false', got ${describe(meta.trainMode)}`,
      );
    sd.trainMode = meta.trainMode === 'true';
  }
  validateStateDict(opt, sd, who);
  opt.loadStateDict(sd);
  for (const [i, values] of params) opt.tensors[i]!.param.write(values);
}
