import type * as tfc from '@tensorflow/tfjs-core';
import { clipGradNorm } from '../clip.ts';
import { Engine } from '../engine.ts';
import type { Optimizer, OptimizerOptions } from '../optimizer.ts';
import { optimizers, optimizerSpecs, type OptimizerClass } from '../optimizers/registry.ts';
import type { OptimizerSpec } from '../optimizers/spec.ts';
import type { Parameter } from '../parameter.ts';
import { checkKnownKeys, describe } from '../validate.ts';
import { flush, gpuBuffer, invalidate, webgpuBackend } from './backend.ts';
import { VariableSet } from './variable-set.ts';
import { splitWeightName, stateName, weightSuffix } from './weights.ts';

/** The parts of the TF.js namespace the adapter uses; `import * as tf from '@tensorflow/tfjs'` fits. */
export type Tf = Pick<
  typeof tfc,
  'Optimizer' | 'serialization' | 'engine' | 'tidy' | 'add' | 'tensor' | 'scalar' | 'backend'
> & { getBackend(): string | undefined };

/** A tensor with its name, as tf.Optimizer's getWeights() returns them. */
export interface NamedTensor {
  name: string;
  tensor: tfc.Tensor;
}

/** Something stepped once per optimizer step, e.g. one of this package's LR schedulers. */
export interface Steppable {
  step(): void;
}

/** Options of the adapter itself, beside the optimizer's own. */
export interface TfjsOptions<O extends object = object> {
  /** Clip the gradients' total L2 norm to this before every step (clipGradNorm, on the GPU). */
  clipGradNorm?: number;
  /**
   * Builds a scheduler for the engine optimizer (one per set of variables), stepped after every
   * optimizer step: `(o) => new CosineAnnealingLR(o, { tMax: 1000 })`. Not part of getConfig().
   */
  scheduler?: (optimizer: Optimizer<O>) => Steppable;
}

export type TfjsOptimizerOptions<O extends object> = Partial<O> & OptimizerOptions & TfjsOptions<O>;

/** A tf.Optimizer whose steps run this package's fused WebGPU kernel on TF.js's own buffers. */
export interface TfjsOptimizer<O extends object = object> extends tfc.Optimizer {
  /** The torch.optim name of the optimizer it runs ('AdamW'). */
  readonly kind: string;
  /** The learning rate of every param group; setting it takes effect at the next step. */
  lr: number;
  /** The engine optimizers, one per set of variables stepped together (one for model.fit). */
  readonly engineOptimizers: ReadonlyArray<Optimizer<O>>;
  /** Counters for tests: variable sets, shared variables detached, launch rebuilds. */
  stats(): { sets: number; detached: number; rebinds: number };
}

const ADAPTER_KEYS = ['clipGradNorm', 'scheduler'];

/** One engine per device, shared by every adapter: TF.js's device is never ours to destroy. */
const engines = new WeakMap<GPUDevice, Engine>();

function engineFor(device: GPUDevice): Engine {
  let engine = engines.get(device);
  if (!engine || engine.lostReason) {
    engine = new Engine(device, 'tfjs-backend-webgpu device', false);
    engines.set(device, engine);
  }
  return engine;
}

type AdapterClass = new (config?: tfc.serialization.ConfigDict) => TfjsOptimizer;
const classes = new WeakMap<object, Map<OptimizerClass<object>, AdapterClass>>();

/** The spec behind a registry class (for validation at construction), if it is one. */
function specOf(Optimizer: OptimizerClass<object>): OptimizerSpec<object> | undefined {
  const spec = (optimizerSpecs as Record<string, OptimizerSpec<object>>)[Optimizer.name];
  return spec;
}

/**
 * The tf.Optimizer subclass running `Optimizer`, made once per TF.js namespace and registered
 * with tf.serialization as `WebGPU<Name>` (so a saved model's optimizer config loads back).
 */
