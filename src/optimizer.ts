import { packParameters } from './arena.ts';
import {
  readStateDict,
  readTensorState,
  validateStateDict,
  type RawStateDict,
  type StateDict,
} from './checkpoint.ts';
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
import {
  bufferBytes,
  bufferKey,
  decodeRun,
  encodeRun,
  isBlockwise,
  mapHeader,
  runWordOffset,
  runWords,
  STORAGE_DEFAULTS,
  STORAGE_KEYS,
  storageOf,
  tensorDtype,
  validateStorage,
  type StateDtype,
  type Storage,
  type StorageOptions,
} from './state-dtype.ts';
import { zeroRuns } from './transfer.ts';
import { checkKnownKeys, describe } from './validate.ts';

export type { RawStateDict, StateDict } from './checkpoint.ts';

export type { ParamGroup, ParamGroupInput } from './param-groups.ts';
export { groupKeys } from './param-groups.ts';

/**
 * Options of the optimizer itself, beside the per-group hyperparameters; `stateDtype` and
 * `min8bitSize` (src/state-dtype.ts) are the default of every group, which may set its own.
 */
export interface OptimizerOptions extends Partial<StorageOptions> {
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
  /** The kernel variants of the current plan, by label (a group's, per state dtype). */
  private variants = new Map<string, KernelVariant>();
  /**
   * State buffers by bufferKey (the state's name for float32, name/storage otherwise), one per
   * plan segment that holds such state; allocated when first needed.
   */
  private readonly stateBuffers = new Map<string, GPUBuffer[]>();
  /** Shaped optimizers (spec.program): each tensor's own state buffers by name. */
  private readonly tensorBuffers: Array<Map<string, GPUBuffer>> = [];
  /** Per group, the storage its state was allocated with (undefined before it has state). */
  private allocatedStorage: Array<string | undefined> = [];
  /** Per group, the storage options of the current plan and state buffers. */
  private storageOptions: StorageOptions[] = [];
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
    checkKnownKeys(name, options, [
      ...Object.keys(spec.defaults),
      ...STORAGE_KEYS,
      ...OPTIMIZER_OPTIONS,
    ]);
    validateStorage(name, options, !!spec.program);
    const { skipNonFinite = false, ...defaults } = options;
    if (typeof skipNonFinite !== 'boolean') {
      throw new RangeError(
        `${name}: skipNonFinite must be a boolean, got ${describe(skipNonFinite)}`,
      );
    }
    this.defaults = { ...spec.defaults, ...STORAGE_DEFAULTS, ...definedOnly(defaults) } as O;
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
    validateStorage(this.spec.name, group, !!this.spec.program);
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

  /** A group's storage options as a string (a change rebuilds the launches). */
  private static storageKey(g: StorageOptions): string {
    return g.stateDtype === '8bit' ? `8bit/${g.min8bitSize}` : g.stateDtype;
  }

  /**
   * The dtype tensor i stores its state in (its group's, or float32 below min8bitSize): as the
   * state buffers hold it, or with `live` as the group's options say now (a change is refused
   * by the next step, or applied by loadStateDict).
   */
  private tensorDtype(i: number, live = false): StateDtype {
    const t = this.tensors[i]!;
    const o = (!live && this.storageOptions[t.group]) || this.paramGroups[t.group]!;
    return tensorDtype(o, t.param.length);
  }

  /** @internal How tensor i stores state `name` (with `live`, under the group's options now). */
  storageOf(i: number, name: string, live = false): Storage {
    return storageOf(this.tensorDtype(i, live), name);
  }

