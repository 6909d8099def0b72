import { packParameters } from './arena.ts';
import type { Engine } from './engine.ts';
import { DisposedError } from './errors.ts';
import { Launcher, type KernelVariant } from './launcher.ts';
import type { Parameter, Run } from './parameter.ts';
import { planStep, type Plan } from './plan.ts';
import type { HostState, OptimizerSpec } from './optimizers/spec.ts';
import { zeroRuns } from './transfer.ts';

/** A param group as passed in: its parameters plus any options overriding the defaults. */
export type ParamGroupInput<O> = { params: Parameter[] } & Partial<O>;
/** A live param group: every option resolved; edit fields between steps (no recompilation). */
export type ParamGroup<O> = O & { params: Parameter[] };

/** PyTorch-shaped checkpoint: per-parameter state (numbered across groups) and the groups. */
export interface StateDict {
  state: Record<number, Record<string, number | Float32Array>>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

interface TensorRecord {
  param: Parameter;
  group: number;
  host: HostState;
  /** State buffers some step has written (the others hold their initial values). */
  touched: Set<string>;
}

/**
 * The engine side of every optimizer: param groups, validation, state buffers, and a step that
 * encodes one dispatch per page and kernel variant. Subclasses only name their spec.
 */
export class Optimizer<O extends object> {
  readonly paramGroups: ParamGroup<O>[];
  readonly defaults: O;
  readonly engine: Engine;
  private readonly tensors: TensorRecord[];
  private readonly label: string;
  private plan: Plan | undefined;
  private launcher: Launcher | undefined;
  private variantKeys: string[] = [];
  /** State buffers by name, one per plan segment; allocated when first needed. */
  private readonly stateBuffers = new Map<string, GPUBuffer[]>();
  private rows: Float32Array<ArrayBuffer>;
  private disposed = false;

  constructor(
    protected readonly spec: OptimizerSpec<O>,
    params: Parameter[] | ParamGroupInput<O>[],
    options: Partial<O> = {},
  ) {
    const name = spec.name;
    this.defaults = { ...spec.defaults, ...definedOnly(options) };
    const inputs: ParamGroupInput<O>[] =
      params.length > 0 && !('params' in (params[0] as object))
        ? [{ params: params as Parameter[] } as ParamGroupInput<O>]
        : (params as ParamGroupInput<O>[]);
    if (
      inputs.length === 0 ||
      inputs.some((g) => !Array.isArray(g.params) || g.params.length === 0)
    ) {
      throw new RangeError(
        `${name}: expected a non-empty list of parameters or of param groups with non-empty params`,
      );
    }
    this.paramGroups = inputs.map(
      (g) => ({ ...this.defaults, ...definedOnly(g), params: [...g.params] }) as ParamGroup<O>,
    );
    const seen = new Set<Parameter>();
    for (const g of this.paramGroups) {
      spec.validate(g);
      for (const p of g.params) {
        if (seen.has(p))
          throw new RangeError(`${name}: ${p.label} appears in more than one param group`);
        seen.add(p);
        p.checkLive();
      }
    }
    this.engine = this.paramGroups[0]!.params[0]!.engine;
    this.label = name.toLowerCase();
    this.tensors = this.paramGroups.flatMap((g, group) =>
      g.params.map((param) => ({
        param,
        group,
        host: { step: 0, ...spec.hostState },
        touched: new Set<string>(),
      })),
    );
    this.rows = new Float32Array(this.tensors.length * spec.fields.length);
    packParameters(this.engine, [...seen], this.label);
  }

  private checkLive(): void {
    if (this.disposed)
      throw new DisposedError(`${this.spec.name}: the optimizer has been disposed`);
    for (const t of this.tensors) t.param.checkLive();
  }

  private kernelVariant(g: ParamGroup<O>): KernelVariant {
    const o = g as unknown as Record<string, unknown>;
    const variant = this.spec.variant(g);
    const maximize = this.spec.maximize && o.maximize === true;
    const l2 = this.spec.l2 && o.weightDecay !== 0;
    const flags = Object.entries({ maximize, weightDecay: l2, ...variant })
      .filter(([, on]) => on)
      .map(([k]) => k.toLowerCase());
    const norms = this.spec.norms ?? 0;
    return {
      label: [this.label, ...flags].join('/'),
      states: Object.keys(this.spec.states(g)),
      body: this.spec.body({ ...variant, normPass: false }),
      ...(norms > 0 ? { norms, normBody: this.spec.body({ ...variant, normPass: true }) } : {}),
      fields: this.spec.fields,
      maximize,
      l2,
    };
  }

