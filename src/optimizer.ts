import { packParameters } from './arena.ts';
import { readStateDict, readTensorState, validateStateDict, type StateDict } from './checkpoint.ts';
import type { Engine } from './engine.ts';
import { DisposedError } from './errors.ts';
import { Launcher, type KernelVariant } from './launcher.ts';
import { Parameter, type Run } from './parameter.ts';
import {
  definedOnly,
  groupKeys,
  isCommandEncoder,
  paramGroupInputs,
  resolveGroups,
  type ParamGroup,
  type ParamGroupInput,
} from './param-groups.ts';
import { planStep, type Plan } from './plan.ts';
import { buildProgram, type RowPlace } from './program.ts';
import { matrixView } from './shape.ts';
import type { HostState, OptimizerSpec } from './optimizers/spec.ts';
import { StepClock, type CounterReading } from './step-clock.ts';
import { zeroRuns } from './transfer.ts';
import { checkKnownKeys, describe } from './validate.ts';

export type { StateDict } from './checkpoint.ts';

export type { ParamGroup, ParamGroupInput } from './param-groups.ts';
export { groupKeys } from './param-groups.ts';

/** Options of the optimizer itself, beside the per-group hyperparameters. */
export interface OptimizerOptions {
  /**
   * Check the gradients on the GPU and skip the whole step, state and step count included, when
   * any is NaN or Inf (PyTorch GradScaler's found_inf), without a readback. Default false: then a
   * NaN gradient propagates into the parameters and state as in torch.optim.
   */
  skipNonFinite?: boolean;
}

/** Names of the optimizer-level options (beside the spec's per-group ones). */
const OPTIMIZER_OPTIONS = ['skipNonFinite'];

/** What the host knows of one tensor's state: step count and scalars, and which buffers were written. */
export interface TensorState {
  host: HostState;
  /** State buffers some applied step has written (the others hold their initial values). */
  touched: Set<string>;
}

/**
 * Tensors of one group whose state is the same (all of a group's tensors, unless a loaded
 * checkpoint says otherwise) share one state class: one step counter on the GPU and one row of
 * kernel scalars per step, computed once, so the host's cost does not grow with the tensors.
 */
export interface StateClass {
  index: number;
  group: number;
  /** Host state after n applied steps is chain[n - origin] (see StepClock). */
  chain: HostState[];
  origin: number;
  /** State buffers filled with their initial value or a loaded one. */
  initialized: Set<string>;
  /**
   * State buffers some step has written, as the host knows it without skipping (then every
   * recorded step is applied): the `fresh` fields are decided from it on the host.
   */
  written: Set<string>;
  /** The group's options the ring rows were computed with. */
  key: string;
  /** Per ring slot, the step t whose row it holds (-1: none). */
  slots: Int32Array;
}

export interface TensorRecord {
  param: Parameter;
  group: number;
  cls: StateClass;
}

/** A tensor's state buffers: name -> initial value and length in elements. */
export type StateSizes = Map<string, { init: number; length: number; shape: number[] }>;

