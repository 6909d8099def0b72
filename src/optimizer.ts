import { SKIP_CANDIDATES } from '../shaders/common.wgsl.ts';
import { packParameters } from './arena.ts';
import { readStateDict, validateStateDict, type StateDict } from './checkpoint.ts';
import type { Engine } from './engine.ts';
import { DisposedError } from './errors.ts';
import { checkKnownKeys } from './validate.ts';
import { Launcher, type KernelVariant } from './launcher.ts';
import type { Parameter, Run } from './parameter.ts';
import { planStep, type Plan } from './plan.ts';
import type { HostState, OptimizerSpec } from './optimizers/spec.ts';
import { SkipTracker } from './skip.ts';
import { zeroRuns } from './transfer.ts';

export type { StateDict } from './checkpoint.ts';

/** A param group as passed in: its parameters plus any options overriding the defaults. */
export type ParamGroupInput<O> = { params: Parameter[] } & Partial<O>;
/** A live param group: every option resolved; edit fields between steps (no recompilation). */
export type ParamGroup<O> = O & { params: Parameter[] };

/** Options of the optimizer itself, beside the per-group hyperparameters. */
export interface OptimizerOptions {
  /**
   * Check the gradients on the GPU and skip the whole step, state and step count included, when
   * any is NaN or Inf (PyTorch GradScaler's found_inf), without a readback. Default false: then a
   * NaN gradient propagates into the parameters and state as in torch.optim.
   */
  skipNonFinite?: boolean;
}

/** What the host knows of one tensor's state: step count and scalars, and which buffers were written. */
export interface TensorState {
  host: HostState;
  /** State buffers some step has written (the others hold their initial values). */
  touched: Set<string>;
}

/**
 * Tensors of one group whose host state is the same (all of a group's tensors, unless a loaded
 * checkpoint says otherwise) share one row of kernel scalars: a step computes each row once, so
 * its host cost does not grow with the number of tensors.
 */
export interface StateClass {
  /** Row index in the scalar table. */
  index: number;
  group: number;
  /**
   * history[0] is the state now, assuming every step ran. With skipNonFinite, older entries are
   * kept so the host can roll back once the GPU confirms skipped steps.
   */
  history: TensorState[];
}

export interface TensorRecord {
  param: Parameter;
  group: number;
  cls: StateClass;
}

/** Host states kept per tensor when skipping (enough to absorb a full set of candidates). */
const HISTORY = 2 * SKIP_CANDIDATES;

/**
 * The engine side of every optimizer: param groups, validation, state buffers, and a step that
 * encodes one dispatch per page and kernel variant. Subclasses only name their spec.
 */
export class Optimizer<O extends object> {
  readonly paramGroups: ParamGroup<O>[];
  readonly defaults: O;
  readonly engine: Engine;
  readonly skipNonFinite: boolean;
  /** @internal */ readonly tensors: TensorRecord[];
  private classes: StateClass[];
  private readonly label: string;
  private plan: Plan | undefined;
  private launcher: Launcher | undefined;
  private variantKeys: string[] = [];
  /** State buffers by name, one per plan segment; allocated when first needed. */
  private readonly stateBuffers = new Map<string, GPUBuffer[]>();
  private readonly skip: SkipTracker | undefined;
  private rows: Float32Array<ArrayBuffer>;
  private disposed = false;

  constructor(
    readonly spec: OptimizerSpec<O>,
    params: Parameter[] | ParamGroupInput<O>[],
    options: Partial<O> & OptimizerOptions = {},
  ) {
    const name = spec.name;
    const { skipNonFinite = false, ...defaults } = options;
    this.defaults = { ...spec.defaults, ...definedOnly(defaults) } as O;
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
    if (typeof skipNonFinite !== 'boolean') {
      throw new RangeError(
        `${name}: skipNonFinite must be a boolean, got ${String(skipNonFinite)}`,
      );
    }
    this.engine = this.paramGroups[0]!.params[0]!.engine;
    this.label = name.toLowerCase();
    this.skipNonFinite = skipNonFinite;
    this.classes = this.paramGroups.map((_, group) => ({
      index: group,
      group,
      history: [this.initialState()],
    }));
    this.tensors = this.paramGroups.flatMap((g, group) =>
      g.params.map((param) => ({ param, group, cls: this.classes[group]! })),
    );
    this.rows = this.allocateRows();
    packParameters(this.engine, [...seen], this.label);
    this.skip = skipNonFinite ? new SkipTracker(this.engine, this.label) : undefined;
  }

  private allocateRows(): Float32Array<ArrayBuffer> {
    const rowWords = this.classes.length * this.spec.fields.length;
    return new Float32Array(
      this.skip || this.skipNonFinite ? 1 + SKIP_CANDIDATES * rowWords : rowWords,
    );
  }

  /** @internal The host's view of tensor i's state now. */
  stateOf(i: number): TensorState {
    return this.tensors[i]!.cls.history[0]!;
  }

  /** @internal */
  initialState(): TensorState {
    return { host: { step: 0, ...this.spec.hostState }, touched: new Set() };
  }