  /** Rebuilds the launches when a group's kernel variant changed (or on the first step). */
  private prepare(): Launcher {
    const variants = this.paramGroups.map((g) => this.kernelVariant(g));
    const keys = variants.map((v) => v.label);
    if (this.launcher && keys.every((k, i) => k === this.variantKeys[i])) return this.launcher;
    const plan = planStep(
      this.tensors.map((t) => ({
        extents: t.param.extents,
        padded: t.param.ownership !== 'caller',
        variant: keys[t.group]!,
      })),
      this.engine.limits.maxComputeWorkgroupsPerDimension ** 2,
    );
    this.plan = plan;
    this.allocateStates(plan);
    this.launcher?.destroy();
    const kernels = new Map(variants.map((v) => [v.label, v]));
    this.launcher = new Launcher(
      this.engine,
      this.label,
      plan,
      kernels,
      { states: this.stateBuffers },
      this.rows.length,
    );
    this.variantKeys = keys;
    return this.launcher;
  }

  /** Creates missing state buffers and fills each tensor's part with its group's initial value. */
  private allocateStates(plan: Plan): void {
    const fill = new Map<string, Array<[number, number]>>(); // name -> [tensor, value]
    this.tensors.forEach((t, i) => {
      for (const [name, init] of Object.entries(this.spec.states(this.paramGroups[t.group]!))) {
        if (!this.stateBuffers.has(name)) {
          this.stateBuffers.set(
            name,
            plan.segments.map((s, k) =>
              this.engine.createBuffer(`${this.label}/${name}/segment${k}`, s.stateElements * 4),
            ),
          );
        }
        if (!t.touched.has(name) && init !== 0) {
          let list = fill.get(name);
          if (!list) fill.set(name, (list = []));
          list.push([i, init]);
        }
      }
    });
    for (const [name, list] of fill) {
      for (const [i, value] of list) {
        const runs = this.stateRuns(i, name);
        const data = new Float32Array(this.tensors[i]!.param.length).fill(value);
        this.engine.writeRuns(runs, data, `${this.label}/${name}`);
      }
    }
  }

  /** Where tensor i's state `name` lives. */
  private stateRuns(i: number, name: string): Run[] {
    const buffers = this.stateBuffers.get(name)!;
    const offsets = this.plan!.stateOffsets[i]!;
    return this.tensors[i]!.param.extents.map((e, k) => ({
      buffer: buffers[offsets[k]![0]]!,
      offset: offsets[k]![1],
      length: e.length,
      start: e.start,
    }));
  }

  /** One optimizer step for every parameter: encodes and submits, does not wait. */
  step(): void {
    this.checkLive();
    this.engine.throwIfFailed();
    for (const g of this.paramGroups) this.spec.validate(g);
    const launcher = this.engine.scoped(`${this.label}.prepare`, () => this.prepare());
    const fields = this.spec.fields;
    const F = fields.length;
    const stateNames = this.paramGroups.map((g) => Object.keys(this.spec.states(g)));
    this.tensors.forEach((t, i) => {
      const names = stateNames[t.group]!;
      const fresh = names.every((s) => t.touched.has(s))
        ? NONE
        : new Set(names.filter((s) => !t.touched.has(s)));
      const values = this.spec.scalars(this.paramGroups[t.group]!, t.host, fresh);
      for (let f = 0; f < F; f++) this.rows[i * F + f] = values[fields[f]!]!;
      for (const s of fresh) t.touched.add(s);
    });
    this.engine.scoped(`${this.label}.step`, () => {
      launcher.writeRows(this.rows);
      const encoder = this.engine.device.createCommandEncoder({ label: `${this.label}.step` });
      const pass = encoder.beginComputePass({ label: `${this.label}.step` });
      launcher.encode(pass);
      pass.end();
      this.engine.queue.submit([encoder.finish()]);
    });
  }