/** Largest ring the step rows start with when steps may be skipped (it grows when needed). */
const SKIP_RING = 8;

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
  /** Shaped optimizers (spec.program): each tensor's own state buffers by name. */
  private readonly tensorBuffers: Array<Map<string, GPUBuffer>> = [];
  /** A bit per state name, for the GPU's `touched` counters. */
  private readonly stateBits = new Map<string, number>();
  private readonly clock: StepClock;
  /** Row sets in the ring, and the host's copy of it. */
  private ring: number;
  private rows: Float32Array<ArrayBuffer>;
  /** Counters as last read by settle(). */
  private settled: CounterReading | undefined;
  /** Schedule-free optimizers: whether p holds y (train) or x (eval); see eval()/train(). */
  private mode: 'train' | 'eval' = 'train';
  /** Launches of the mode switches, built with the step's launcher. */
  private readonly modeLaunchers = new Map<'train' | 'eval', Launcher>();
  private disposed = false;

  constructor(
    readonly spec: OptimizerSpec<O>,
    params: Parameter[] | ParamGroupInput<O>[],
    options: Partial<O> & OptimizerOptions = {},
  ) {
    const name = spec.name;
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`${name}: options must be an object, got ${describe(options)}`);
    }
    checkKnownKeys(name, options, [...Object.keys(spec.defaults), ...OPTIMIZER_OPTIONS]);
    const { skipNonFinite = false, ...defaults } = options;
    if (typeof skipNonFinite !== 'boolean') {
      throw new RangeError(
        `${name}: skipNonFinite must be a boolean, got ${describe(skipNonFinite)}`,
      );
    }
    this.defaults = { ...spec.defaults, ...definedOnly(defaults) } as O;
    const resolved = resolveGroups(spec, this.defaults, paramGroupInputs<O>(name, params));
    this.checkShapes(name, resolved.params);
    this.paramGroups = resolved.groups;
    this.engine = resolved.engine;
    this.engine.throwIfFailed();
    this.label = name.toLowerCase();
    this.skipNonFinite = skipNonFinite;
    this.classes = this.paramGroups.map((_, group) =>
      this.newClass(group, group, this.initialState()),
    );
    this.tensors = this.paramGroups.flatMap((g, group) =>
      g.params.map((param) => ({ param, group, cls: this.classes[group]! })),
    );
    this.ring = skipNonFinite ? SKIP_RING : 1;
    this.rows = this.allocateRows();
    this.clock = this.engine.scoped(
      this.label,
      () => new StepClock(this.engine, this.label, skipNonFinite, this.classes.length),
    );
    packParameters(this.engine, resolved.params, this.label, !!spec.program);
    this.engine.track(this);
  }

  private newClass(index: number, group: number, state: TensorState): StateClass {
    return {
      index,
      group,
      chain: [state.host],
      origin: state.host.step,
      initialized: new Set(state.touched),
      written: new Set(state.touched),
      key: '',
      slots: new Int32Array(this.ring ?? 1).fill(-1),
    };
  }

  private allocateRows(): Float32Array<ArrayBuffer> {
    for (const c of this.classes) c.slots = new Int32Array(this.ring).fill(-1);
    return new Float32Array(this.ring * this.classes.length * this.spec.fields.length);
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

  /**
   * @internal The host's view of tensor i's state, as of the last settle(): the GPU's step count
   * and touched states, and the host scalars of that step.
   */
  tensorState(i: number): TensorState {
    const cls = this.tensors[i]!.cls;
    const reading = this.settled;
    if (!reading || reading.steps[cls.index] === undefined) {
      const own = this.stateSizes(i);
      return {
        host: cls.chain[0]!,
        touched: new Set([...cls.initialized].filter((s) => own.has(s))),
      };
    }
    const step = reading.steps[cls.index]!;
    const host = cls.chain[step - cls.origin];
    if (!host) throw new Error(`${this.spec.name}: no host state for step ${step} (internal)`);
    const touched = new Set<string>();
    const own = this.stateSizes(i);
    for (const [name, bit] of this.stateBits)
      if (reading.touched[cls.index]! & (1 << bit) && own.has(name)) touched.add(name);
    return { host: { ...host }, touched };
  }

  /**
   * The state of one parameter, as `stateDict().state[i]` holds it (`{ step, expAvg, ... }`,
   * PyTorch's `opt.state[p]` in camelCase), read once the steps submitted so far have run. Before
   * the first step it is `{ step: 0 }` plus the optimizer's scalar state, as torch has no state yet.
   */
  async stateOf(p: Parameter): Promise<StateDict['state'][number]> {
    this.checkLive();
    const i = this.tensors.findIndex((t) => t.param === p);
    if (i < 0) {
      throw new RangeError(
        `${this.spec.name}.stateOf: ${p instanceof Parameter ? p.label : describe(p)} is not a parameter of this optimizer`,
      );
    }
    return readTensorState(this, i);
  }

  /**
   * Adds a param group, as torch.optim's `add_param_group`: its options default to the
   * optimizer's, it is validated as the constructor validates groups (option names and values,
   * Parameters of this engine, none already in the optimizer), and its tensors start with fresh
   * state at step 0 from the next step on, while the other groups' state and step counts carry on.
   * Like a step, nothing changes when it throws.
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    this.checkLive();
    const name = this.spec.name;
    const index = this.paramGroups.length;
    const where = `${name}.addParamGroup`;
    if (group === null || typeof group !== 'object' || Array.isArray(group) || !('params' in group))
      throw new TypeError(
        `${where}: expected a param group { params: [...] }, got ${describe(group)}`,
      );
    const [input] = paramGroupInputs<O>(where, [group]);
    const mine = new Set(this.tensors.map((t) => t.param));
    const {
      groups: [g],
      params: added,
    } = resolveGroups(this.spec, this.defaults, [input!], index, mine, {
      engine: this.engine,
      anchor: this.tensors[0]!.param.label,
    });
    this.engine.throwIfFailed();
    this.checkShapes(where, added);
    packParameters(this.engine, added, this.label, !!this.spec.program);
    this.paramGroups.push(g!);
    const cls = this.newClass(this.classes.length, index, this.initialState());
    this.classes.push(cls);
    for (const param of g!.params) this.tensors.push({ param, group: index, cls });
    this.engine.scoped(where, () => this.clock.addClasses(1));
    this.rows = this.allocateRows();
    this.variantKeys = []; // more tensors, rows and counters: rebuild the launches
  }

  /**
   * Refuses parameters a shaped rule cannot take: a shape it does not define (Muon: 2-D only),
   * or one split across buffers (its passes address a tensor as one run).
   */
  private checkShapes(where: string, params: readonly Parameter[]): void {
    for (const p of params) {
      const why = this.spec.checkShape?.(p.shape);
      if (why)
        throw new RangeError(`${where}: ${p.label} has shape [${p.shape.join(', ')}]; ${why}`);
      if (this.spec.program && p.extents.length > 1) {
        throw new RangeError(
          `${where}: ${p.label} lives in ${p.extents.length} buffers (larger than one binding, or split across pages by another optimizer); ${this.spec.name} needs each parameter in one buffer`,
        );
      }
    }
  }

  /** @internal */
  initialState(): TensorState {
    return { host: { step: 0, ...this.spec.hostState }, touched: new Set() };
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
    const l2 = (this.spec.usesL2?.(g) ?? this.spec.l2) && o.weightDecay !== 0;
    return { variant, maximize, l2 };
  }

  /** A group's kernel label, e.g. 'adam/amsgrad': cheap, compared every step. */
  private variantKey(g: ParamGroup<O>): string {
    const { variant, maximize, l2 } = this.switches(g);
    let key = this.label;
    for (const [k, on] of Object.entries({ maximize, weightDecay: l2, ...variant }))
      if (on) key += `/${k.toLowerCase()}`;
    for (const k of this.spec.programOptions ?? [])
      key += `/${k.toLowerCase()}=${JSON.stringify((g as Record<string, unknown>)[k])}`;
    return key;
  }

  private bit(state: string): number {
    let bit = this.stateBits.get(state);
    if (bit === undefined) {
      bit = this.stateBits.size;
      if (bit >= 32) throw new RangeError(`${this.spec.name}: more than 32 state buffers`);
      this.stateBits.set(state, bit);
    }
    return bit;
  }

  /** The touched-counter bits of these state names. */
  private mask(states: Iterable<string>): number {
    let m = 0;
    for (const s of states) m |= 1 << this.bit(s);
    return m;
  }

  /** Everything needed to compile a group's kernels (only when its key changed). */
  private kernelVariant(g: ParamGroup<O>): KernelVariant {
    const { variant, maximize, l2 } = this.switches(g);
    const norms = this.spec.norms ?? 0;
    const fresh = Object.fromEntries(
      Object.entries((this.spec.fresh ?? {}) as Record<string, string>).map(([field, state]) => [
        field,
        this.bit(state),
      ]),
    );
    return {
      label: this.variantKey(g),
      states: Object.keys(this.spec.states(g)),
      body: this.spec.body!({ ...variant, normPass: false }),
      ...(norms > 0
        ? {
            norms,
            normBody: this.spec.body!({ ...variant, normPass: true }),
            normStores: this.spec.normStores === true,
          }
        : {}),
      fields: this.spec.fields,
      maximize,
      l2,
      skipFlag: this.skipNonFinite,
      // Without skipping the host knows every step's t and fresh states: the kernels read their
      // row directly and need no counters (the count kernel still keeps them for stateDict).
      stepped: this.skipNonFinite,
      fresh,
    };
  }

  /**
   * @internal Rebuilds the launches at the next step, state kept: a caller-owned buffer that a
   * parameter wraps was replaced by one of the same length (TF.js reassigns a variable's buffer).
   */
  rebind(): void {
    this.variantKeys = [];
  }

  /** @internal Rebuilds the launches when a group's kernel variant changed (or on the first step). */
  prepare(): Launcher {
    const keys = this.paramGroups.map((g) => this.variantKey(g));
    if (this.launcher && keys.every((k, i) => k === this.variantKeys[i])) return this.launcher;
    const plan = planStep(
      this.tensors.map((t) => ({
        extents: t.param.extents,
        padded: t.param.ownership !== 'caller',
        variant: keys[t.group]!,
        row: t.cls.index,
      })),
      this.engine.limits.maxComputeWorkgroupsPerDimension ** 2,
      !this.spec.norms, // elementwise rules may share blocks across tensors
      !!this.spec.norms, // per-tensor norms: tiny tensors one per invocation instead
    );
    this.plan = plan;
    this.allocateStates(plan);
    this.launcher?.destroy();
    for (const l of this.modeLaunchers.values()) l.destroy();
    this.modeLaunchers.clear();
    const kernels = new Map(
      this.spec.program
        ? []
        : this.paramGroups.map((g) => this.kernelVariant(g)).map((v) => [v.label, v]),
    );
    const masks = new Uint32Array(
      this.classes.map((c) => this.mask(Object.keys(this.spec.states(this.paramGroups[c.group]!)))),
    );
    this.launcher = new Launcher(
      this.engine,
      this.label,
      plan,
      kernels,
      {
        states: this.stateBuffers,
        counters: this.clock.counters,
        skip: this.skipNonFinite,
        ...(this.spec.program ? { program: (place: RowPlace) => this.program(place, keys) } : {}),
      },
      { rowWords: this.classes.length * this.spec.fields.length, ring: this.ring, masks },
    );
    for (const c of this.classes) c.slots.fill(-1); // a new table holds no rows yet
    this.variantKeys = keys;
    return this.launcher;
  }

  /** A shaped step's dispatches: every tensor's passes, over its own state buffers. */
  private program(place: RowPlace, keys: string[]) {
    const spec = this.spec;
    return buildProgram(
      this.engine,
      this.label,
      this.tensors.map((t, i) => {
        const group = this.paramGroups[t.group]!;
        const { maximize } = this.switches(group);
        const { passes, sums, work } = spec.program!(group, t.param.shape);
        return {
          extent: t.param.extents[0]!,
          shape: t.param.shape,
          cls: t.cls.index,
          states: this.tensorBuffers[i]!,
          passes,
          sums,
          work,
          context: {
            fields: spec.fields,
            stepped: this.skipNonFinite,
            skip: this.skipNonFinite,
            maximize,
          },
          label: keys[t.group]!,
        };
      }),
      place,
    );
  }

  /** Creates missing state buffers and fills each tensor's new states with their initial value. */
  private allocateStates(plan: Plan): void {
    if (this.spec.program) {
      this.tensors.forEach((t, i) => {
        const own = this.tensorBuffers[i] ?? new Map<string, GPUBuffer>();
        this.tensorBuffers[i] = own;
        for (const [name, { init, length }] of this.stateSizes(i)) {
          this.bit(name);
          if (!own.has(name))
            own.set(name, this.engine.createBuffer(`${this.label}/${name}/tensor${i}`, length * 4));
          if (!t.cls.initialized.has(name) && init !== 0) this.fillState(i, name, init);
        }
      });
      for (const c of this.classes)
        for (const name of Object.keys(this.spec.states(this.paramGroups[c.group]!)))
          c.initialized.add(name);
      return;
    }
    this.tensors.forEach((t, i) => {
      for (const [name, init] of Object.entries(this.spec.states(this.paramGroups[t.group]!))) {
        this.bit(name);
        // Segments follow the tensors in order, so a param group added later only appends
        // segments (or shares a page's): the existing buffers keep every existing offset.
        const list = this.stateBuffers.get(name) ?? [];
        this.stateBuffers.set(name, list);
        for (let k = list.length; k < plan.segments.length; k++) {
          list.push(
            this.engine.createBuffer(
              `${this.label}/${name}/segment${k}`,
              plan.segments[k]!.stateElements * 4,
            ),
          );
        }
        if (!t.cls.initialized.has(name) && init !== 0) this.fillState(i, name, init);
      }
    });
    for (const c of this.classes)
      for (const name of Object.keys(this.spec.states(this.paramGroups[c.group]!)))
        c.initialized.add(name);
  }

  /**
   * @internal Tensor i's state buffers under `group`'s options (the live group by default), each
   * with its initial value and its length in elements.
   */
  stateSizes(i: number, group: O = this.paramGroups[this.tensors[i]!.group]!): StateSizes {
    const param = this.tensors[i]!.param;
    const inits = this.spec.states(group);
    const shapes = this.spec.stateShapes?.(group, param.shape);
    const full = [...param.shape];
    if (!shapes) {
      const length = param.length;
      return new Map(
        Object.entries(inits).map(([name, init]) => [name, { init, length, shape: full }]),
      );
    }
    // Per row: [..., rows, 1]; per column: [..., 1, cols] (torch's keepdim shapes).
    const { batch, rows, cols } = matrixView(param.shape);
    const layouts = {
      param: { length: param.length, shape: full },
      rows: { length: batch * rows, shape: [...full.slice(0, -1), 1] },
      cols: { length: batch * cols, shape: [...full.slice(0, -2), 1, ...full.slice(-1)] },
    };
    return new Map(
      Object.entries(shapes).map(([name, shape]) => [
        name,
        { init: inits[name] ?? 0, ...layouts[shape] },
      ]),
    );
  }

  /**
   * Bytes of GPU memory that hold this optimizer's state now: every state buffer it has allocated
   * (none before the first step or loadStateDict, as torch has no state then), not the parameters,
   * gradients, step counters or scalar tables.
   */
  stateBytes(): number {
    this.checkLive();
    let bytes = 0;
    for (const list of this.stateBuffers.values()) for (const b of list) bytes += b.size;
    for (const own of this.tensorBuffers) for (const b of own.values()) bytes += b.size;
    return bytes;
  }

  /** @internal Writes `value` over tensor i's state `name`. */
  fillState(i: number, name: string, value: number | Float32Array): void {
    const data =
      value instanceof Float32Array
        ? value
        : new Float32Array(this.stateSizes(i).get(name)!.length).fill(value);
    this.engine.writeRuns(this.stateRuns(i, name), data, `${this.label}/${name}`);
  }

  /** @internal Where tensor i's state `name` lives. */
  stateRuns(i: number, name: string): Run[] {
    if (this.spec.program) {
      const buffer = this.tensorBuffers[i]!.get(name)!;
      return [{ buffer, offset: 0, length: this.stateSizes(i).get(name)!.length, start: 0 }];
    }
    const buffers = this.stateBuffers.get(name)!;
    const offsets = this.plan!.stateOffsets[i]!;
    return this.tensors[i]!.param.extents.map((e, k) => ({
      buffer: buffers[offsets[k]![0]]!,
      offset: offsets[k]![1],
      length: e.length,
      start: e.start,
    }));
  }

  /**
   * One optimizer step for every parameter: encodes and submits, does not wait. With `encoder`,
   * the step is recorded into the caller's encoder instead (after whatever the caller recorded,
   * e.g. the kernels that write the gradients) and the caller submits it; record at most one
   * step per submission, since each step's scalars are uploaded when it is recorded. Everything
   * is validated first: a step that throws changes nothing.
   */
  step(encoder?: GPUCommandEncoder): void {
    this.checkLive();
    if (this.mode === 'eval') {
      throw new Error(
        `${this.spec.name}.step: the optimizer is in eval mode (parameters hold x); call opt.train() first`,
      );
    }
    if (encoder !== undefined && !isCommandEncoder(encoder)) {
      throw new TypeError(
        `${this.spec.name}.step: the argument must be a GPUCommandEncoder or nothing, got ${describe(encoder)} (a closure is not supported: compute the loss first)`,
      );
    }
    this.engine.throwIfFailed();
    this.validateGroups();
    this.engine.scoped(`${this.label}.step`, () => {
      if (this.clock.width > this.ring) this.growRing(this.clock.width);
      const launcher = this.prepare(); // before the rows: it fills states no step has touched
      this.writeScalars(launcher);
      const target =
        encoder ?? this.engine.device.createCommandEncoder({ label: `${this.label}.step` });
      const pass = target.beginComputePass({ label: `${this.label}.step` });
      launcher.encode(pass);
      pass.end();
      this.clock.record();
      if (!this.skipNonFinite)
        for (const c of this.classes)
          for (const s of Object.keys(this.spec.states(this.paramGroups[c.group]!)))
            c.written.add(s);
      if (encoder) return; // the caller submits; confirmations come with our next own step
      const readback = this.clock.encodeReadback(target);
      this.engine.queue.submit([target.finish()]);
      if (readback) this.clock.startReadback();
    });
  }

  /** Schedule-free: whether the parameters hold y (train mode, the default) or x (after eval()). */
  get training(): boolean {
    return this.mode === 'train';
  }

  /**
   * Schedule-free: sets every parameter to x, the point to evaluate, on the GPU (no-op when
   * already in eval mode, as schedule_free's eval()). Steps are refused until train().
   */
  eval(): void {
    this.switchMode('eval');
  }

  /** Schedule-free: sets every parameter back to y, where gradients are taken. */
  train(): void {
    this.switchMode('train');
  }

  private switchMode(to: 'train' | 'eval'): void {
    this.checkLive();
    const modes = this.spec.modes;
    if (!modes) {
      throw new TypeError(
        `${this.spec.name}.${to}: only schedule-free optimizers have train and eval modes`,
      );
    }
    this.engine.throwIfFailed();
    this.validateGroups();
    if (this.mode === to) return;
    this.engine.scoped(`${this.label}.${to}`, () => {
      if (this.clock.width > this.ring) this.growRing(this.clock.width);
      const launcher = this.prepare();
      this.writeScalars(launcher); // the scalars of the next step carry the mode weights
      let modeLauncher = this.modeLaunchers.get(to);
      if (!modeLauncher) {
        const kernels = new Map(
          this.paramGroups.map((g) => {
            const k = this.kernelVariant(g);
            const v: KernelVariant = {
              ...k,
              body: modes[to],
              grad: false,
              skipFlag: false,
              maximize: false,
              l2: false,
            };
            delete v.norms;
            delete v.normBody;
            delete v.normStores;
            return [k.label, { ...v, label: `${k.label}/${to}` }] as const;
          }),
        );
        modeLauncher = new Launcher(
          this.engine,
          `${this.label}/${to}`,
          this.plan!,
          new Map([...kernels].map(([key, v]) => [key, v])),
          { states: this.stateBuffers, counters: this.clock.counters, count: false },
          { rowWords: this.classes.length * this.spec.fields.length, ring: this.ring },
        );
        this.modeLaunchers.set(to, modeLauncher);
      }
      modeLauncher.writeRows(this.rows);
      const encoder = this.engine.device.createCommandEncoder({ label: `${this.label}.${to}` });
      const pass = encoder.beginComputePass({ label: `${this.label}.${to}` });
      modeLauncher.encode(pass);
      pass.end();
      this.engine.queue.submit([encoder.finish()]);
    });
    this.mode = to;
  }

  /** Checks every live group as a step would (names, then values); throws before any change. */
  private validateGroups(): void {
    this.paramGroups.forEach((g, i) => {
      checkKnownKeys(`${this.spec.name}: param group ${i}`, g, groupKeys(this.spec));
      this.spec.validate(g);
    });
  }

  /** Doubles the ring until it holds `width` row sets (a loop that has not yielded for long). */
  private growRing(width: number): void {
    while (this.ring < width) this.ring *= 2;
    this.rows = this.allocateRows();
    this.variantKeys = []; // the table grows: rebuild the launches
  }

  /**
   * Writes the rows of every step t each class may be at (StepClock.window), computing each row
   * once per t and options: with unchanged options a step computes one row per class.
   */
  private writeScalars(launcher: Launcher): void {
    const fields = this.spec.fields;
    const F = fields.length;
    const setWords = this.classes.length * F;
    const dirty = new Set<number>();
    const keys = this.paramGroups.map(optionsKey);
    const fresh = Object.entries((this.spec.fresh ?? {}) as Record<string, string>);
    for (const c of this.classes) {
      const group = this.paramGroups[c.group]!;
      const [lo, hi] = this.clock.window(c.index);
      // Host states below lo - 1 belong to steps the GPU has confirmed it is past.
      const drop = Math.min(lo - 1 - c.origin, c.chain.length - 1);
      if (drop > 0) {
        c.chain.splice(0, drop);
        c.origin += drop;
      }
      if (keys[c.group] !== c.key) {
        // New options: recompute the rows of every candidate step (and the states after them).
        c.chain.length = Math.max(1, lo - c.origin);
        c.slots.fill(-1);
        c.key = keys[c.group]!;
      }
      for (let t = lo; t <= hi; t++) {
        const slot = t % this.ring;
        if (c.slots[slot] === t) continue;
        const state = { ...c.chain[t - 1 - c.origin]! };
        const values: Record<string, number> = this.spec.scalars(group, state);
        for (const [field, name] of fresh) values[field] = c.written.has(name) ? 0 : 1;
        if (c.chain.length === t - c.origin) c.chain.push(state);
        const offset = slot * setWords + c.index * F;
        for (let f = 0; f < F; f++) this.rows[offset + f] = values[fields[f]!] ?? 0;
        c.slots[slot] = t;
        dirty.add(slot);
      }
    }
    for (const slot of dirty) launcher.writeRows(this.rows, slot * setWords, setWords);
  }

  /** Steps skipped so far for non-finite gradients (0 without skipNonFinite); waits for the GPU. */
  async skippedSteps(): Promise<number> {
    this.checkLive();
    return (await this.clock.read()).skipped;
  }

  /** @internal Reads the GPU's step counts (after the work submitted so far), for stateOf(). */
  async settle(): Promise<void> {
    this.settled = await this.clock.read();
  }

  /** Sets every gradient to zero (PyTorch's set_to_none=False). */
  zeroGrad(): void {
    this.checkLive();
    this.engine.scoped(`${this.label}.zeroGrad`, () => {
      const encoder = this.engine.device.createCommandEncoder({ label: `${this.label}.zeroGrad` });
      zeroRuns(
        encoder,
        this.tensors.flatMap((t) => t.param.gradRuns()),
      );
      this.engine.queue.submit([encoder.finish()]);
    });
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
    // Tensors of a group with equal loaded state share a class (and a step counter).
    const classes = new Map<string, StateClass>();
    const loaded: Array<Record<string, Float32Array>> = [];
    this.tensors.forEach((t, i) => {
      const entry = entries[i] ?? {};
      const state = this.initialState();
      const buffers: Record<string, Float32Array> = {};
      for (const [field, value] of Object.entries(entry)) {
        if (value instanceof Float32Array) {
          buffers[field] = value;
          state.touched.add(field);
        } else if (typeof value === 'number') state.host[field] = value;
      }
      loaded.push(buffers);
      const key = JSON.stringify([t.group, state.host, [...state.touched].sort()]);
      let cls = classes.get(key);
      if (!cls) classes.set(key, (cls = this.newClass(classes.size, t.group, state)));
      t.cls = cls;
    });
    this.classes = [...classes.values()];
    const touched = this.classes.map((c) => this.mask(c.initialized));
    this.settled = undefined;
    this.rows = this.allocateRows();
    this.variantKeys = []; // rows and counters moved: rebuild the launches
    this.engine.scoped(`${this.label}.loadStateDict`, () => {
      this.clock.reset(
        this.classes.map((c) => c.origin),
        touched,
      );
      this.prepare();
      // Every state the groups use: the loaded values, or the initial value (a fresh state).
      this.tensors.forEach((_, i) => {
        for (const [name, { init }] of this.stateSizes(i))
          this.fillState(i, name, loaded[i]![name] ?? init);
      });
    });
    // Schedule-free: the dict says which point the parameters hold; no values move.
    if (sd.trainMode !== undefined) this.mode = sd.trainMode ? 'train' : 'eval';
  }

  /** Frees the optimizer's state; parameters stay alive. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.untrack(this);
    this.launcher?.destroy();
    for (const l of this.modeLaunchers.values()) l.destroy();
    this.clock.destroy();
    for (const list of this.stateBuffers.values()) for (const b of list) b.destroy();
    for (const own of this.tensorBuffers) for (const b of own.values()) b.destroy();
  }
}

/** The options of a group as a string, compared every step (a change recomputes the rows). */
function optionsKey(group: object): string {
  return JSON.stringify(group, (k, v) => (k === 'params' ? undefined : v));
}