  /**
   * Checks a param group as the next step would (known option names, the spec's value rules),
   * throwing a TypeError or RangeError that names the option; schedulers call it on the values
   * they are about to write, so a bad one is refused before it reaches the optimizer.
   */
  validateGroup(group: object): void {
    checkKnownKeys(this.spec.name, group, groupKeys(this.spec));
    this.spec.validate(group as O);
  }

  /** @internal */
  checkLive(): void {
    if (this.disposed)
      throw new DisposedError(`${this.spec.name}: the optimizer has been disposed`);
    for (const t of this.tensors) t.param.checkLive();
  }

  /** The kernel switches of a group: maximize, L2 decay and the spec's own. */
  private switches(g: ParamGroup<O>) {
    const o = g as unknown as Record<string, unknown>;
    const variant = this.spec.variant(g);
    const maximize = this.spec.maximize && o.maximize === true;
    const l2 = this.spec.l2 && o.weightDecay !== 0;
    return { variant, maximize, l2 };
  }

  /** A group's kernel label, e.g. 'adam/amsgrad': cheap, compared every step. */
  private variantKey(g: ParamGroup<O>): string {
    const { variant, maximize, l2 } = this.switches(g);
    let key = this.label;
    for (const [k, on] of Object.entries({ maximize, weightDecay: l2, ...variant }))
      if (on) key += `/${k.toLowerCase()}`;
    return key;
  }

  /** Everything needed to compile a group's kernels (only when its key changed). */
  private kernelVariant(g: ParamGroup<O>): KernelVariant {
    const { variant, maximize, l2 } = this.switches(g);
    const norms = this.spec.norms ?? 0;
    return {
      label: this.variantKey(g),
      states: Object.keys(this.spec.states(g)),
      body: this.spec.body({ ...variant, normPass: false }),
      ...(norms > 0 ? { norms, normBody: this.spec.body({ ...variant, normPass: true }) } : {}),
      fields: this.spec.fields,
      maximize,
      l2,
      skipFlag: this.skipNonFinite,
    };
  }

  /** @internal Rebuilds the launches when a group's kernel variant changed (or on the first step). */
  prepare(): Launcher {
    const keys = this.paramGroups.map((g) => this.variantKey(g));
    if (this.launcher && keys.every((k, i) => k === this.variantKeys[i])) return this.launcher;
    const variants = this.paramGroups.map((g) => this.kernelVariant(g));
    const plan = planStep(
      this.tensors.map((t) => ({
        extents: t.param.extents,
        padded: t.param.ownership !== 'caller',
        variant: keys[t.group]!,
        row: t.cls.index,
      })),
      this.engine.limits.maxComputeWorkgroupsPerDimension ** 2,
      !this.spec.norms, // elementwise rules may share blocks across tensors
    );
    this.plan = plan;
    this.allocateStates(plan);
    this.launcher?.destroy();
    const kernels = new Map(variants.map((v) => [v.label, v]));
    const buffers = { states: this.stateBuffers, ...(this.skip ? { flags: this.skip.flags } : {}) };
    this.launcher = new Launcher(
      this.engine,
      this.label,
      plan,
      kernels,
      buffers,
      this.classes.length * this.spec.fields.length,
    );
    this.variantKeys = keys;
    return this.launcher;
  }