  /** Sets every gradient to zero (PyTorch's set_to_none=False). */
  zeroGrad(): void {
    this.checkLive();
    const encoder = this.engine.device.createCommandEncoder({ label: `${this.label}.zeroGrad` });
    zeroRuns(
      encoder,
      this.tensors.flatMap((t) => t.param.gradRuns()),
    );
    this.engine.queue.submit([encoder.finish()]);
  }

  /** The optimizer state, as PyTorch's state_dict() with camelCase names. */
  async stateDict(): Promise<StateDict> {
    this.checkLive();
    const state: StateDict['state'] = {};
    await Promise.all(
      this.tensors.map(async (t, i) => {
        const entry: Record<string, number | Float32Array> = { ...t.host };
        for (const name of t.touched)
          entry[name] = await this.engine.readRuns(this.stateRuns(i, name), t.param.length);
        state[i] = entry;
      }),
    );
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...options } = g as ParamGroup<O> & Record<string, unknown>;
      return { ...structuredClone(options), params: params.map(() => index++) };
    });
    return { state, paramGroups };
  }

  /** Restores a stateDict(); checks everything first, so a bad dict leaves the optimizer untouched. */
  loadStateDict(sd: StateDict): void {
    this.checkLive();
    const name = this.spec.name;
    if (
      !sd ||
      typeof sd !== 'object' ||
      !Array.isArray(sd.paramGroups) ||
      typeof sd.state !== 'object'
    ) {
      throw new TypeError(`${name}.loadStateDict: expected { state, paramGroups }`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(
        `${name}.loadStateDict: ${sd.paramGroups.length} param groups, expected ${this.paramGroups.length}`,
      );
    }
    const groups = sd.paramGroups.map((g, i) => {
      const { params, ...options } = g;
      if (!Array.isArray(params) || params.length !== this.paramGroups[i]!.params.length) {
        throw new RangeError(
          `${name}.loadStateDict: group ${i} has ${params?.length} params, expected ${this.paramGroups[i]!.params.length}`,
        );
      }
      const resolved = { ...this.defaults, ...options } as O;
      this.spec.validate(resolved);
      return resolved;
    });
    for (const [key, entry] of Object.entries(sd.state)) {
      const i = Number(key);
      const t = this.tensors[i];
      if (!t)
        throw new RangeError(
          `${name}.loadStateDict: state for parameter ${key}, which does not exist`,
        );
      const allowed = new Set([
        'step',
        ...Object.keys(this.spec.hostState ?? {}),
        ...Object.keys(this.spec.states(groups[t.group]!)),
      ]);
      for (const [field, value] of Object.entries(entry)) {
        if (!allowed.has(field))
          throw new RangeError(
            `${name}.loadStateDict: parameter ${i} has state '${field}', which ${name} does not use`,
          );
        if (
          value instanceof Float32Array
            ? value.length !== t.param.length
            : typeof value !== 'number'
        ) {
          throw new RangeError(
            `${name}.loadStateDict: state '${field}' of parameter ${i} must be ${value instanceof Float32Array ? `a Float32Array of length ${t.param.length}` : 'a number'}`,
          );
        }
      }
    }
    // Valid: apply.
    groups.forEach((o, i) =>
      Object.assign(this.paramGroups[i]!, structuredClone(o), {
        params: this.paramGroups[i]!.params,
      }),
    );
    this.prepare();
    this.tensors.forEach((t, i) => {
      const entry = sd.state[i] ?? {};
      t.host = { step: 0, ...this.spec.hostState };
      t.touched.clear();
      for (const [field, init] of Object.entries(this.spec.states(this.paramGroups[t.group]!))) {
        const value = entry[field];
        const data =
          value instanceof Float32Array ? value : new Float32Array(t.param.length).fill(init);
        this.engine.writeRuns(this.stateRuns(i, field), data, `${this.label}/${field}`);
        if (value instanceof Float32Array) t.touched.add(field);
      }
      for (const [field, value] of Object.entries(entry))
        if (typeof value === 'number') t.host[field] = value;
    });
  }

  /** Frees the optimizer's state; parameters stay alive. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.launcher?.destroy();
    for (const list of this.stateBuffers.values()) for (const b of list) b.destroy();
  }
}

const NONE: ReadonlySet<string> = new Set();

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'params') out[k] = v;
  return out as Partial<T>;
}