function adapterClass<O extends object>(tf: Tf, Optimizer: OptimizerClass<O>): AdapterClass {
  let byClass = classes.get(tf.Optimizer);
  if (!byClass) classes.set(tf.Optimizer, (byClass = new Map()));
  const known = byClass.get(Optimizer as unknown as OptimizerClass<object>);
  if (known) return known;
  const kind = Optimizer.name;
  const spec = specOf(Optimizer as unknown as OptimizerClass<object>);

  class Adapter extends tf.Optimizer implements TfjsOptimizer<O> {
    static className = `WebGPU${kind}`;
    readonly kind = kind;
    private readonly options: Record<string, unknown>;
    private readonly clipNorm: number | undefined;
    private readonly makeScheduler: TfjsOptions<O>['scheduler'];
    private readonly sets = new Map<string, VariableSet>();
    private readonly schedulers = new Map<VariableSet, Steppable>();

    constructor(config: tfc.serialization.ConfigDict = {}) {
      super();
      if (config === null || typeof config !== 'object' || Array.isArray(config))
        throw new TypeError(`tfjsOptimizer: options must be an object, got ${describe(config)}`);
      const { clipGradNorm: clip, scheduler, ...options } = config as Record<string, unknown>;
      if (spec) {
        checkKnownKeys(`tfjsOptimizer(${kind})`, options, [
          ...Object.keys(spec.defaults),
          'skipNonFinite',
          ...ADAPTER_KEYS,
        ]);
        const { skipNonFinite: _, ...groupOptions } = options;
        spec.validate({ ...spec.defaults, ...groupOptions });
      }
      if (clip !== undefined && (typeof clip !== 'number' || !(clip > 0) || !isFinite(clip)))
        throw new RangeError(
          `tfjsOptimizer: clipGradNorm must be a finite number > 0, got ${describe(clip)}`,
        );
      if (scheduler !== undefined && typeof scheduler !== 'function')
        throw new TypeError(
          `tfjsOptimizer: scheduler must be a function (optimizer) => scheduler, got ${describe(scheduler)}`,
        );
      this.options = options;
      this.clipNorm = clip as number | undefined;
      this.makeScheduler = scheduler as TfjsOptions<O>['scheduler'];
    }

    get engineOptimizers(): Array<Optimizer<O>> {
      return [...this.sets.values()].map((s) => s.optimizer as unknown as Optimizer<O>);
    }

    get lr(): number {
      const first = this.engineOptimizers[0]?.paramGroups[0] as { lr?: number } | undefined;
      const fallback = (spec?.defaults as { lr?: number } | undefined)?.lr;
      return first?.lr ?? (this.options.lr as number | undefined) ?? fallback ?? NaN;
    }

    set lr(value: number) {
      if (typeof value !== 'number' || !(value >= 0))
        throw new RangeError(`tfjsOptimizer: lr must be a number >= 0, got ${describe(value)}`);
      this.options.lr = value;
      for (const o of this.engineOptimizers)
        for (const g of o.paramGroups) (g as unknown as { lr: number }).lr = value;
    }

    stats() {
      const sets = [...this.sets.values()];
      return {
        sets: sets.length,
        detached: sets.reduce((n, s) => n + s.detached, 0),
        rebinds: sets.reduce((n, s) => n + s.rebinds, 0),
      };
    }

    /** The set of exactly these variables (built on first use, rebuilt if one was replaced). */
    private setFor(variables: tfc.Variable[]): VariableSet {
      const backend = webgpuBackend(tf);
      const key = variables.map((v) => v.name).join('\0');
      const known = this.sets.get(key);
      if (known?.matches(variables)) {
        known.bind(backend, tf);
        return known;
      }
      if (known) this.dropSet(key, known);
      const engine = engineFor(backend.device);
      const set = VariableSet.create(
        engine,
        backend,
        tf,
        variables,
        (params: Parameter[]) =>
          new Optimizer(params, { ...this.options } as Partial<O>) as unknown as Optimizer<object>,
      );
      this.sets.set(key, set);
      if (this.makeScheduler)
        this.schedulers.set(set, this.makeScheduler(set.optimizer as unknown as Optimizer<O>));
      return set;
    }

    private dropSet(key: string, set: VariableSet): void {
      set.dispose();
      this.sets.delete(key);
      this.schedulers.delete(set);
    }

    /** Variables by name, sorted: the same variables always make the same set. */
    private variablesOf(names: string[]): tfc.Variable[] {
      const registered = tf.engine().registeredVariables;
      return [...names].sort().map((name) => {
        const v = registered[name];
        if (!v) throw new RangeError(`tfjsOptimizer: no variable named '${name}' is registered`);
        if (!v.trainable)
          throw new RangeError(`tfjsOptimizer: variable '${name}' is not trainable`);
        return v;
      });
    }

    applyGradients(variableGradients: tfc.NamedTensorMap | NamedTensor[]): void {
      const pairs = (
        Array.isArray(variableGradients)
          ? variableGradients.map((g) => [g.name, g.tensor] as const)
          : Object.entries(variableGradients)
      ).filter(([, t]) => t != null);
      if (pairs.length === 0) return;
      const byName = new Map<string, tfc.Tensor>(pairs);
      const set = this.setFor(this.variablesOf([...byName.keys()]));
      const backend = webgpuBackend(tf);
      const grads = set.variables.map((v) => {
        const g = byName.get(v.name)!;
        if (g.size !== v.size)
          throw new RangeError(
            `tfjsOptimizer: the gradient of '${v.name}' has shape [${g.shape}], the variable [${v.shape}]`,
          );
        return gpuBuffer(backend, g.dataId, `the gradient of '${v.name}'`);
      });
      flush(backend);
      const engine = set.optimizer.engine;
      // In the engine's error scopes: on TF.js's device, only what the scopes catch is ours.
      engine.scoped(`tfjs/${kind}.step`, () => {
        const encoder = engine.device.createCommandEncoder({ label: `tfjs/${kind}.gradients` });
        set.encodeGradients(encoder, grads);
        if (this.clipNorm !== undefined) {
          engine.queue.submit([encoder.finish()]);
          clipGradNorm(set.params, this.clipNorm);
          set.optimizer.step();
        } else {
          set.optimizer.step(encoder);
          engine.queue.submit([encoder.finish()]);
        }
      });
      for (const v of set.variables) invalidate(backend, v.dataId);
      this.incrementIterations();
      this.schedulers.get(set)?.step();
    }

    override async getWeights(): Promise<NamedTensor[]> {
      const out: NamedTensor[] = [await this.saveIterations()];
      for (const set of this.sets.values()) {
        const sd = await set.optimizer.stateDict();
        const names = new Set<string>();
        for (const entry of Object.values(sd.state))
          for (const name of Object.keys(entry)) if (name !== 'step') names.add(name);
        for (const name of names) {
          set.variables.forEach((v, i) => {
            const value = sd.state[i]?.[name];
            if (value === undefined) return;
            out.push({
              name: `${v.name}/${weightSuffix(kind, name)}`,
              tensor:
                typeof value === 'number' ? tf.scalar(value) : tf.tensor(value, v.shape, 'float32'),
            });
          });
        }
      }
      return out;
    }

    override async setWeights(weightValues: NamedTensor[]): Promise<void> {
      const rest = await this.extractIterations(weightValues);
      const byVariable = new Map<string, Record<string, number | Float32Array>>();
      for (const { name, tensor } of rest) {
        const [variable, suffix] = splitWeightName(name);
        const data = (await tensor.data()) as Float32Array;
        const entry = byVariable.get(variable) ?? {};
        entry[stateName(kind, suffix)] = tensor.rank === 0 ? data[0]! : Float32Array.from(data);
        byVariable.set(variable, entry);
      }
      if (byVariable.size === 0) return;
      const set = this.setFor(this.variablesOf([...byVariable.keys()]));
      const sd = await set.optimizer.stateDict();
      sd.state = Object.fromEntries(
        set.variables.map((v, i) => [i, { step: this.iterations, ...byVariable.get(v.name) }]),
      );
      set.optimizer.loadStateDict(sd);
    }

    override getConfig(): tfc.serialization.ConfigDict {
      const config: tfc.serialization.ConfigDict = {};
      for (const [k, v] of Object.entries(this.options))
        if (typeof v !== 'function') config[k] = v as tfc.serialization.ConfigDictValue;
      if (this.clipNorm !== undefined) config.clipGradNorm = this.clipNorm;
      return config;
    }

    override dispose(): void {
      for (const [key, set] of this.sets) this.dropSet(key, set);
      super.dispose();
    }
  }
  Object.defineProperty(Adapter, 'name', { value: `WebGPU${kind}` });
  tf.serialization.registerClass(Adapter);
  const adapter = Adapter as unknown as AdapterClass;
  byClass.set(Optimizer as unknown as OptimizerClass<object>, adapter);
  return adapter;
}

/**
 * A real tf.Optimizer (for `model.compile({ optimizer })`, `minimize`, `applyGradients`) that
 * steps TF.js's variables in place with `Optimizer`'s fused kernel, on TF.js's own WebGPU device:
 * `tfjsOptimizer(tf, AdamW, { lr: 1e-3, weightDecay: 0.01 })`. `tf` is the caller's TF.js
 * namespace (TF.js is not bundled); its backend must be 'webgpu'.
 */
export function tfjsOptimizer<O extends object>(
  tf: Tf,
  Optimizer: OptimizerClass<O>,
  options: TfjsOptimizerOptions<O> = {},
): TfjsOptimizer<O> {
  const Adapter = adapterClass(tf, Optimizer);
  return new Adapter(options as tfc.serialization.ConfigDict) as TfjsOptimizer<O>;
}

/** Registers every optimizer of the registry with tf.serialization (before loading a model). */
export function registerTfjsOptimizers(
  tf: Tf,
  list = Object.values(optimizers) as Array<OptimizerClass<object>>,
): void {
  for (const Optimizer of list) adapterClass(tf, Optimizer);
}