  /** Creates missing state buffers and fills each untouched tensor part with its group's initial value. */
  private allocateStates(plan: Plan): void {
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
        if (!t.cls.history[0]!.touched.has(name) && init !== 0) this.fillState(i, name, init);
      }
    });
  }

  /** @internal Writes `value` over tensor i's state `name`. */
  fillState(i: number, name: string, value: number | Float32Array): void {
    const data =
      value instanceof Float32Array
        ? value
        : new Float32Array(this.tensors[i]!.param.length).fill(value);
    this.engine.writeRuns(this.stateRuns(i, name), data, `${this.label}/${name}`);
  }

  /** @internal Where tensor i's state `name` lives. */
  stateRuns(i: number, name: string): Run[] {
    const buffers = this.stateBuffers.get(name)!;
    const offsets = this.plan!.stateOffsets[i]!;
    return this.tensors[i]!.param.extents.map((e, k) => ({
      buffer: buffers[offsets[k]![0]]!,
      offset: offsets[k]![1],
      length: e.length,
      start: e.start,
    }));
  }

  /** Advances `state` by one step and writes its kernel scalars at rows[offset..]. */
  private advance(group: ParamGroup<O>, names: string[], state: TensorState, offset: number): void {
    const fresh = names.every((s) => state.touched.has(s))
      ? NONE
      : new Set(names.filter((s) => !state.touched.has(s)));
    const values = this.spec.scalars(group, state.host, fresh);
    const fields = this.spec.fields;
    for (let f = 0; f < fields.length; f++) this.rows[offset + f] = values[fields[f]!]!;
    for (const s of fresh) state.touched.add(s);
  }

  /**
   * One optimizer step for every parameter: encodes and submits, does not wait. With `encoder`,
   * the step is recorded into the caller's encoder instead (after whatever the caller recorded,
   * e.g. the kernels that write the gradients) and the caller submits it; record at most one
   * step per submission, since each step's scalars are uploaded when it is recorded.
   */
  step(encoder?: GPUCommandEncoder): void {
    this.checkLive();
    this.engine.throwIfFailed();
    for (const g of this.paramGroups) this.spec.validate(g);
    const shift = this.skip?.takeShift() ?? 0;
    this.engine.scoped(`${this.label}.step`, () => {
      const launcher = this.prepare(); // before advancing: it fills states no step has touched
      this.writeScalars(shift);
      launcher.writeRows(this.rows);
      const target =
        encoder ?? this.engine.device.createCommandEncoder({ label: `${this.label}.step` });
      const pass = target.beginComputePass({ label: `${this.label}.step` });
      launcher.encode(pass);
      pass.end();
      if (encoder) return; // the caller submits; skip counts are then confirmed by skippedSteps()
      const readback = this.skip?.encodeReadback(target);
      this.engine.queue.submit([target.finish()]);
      if (readback) this.skip!.startReadback();
    });
  }

  /** Advances every state class and fills the scalar rows of this step (one row per class). */
  private writeScalars(shift: number): void {
    const F = this.spec.fields.length;
    const stateNames = this.paramGroups.map((g) => Object.keys(this.spec.states(g)));
    if (!this.skip) {
      for (const c of this.classes) {
        this.advance(this.paramGroups[c.group]!, stateNames[c.group]!, c.history[0]!, c.index * F);
      }
      return;
    }
    // Row set k: the step as it runs if k more of the unconfirmed steps were skipped.
    new Uint32Array(this.rows.buffer, 0, 1)[0] = this.skip.confirmed;
    const setWords = this.classes.length * F;
    if (shift >= this.classes[0]!.history.length) {
      throw new Error(`${this.spec.name}: lost track of skipped steps`);
    }
    for (const c of this.classes) {
      c.history.splice(0, shift);
      let now: TensorState | undefined;
      for (let k = 0; k < SKIP_CANDIDATES; k++) {
        const base = c.history[Math.min(k, c.history.length - 1)]!;
        const next = { host: { ...base.host }, touched: new Set(base.touched) };
        this.advance(
          this.paramGroups[c.group]!,
          stateNames[c.group]!,
          next,
          1 + k * setWords + c.index * F,
        );
        now ??= next;
      }
      c.history.unshift(now!);
      if (c.history.length > HISTORY) c.history.pop();
    }
  }

  /** Steps skipped so far for non-finite gradients (0 without skipNonFinite); waits for the GPU. */
  async skippedSteps(): Promise<number> {
    this.checkLive();
    return this.skip ? this.skip.read() : 0;
  }

  /** @internal Brings the host's step counts in line with the GPU's skip count. */
  async settle(): Promise<void> {
    if (!this.skip) return;
    await this.skip.read();
    const shift = this.skip.takeShift();
    for (const c of this.classes) c.history.splice(0, Math.min(shift, c.history.length - 1));
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
  stateDict(): Promise<StateDict> {
    this.checkLive();
    return readStateDict(this);
  }

  /** Restores a stateDict(); checks everything first, so a bad dict leaves the optimizer untouched. */
  loadStateDict(sd: StateDict): void {
    this.checkLive();
    const { groups, entries } = validateStateDict(this, sd);
    groups.forEach((o, i) =>
      Object.assign(this.paramGroups[i]!, structuredClone(o), {
        params: this.paramGroups[i]!.params,
      }),
    );
    this.prepare();
    this.skip?.reset();
    // Tensors of a group with equal loaded host state share a class (and a scalar row).
    const classes = new Map<string, StateClass>();
    this.tensors.forEach((t, i) => {
      const entry = entries[i] ?? {};
      const state = this.initialState();
      for (const [name, init] of Object.entries(this.spec.states(this.paramGroups[t.group]!))) {
        const value = entry[name];
        this.fillState(i, name, value instanceof Float32Array ? value : init);
        if (value instanceof Float32Array) state.touched.add(name);
      }
      for (const [field, value] of Object.entries(entry)) {
        if (typeof value === 'number') state.host[field] = value;
      }
      const key = JSON.stringify([t.group, state.host, [...state.touched].sort()]);
      let cls = classes.get(key);
      if (!cls) classes.set(key, (cls = { index: classes.size, group: t.group, history: [state] }));
      t.cls = cls;
    });
    this.classes = [...classes.values()];
    this.rows = this.allocateRows();
    this.variantKeys = []; // rows moved: rebuild the launches at the next step
  }

  /** Frees the optimizer's state; parameters stay alive. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.launcher?.destroy();
    this.skip?.destroy();
    for (const list of this.stateBuffers.values()) for (const b of list) b.destroy();
  }
}

const NONE: ReadonlySet<string> = new Set();

/** Keys a param group may hold: the spec's options, `params`, and the schedulers' `initialLr`. */
export function groupKeys(spec: OptimizerSpec<object>): string[] {
  return [...Object.keys(spec.defaults), 'params', 'initialLr'];
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'params') out[k] = v;
  return out as Partial<T>;
}