  /** The kernel label of tensor i: its group's, plus its state dtype unless float32. */
  private tensorKernel(i: number, groupKeys: readonly string[]): string {
    const dtype = this.tensorDtype(i);
    const key = groupKeys[this.tensors[i]!.group]!;
    return dtype === 'float32' ? key : `${key}/${dtype}`;
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
  private kernelVariant(g: ParamGroup<O>, dtype: StateDtype = 'float32'): KernelVariant {
    const { variant, maximize, l2 } = this.switches(g);
    const norms = this.spec.norms ?? 0;
    const fresh = Object.fromEntries(
      Object.entries((this.spec.fresh ?? {}) as Record<string, string>).map(([field, state]) => [
        field,
        this.bit(state),
      ]),
    );
    // The update pass re-reads what the norm pass stored (LAMB): from low-precision state it
    // would apply a u other than the one whose norm it measured (an 8-bit v that rounds to 0
    // makes u = m/eps), so with such state both passes compute the moments from g, and only
    // the update pass stores them.
    const normStores = this.spec.normStores === true && dtype === 'float32';
    const states = Object.keys(this.spec.states(g));
    const storage = Object.fromEntries(states.map((s) => [s, storageOf(dtype, s)]));
    return {
      label: this.variantKey(g) + (dtype === 'float32' ? '' : `/${dtype}`),
      states,
      ...(dtype === 'float32'
        ? {}
        : { storage, bufferKeys: states.map((s) => bufferKey(s, storage[s]!)) }),
      body: this.spec.body!({ ...variant, normPass: false, normStores }),
      ...(norms > 0
        ? {
            norms,
            normBody: this.spec.body!({ ...variant, normPass: true, normStores }),
            normStores,
          }
        : {}),
      fields: this.spec.fields,
      maximize,
      l2,
      skipFlag: this.skipNonFinite,
      // Without skipping the host knows every step's t and fresh states: the kernels read their
      // row directly and need no counters (the count kernel still keeps them for stateDict).
      // bfloat16 and 8-bit rounding read t from them (with a ring of 1 the row is the same).
      stepped: this.skipNonFinite || dtype === 'bfloat16' || dtype === '8bit',
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
    const labels = this.paramGroups.map((g) => this.variantKey(g));
    const keys = this.paramGroups.map((g, i) => `${labels[i]}|${Optimizer.storageKey(g)}`);
    if (this.launcher && keys.every((k, i) => k === this.variantKeys[i])) return this.launcher;
    this.allocatedStorage = this.paramGroups.map((g) => Optimizer.storageKey(g));
    this.storageOptions = this.paramGroups.map((g) => ({
      stateDtype: g.stateDtype,
      min8bitSize: g.min8bitSize,
    }));
    const variants = new Map<string, KernelVariant>();
    // Shaped rules have passes instead of elementwise kernels (and float32 state only).
    if (!this.spec.program)
      this.tensors.forEach((t, i) => {
        const label = this.tensorKernel(i, labels);
        if (!variants.has(label))
          variants.set(label, this.kernelVariant(this.paramGroups[t.group]!, this.tensorDtype(i)));
      });
    const plan = planStep(
      this.tensors.map((t, i) => ({
        extents: t.param.extents,
        padded: t.param.ownership !== 'caller',
        variant: this.tensorKernel(i, labels),
        row: t.cls.index,
        blockwise: this.tensorDtype(i) === '8bit',
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
    this.variants = variants;
    const kernels = variants;
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

  /**
   * Creates missing state buffers and fills each tensor's new states with their initial value.
   * Float32 buffers exist for every segment once any tensor has that state; low-precision ones
   * (src/state-dtype.ts) only for the segments that hold such state, and buffers no tensor uses
   * any more (a stateDtype changed through loadStateDict) are freed.
   */
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
    const used = new Map<string, Set<number>>();
    this.tensors.forEach((t, i) => {
      for (const [name, init] of Object.entries(this.spec.states(this.paramGroups[t.group]!))) {
        this.bit(name);
        const storage = this.storageOf(i, name);
        const key = bufferKey(name, storage);
        // Segments follow the tensors in order, so a param group added later only appends
        // segments (or shares a page's): the existing buffers keep every existing offset.
        const list = this.stateBuffers.get(key) ?? [];
        this.stateBuffers.set(key, list);
        const segments =
          storage === 'f32'
            ? plan.segments.map((_, k) => k)
            : plan.stateOffsets[i]!.map(([segment]) => segment);
        let set = used.get(key);
        if (!set) used.set(key, (set = new Set()));
        for (const k of segments) {
          set.add(k);
          const s = plan.segments[k]!;
          const bytes = bufferBytes(storage, s.stateElements, s.blockwiseElements);
          if (!list[k] || list[k].size < bytes)
            list[k] = this.stateBuffer(key, storage, k, bytes, list[k]);
        }
        // A zero-filled 8-bit buffer is no valid encoding of zeros (its padding codes): fill it.
        if (!t.cls.initialized.has(name) && (init !== 0 || isBlockwise(storage)))
          this.fillState(i, name, init);
      }
    });
    for (const [key, list] of this.stateBuffers) {
      list.forEach((b, k) => {
        if (b && !used.get(key)?.has(k)) {
          b.destroy();
          delete list[k];
        }
      });
    }
    for (const c of this.classes)
      for (const name of Object.keys(this.spec.states(this.paramGroups[c.group]!)))
        c.initialized.add(name);
  }

  /**
   * A segment's state buffer of `bytes`; an 8-bit one starts with its map (MAP_WORDS) and, when
   * it replaces a smaller one (a param group added into a page), keeps that one's contents.
   */
  private stateBuffer(
    key: string,
    storage: Storage,
    segment: number,
    bytes: number,
    old: GPUBuffer | undefined,
  ): GPUBuffer {
    const buffer = this.engine.createBuffer(`${this.label}/${key}/segment${segment}`, bytes);
    if (isBlockwise(storage))
      this.engine.queue.writeBuffer(buffer, 0, mapHeader(storage as 'u8' | 's8'));
    if (old) {
      const encoder = this.engine.device.createCommandEncoder({ label: `${this.label}/${key}` });
      encoder.copyBufferToBuffer(old, 0, buffer, 0, old.size);
      this.engine.queue.submit([encoder.finish()]);
      old.destroy();
    }
    return buffer;
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
    for (const list of this.stateBuffers.values()) for (const b of list) bytes += b?.size ?? 0;
    for (const own of this.tensorBuffers) for (const b of own.values()) bytes += b.size;
    return bytes;
  }

  /**
   * @internal Writes `value` over tensor i's state `name`: float32 values, encoded into the
   * state's storage, or (a Uint32Array) the stored words themselves, as stateDict({ raw }) reads.
   */
  fillState(i: number, name: string, value: number | Float32Array | Uint32Array): void {
    const storage = this.storageOf(i, name);
    const length = this.stateSizes(i).get(name)!.length;
    const data = typeof value === 'number' ? new Float32Array(length).fill(value) : value;
    if (storage === 'f32' && data instanceof Float32Array) {
      this.engine.writeRuns(this.stateRuns(i, name), data, `${this.label}/${name}`);
      return;
    }
    const runs = this.stateRuns(i, name);
    let words: Uint32Array;
    if (data instanceof Uint32Array) words = data;
    else {
      words = new Uint32Array(runs.reduce((n, r) => n + r.length, 0));
      let at = 0;
      for (const e of this.tensors[i]!.param.extents) {
        const part = encodeRun(storage, data.subarray(e.start, e.start + e.length));
        words.set(part, at);
        at += part.length;
      }
    }
    const view = new Float32Array(words.buffer, words.byteOffset, words.length);
    this.engine.writeRuns(runs, view, `${this.label}/${name}`);
  }

  /**
   * @internal Where tensor i's state `name` lives: runs of float32 elements, or for
   * low-precision storage runs of the u32 words that hold them (one run per extent, 8-bit ones
   * whole blocks), `start` counting words.
   */
  stateRuns(i: number, name: string): Run[] {
    if (this.spec.program) {
      const buffer = this.tensorBuffers[i]!.get(name)!;
      return [{ buffer, offset: 0, length: this.stateSizes(i).get(name)!.length, start: 0 }];
    }
    const storage = this.storageOf(i, name);
    const buffers = this.stateBuffers.get(bufferKey(name, storage))!;
    const offsets = this.plan!.stateOffsets[i]!;
    let start = 0;
    return this.tensors[i]!.param.extents.map((e, k) => {
      const length = runWords(storage, e.length);
      const run = {
        buffer: buffers[offsets[k]![0]]!,
        offset: runWordOffset(storage, offsets[k]![1]),
        length,
        start: storage === 'f32' ? e.start : start,
      };
      start += length;
      return run;
    });
  }

  /**
   * @internal What reading tensor i's state `name` takes: its runs, the words they hold, and
   * the decoding of those words into float32 values (the identity for float32 state).
   */
  stateRead(
    i: number,
    name: string,
  ): {
    runs: Run[];
    length: number;
    decode(raw: Float32Array): Float32Array;
  } {
    const storage = this.storageOf(i, name);
    const runs = this.stateRuns(i, name);
    const length = runs.reduce((n, r) => n + r.length, 0);
    const extents = this.tensors[i]!.param.extents;
    const decode = (raw: Float32Array): Float32Array => {
      if (storage === 'f32') return raw;
      const words = new Uint32Array(raw.buffer, raw.byteOffset, raw.length);
      const out = new Float32Array(this.stateSizes(i).get(name)!.length);
      extents.forEach((e, k) => {
        const r = runs[k]!;
        out.set(decodeRun(storage, words.subarray(r.start, r.start + r.length), e.length), e.start);
      });
      return out;
    };
    return { runs, length, decode };
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
          [...this.variants.values()].map((k) => {
            const v: KernelVariant = {
              ...k,
              body: modes[to],
              grad: false,
              stores: false, // a mode switch moves p only (requantizing 8-bit state is not exact)
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
      validateStorage(`${this.spec.name}: param group ${i}`, g, !!this.spec.program);
      const was = this.allocatedStorage[i];
      if (was !== undefined && was !== Optimizer.storageKey(g)) {
        throw new RangeError(
          `${this.spec.name}: param group ${i}'s stateDtype/min8bitSize changed from ${was} to ${Optimizer.storageKey(g)} after its state was created; the stored state is not reinterpreted: convert it with opt.loadStateDict(await opt.stateDict()) (loading encodes into each group's current stateDtype)`,
        );
      }
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

  /**
   * The optimizer state, as PyTorch's state_dict() with camelCase names. Low-precision state
   * (stateDtype) is decoded to float32, so the dict loads into any stateDtype; with `raw: true`
   * it is the stored u32 words instead (RawStateDict), which reload bit for bit.
   */
  stateDict(): Promise<StateDict>;
  stateDict(options: { raw: true }): Promise<RawStateDict>;
  stateDict(options?: { raw?: boolean }): Promise<StateDict | RawStateDict>;
  stateDict(options: { raw?: boolean } = {}): Promise<StateDict | RawStateDict> {
    this.checkLive();
    if (options === null || typeof options !== 'object')
      throw new TypeError(
        `${this.spec.name}.stateDict: options must be an object, got ${describe(options)}`,
      );
    checkKnownKeys(`${this.spec.name}.stateDict`, options, ['raw']);
    if (options.raw !== undefined && typeof options.raw !== 'boolean')
      throw new TypeError(
        `${this.spec.name}.stateDict: raw must be a boolean, got ${describe(options.raw)}`,
      );
    return readStateDict(this, options.raw === true);
  }

  /**
   * Restores a stateDict(); checks everything first, so a bad dict leaves the optimizer
   * untouched. The groups keep their own stateDtype and min8bitSize (how the state is stored,
   * not how it evolves): float32 values are encoded into it, raw words must match it.
   */
  loadStateDict(sd: StateDict | RawStateDict): void {
    this.checkLive();
    const { groups, entries } = validateStateDict(this, sd);
    groups.forEach((o, i) => {
      const options = structuredClone(o) as Record<string, unknown>;
      for (const key of STORAGE_KEYS) delete options[key];
      Object.assign(this.paramGroups[i]!, options, { params: this.paramGroups[i]!.params });
    });
    // Tensors of a group with equal loaded state share a class (and a step counter).
    const classes = new Map<string, StateClass>();
    const loaded: Array<Record<string, Float32Array | Uint32Array>> = [];
    this.tensors.forEach((t, i) => {
      const entry = entries[i] ?? {};
      const state = this.initialState();
      const buffers: Record<string, Float32Array | Uint32Array> = {};
      for (const [field, value] of Object.entries(entry)) {
        if (value instanceof Float32Array || value instanceof Uint32Array) {
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
    for (const list of this.stateBuffers.values()) for (const b of list) b?.destroy();
    for (const own of this.tensorBuffers) for (const b of own.values()) b.destroy();
  }
}

/** The options of a group as a string, compared every step (a change recomputes the rows). */
function optionsKey(group: object): string {
  return JSON.stringify(group, (k, v) => (k === 'params' ? undefined : v));
}
