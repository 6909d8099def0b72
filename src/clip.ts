import { clipNormPass, clipScale, clipTotal, clipValueBody } from '../shaders/clip.wgsl.ts';
import type { Engine } from './engine.ts';
import { Launcher } from './launcher.ts';
import type { Extent, Parameter } from './parameter.ts';
import { planStep } from './plan.ts';

/**
 * Gradient clipping on the GPU, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (applied
 * before the optimizer step; the queue keeps them in order). Nothing is read back; the launches
 * for a given list of parameters are built once and reused.
 */

/** The total norm of a clipGradNorm call; `read()` maps it back (valid for the next 64 calls). */
export interface NormHandle {
  read(): Promise<number>;
}

const RESULT_SLOTS = 64;

/** The gradients of `params` seen as parameters, so the generic kernels can update them. */
function gradientsAsTensors(params: Parameter[]) {
  return params.map((p) => ({
    extents: p.extents.map((e): Extent => ({ ...e, param: e.grad, paramOffset: e.gradOffset })),
    padded: p.ownership !== 'caller',
    variant: '',
  }));
}

class NormClipper {
  readonly launcher: Launcher;
  readonly results: GPUBuffer;
  private readonly uniform: GPUBuffer;
  private readonly slot = new Uint32Array(4);
  private calls = 0;

  constructor(
    readonly engine: Engine,
    readonly extents: Extent[][],
    params: Parameter[],
  ) {
    const plan = planStep(
      gradientsAsTensors(params),
      engine.limits.maxComputeWorkgroupsPerDimension ** 2,
    );
    this.results = engine.createBuffer('clipGradNorm/results', RESULT_SLOTS * 4);
    this.uniform = engine.createBuffer(
      'clipGradNorm/total',
      16,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
    const kernel = {
      label: 'clipGradNorm',
      states: [],
      fields: [],
      body: clipScale,
      normBody: clipNormPass,
      norms: 1,
      maximize: false,
      l2: false,
      grad: false,
    };
    this.launcher = new Launcher(
      engine,
      'clipGradNorm',
      plan,
      new Map([['', kernel]]),
      { states: new Map() },
      0,
      (scratch, normBase, tensors) => {
        this.slot.set([tensors, normBase]);
        const pipeline = engine.pipelines.get('clipGradNorm/total', clipTotal);
        const bindGroup = engine.device.createBindGroup({
          label: 'clipGradNorm/total',
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: this.uniform } },
            { binding: 1, resource: { buffer: scratch } },
            { binding: 2, resource: { buffer: this.results } },
          ],
        });
        return [{ pipeline, bindGroup, grid: [1, 1] }];
      },
    );
  }

  run(maxNorm: number): NormHandle {
    const slot = this.calls++ % RESULT_SLOTS;
    this.slot[2] = slot;
    new Float32Array(this.slot.buffer)[3] = maxNorm;
    this.engine.queue.writeBuffer(this.uniform, 0, this.slot);
    submit(this.engine, 'clipGradNorm', this.launcher);
    const engine = this.engine;
    const results = this.results;
    return {
      read: async () =>
        (await engine.readRuns([{ buffer: results, offset: slot, length: 1, start: 0 }], 1))[0]!,
    };
  }
}

function submit(engine: Engine, label: string, launcher: Launcher): void {
  engine.scoped(label, () => {
    const encoder = engine.device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass({ label });
    launcher.encode(pass);
    pass.end();
    engine.queue.submit([encoder.finish()]);
  });
}

/** Per engine: launches keyed by the parameter list, rebuilt when a parameter moved. */
const cache = new WeakMap<Engine, Map<string, { extents: Extent[][]; op: unknown }>>();
const ids = new WeakMap<Parameter, number>();
let nextId = 0;

function cached<T>(kind: string, params: Parameter[], build: (extents: Extent[][]) => T): T {
  const engine = params[0]!.engine;
  let map = cache.get(engine);
  if (!map) cache.set(engine, (map = new Map()));
  const key = kind + params.map((p) => ids.get(p) ?? (ids.set(p, nextId++), ids.get(p))).join(',');
  const hit = map.get(key);
  if (hit && hit.extents.every((e, i) => e === params[i]!.extents)) return hit.op as T;
  const extents = params.map((p) => p.extents);
  const op = build(extents);
  map.set(key, { extents, op });
  return op;
}

function checkParams(name: string, params: Parameter[]): Parameter[] {
  const list = [...params];
  if (list.length === 0) throw new RangeError(`${name}: expected at least one parameter`);
  for (const p of list) p.checkLive();
  if (list.some((p) => p.engine !== list[0]!.engine))
    throw new RangeError(`${name}: parameters belong to different engines`);
  list[0]!.engine.throwIfFailed();
  return list;
}

/**
 * Scales every gradient by min(1, maxNorm / (total + 1e-6)), total being the L2 norm over all
 * given gradients. Returns a handle whose `read()` gives the total norm (before clipping).
 */
export function clipGradNorm(params: Parameter[], maxNorm: number): NormHandle {
  const list = checkParams('clipGradNorm', params);
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const engine = list[0]!.engine;
  return cached('norm:', list, (extents) => new NormClipper(engine, extents, list)).run(maxNorm);
}

/** Clamps every gradient element to [-clipValue, clipValue]. */
export function clipGradValue(params: Parameter[], clipValue: number): void {
  const list = checkParams('clipGradValue', params);
  if (!(clipValue >= 0) || !Number.isFinite(clipValue))
    throw new RangeError(`clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  const engine = list[0]!.engine;
  const op = cached('value:', list, () => {
    const plan = planStep(
      gradientsAsTensors(list),
      engine.limits.maxComputeWorkgroupsPerDimension ** 2,
    );
    const kernel = {
      label: 'clipGradValue',
      states: [],
      fields: ['clipValue'],
      body: clipValueBody,
      maximize: false,
      l2: false,
      grad: false,
    };
    return {
      launcher: new Launcher(
        engine,
        'clipGradValue',
        plan,
        new Map([['', kernel]]),
        { states: new Map() },
        list.length,
      ),
      rows: new Float32Array(list.length),
    };
  });
  op.rows.fill(clipValue);
  op.launcher.writeRows(op.rows);
  submit(engine, 'clipGradValue', op.launcher);
}
