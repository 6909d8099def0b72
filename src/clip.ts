import { clipNormPass, clipScale, clipTotal, clipValueBody } from '../shaders/clip.wgsl.ts';
import { CLIP_TOTAL } from '../shaders/layout.ts';
import type { Engine, Releasable } from './engine.ts';
import { Launcher } from './launcher.ts';
import { Parameter, type Extent } from './parameter.ts';
import { planStep } from './plan.ts';
import { COPY_DST, UNIFORM } from './usage.ts';
import { describe } from './validate.ts';

/**
 * Gradient clipping on the GPU, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (applied
 * before the optimizer step; the queue keeps them in order). Nothing is read back; the launches
 * for a given list of parameters are built once and reused.
 */

/** The total norm of a clipGradNorm call; `read()` maps it back, whenever it is called. */
export interface NormHandle {
  read(): Promise<number>;
}

/** Result slots a clipper cycles through; an unread handle's value is copied out before reuse. */
const RESULT_SLOTS = 64;

/** The gradients of `params` seen as parameters, so the generic kernels can update them. */
function gradientsAsTensors(params: Parameter[]) {
  return params.map((p) => ({
    extents: p.extents.map((e): Extent => ({ ...e, param: e.grad, paramOffset: e.gradOffset })),
    padded: p.ownership !== 'caller',
    variant: '',
  }));
}

/** One call's total norm: in the clipper's result slot, or copied out of it before its reuse. */
class Norm implements NormHandle {
  private value: Promise<number> | undefined;
  /** Own copy of the value, once the slot was needed again before read(). */
  spilled: GPUBuffer | undefined;

  constructor(
    private readonly clipper: NormClipper,
    readonly slot: number,
  ) {}

  get pending(): boolean {
    return this.value === undefined;
  }

  read(): Promise<number> {
    this.value ??= this.clipper.readNorm(this);
    return this.value;
  }
}

class NormClipper {
  readonly launcher: Launcher;
  readonly results: GPUBuffer;
  private readonly uniform: GPUBuffer;
  /** The total kernel's uniform (CLIP_TOTAL). */
  private readonly total = { tensorCount: 0, normBase: 0, slot: 0, maxNorm: 0 };
  private calls = 0;
  /** The handle whose value each result slot holds (weakly: a dropped handle needs nothing). */
  private readonly owners: Array<WeakRef<Norm> | undefined> = [];
  private readonly spills = new Set<GPUBuffer>();

  constructor(
    readonly engine: Engine,
    readonly extents: Extent[][],
    params: Parameter[],
  ) {
    const plan = planStep(
      gradientsAsTensors(params),
      engine.limits.maxComputeWorkgroupsPerDimension ** 2,
      false,
      true, // tiny gradients one per invocation
    );
    this.results = engine.createBuffer('clipGradNorm/results', RESULT_SLOTS * 4);
    this.uniform = engine.createBuffer('clipGradNorm/total', 16, UNIFORM | COPY_DST);
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
      { rowWords: 0, ring: 1 },
      (scratch, normBase, tensors) => {
        this.total.tensorCount = tensors;
        this.total.normBase = normBase;
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
    this.total.slot = slot;
    this.total.maxNorm = maxNorm;
    const previous = this.owners[slot]?.deref();
    submit(this.engine, 'clipGradNorm', this.launcher, (encoder) => {
      // An unread handle keeps its own value: copy it out of the slot this call overwrites.
      if (previous?.pending) {
        previous.spilled = this.engine.createBuffer('clipGradNorm/kept', 16);
        this.spills.add(previous.spilled);
        encoder.copyBufferToBuffer(this.results, slot * 4, previous.spilled, 0, 4);
      }
      this.engine.queue.writeBuffer(this.uniform, 0, CLIP_TOTAL.pack(this.total));
    });
    const handle = new Norm(this, slot);
    this.owners[slot] = new WeakRef(handle);
    return handle;
  }

  async readNorm(norm: Norm): Promise<number> {
    const spilled = norm.spilled;
    const buffer = spilled ?? this.results;
    try {
      return (
        await this.engine.readRuns(
          [{ buffer, offset: spilled ? 0 : norm.slot, length: 1, start: 0 }],
          1,
        )
      )[0]!;
    } finally {
      if (spilled) {
        spilled.destroy();
        this.spills.delete(spilled);
      }
    }
  }

  destroy(): void {
    this.launcher.destroy();
    this.results.destroy();
    this.uniform.destroy();
    for (const b of this.spills) b.destroy();
    this.spills.clear();
  }
}

/** Encodes `launcher` (after `before`, which may record copies and writes) and submits it. */
function submit(
  engine: Engine,
  label: string,
  launcher: Launcher,
  before?: (encoder: GPUCommandEncoder) => void,
): void {
  engine.scoped(label, () => {
    const encoder = engine.device.createCommandEncoder({ label });
    before?.(encoder);
    const pass = encoder.beginComputePass({ label });
    launcher.encode(pass);
    pass.end();
    engine.queue.submit([encoder.finish()]);
  });
}

const ids = new WeakMap<Parameter, number>();
let nextId = 0;

/** Launches for a list of parameters, cached by the engine until one of them is disposed or moves. */
function cached<T extends Releasable>(kind: string, params: Parameter[], build: () => T): T {
  const engine = params[0]!.engine;
  const key = kind + params.map((p) => ids.get(p) ?? (ids.set(p, nextId++), ids.get(p))).join(',');
  const extents = params.map((p) => p.extents);
  return engine.cached(
    key,
    params,
    (op) => (op as T & { extents: Extent[][] }).extents.every((e, i) => e === extents[i]),
    () => Object.assign(build(), { extents }),
  );
}

function checkParams(name: string, params: Parameter[]): Parameter[] {
  if (!Array.isArray(params)) {
    throw new TypeError(`${name}: expected an array of Parameters, got ${describe(params)}`);
  }
  const list = [...params];
  if (list.length === 0) throw new RangeError(`${name}: expected at least one parameter`);
  list.forEach((p, i) => {
    if (!(p instanceof Parameter))
      throw new TypeError(`${name}: params[${i}] must be a Parameter, got ${describe(p)}`);
    p.checkLive();
  });
  if (new Set(list).size !== list.length)
    throw new RangeError(`${name}: a parameter appears more than once`);
  const other = list.find((p) => p.engine !== list[0]!.engine);
  if (other)
    throw new RangeError(
      `${name}: ${list[0]!.label} and ${other.label} belong to different engines`,
    );
  list[0]!.engine.throwIfFailed();
  return list;
}

/**
 * Scales every gradient by min(1, maxNorm / (total + 1e-6)), total being the L2 norm over all
 * given gradients. Returns a handle whose `read()` gives the total norm (before clipping).
 */
export function clipGradNorm(params: Parameter[], maxNorm: number): NormHandle {
  const list = checkParams('clipGradNorm', params);
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new RangeError(
      `clipGradNorm: maxNorm must be a finite number > 0, got ${describe(maxNorm)}`,
    );
  const engine = list[0]!.engine;
  return engine.scoped('clipGradNorm', () =>
    cached(
      'norm:',
      list,
      () =>
        new NormClipper(
          engine,
          list.map((p) => p.extents),
          list,
        ),
    ).run(maxNorm),
  );
}

/** Clamps every gradient element to [-clipValue, clipValue]. */
export function clipGradValue(params: Parameter[], clipValue: number): void {
  const list = checkParams('clipGradValue', params);
  if (typeof clipValue !== 'number' || !(clipValue >= 0) || !Number.isFinite(clipValue))
    throw new RangeError(
      `clipGradValue: clipValue must be a finite number >= 0, got ${describe(clipValue)}`,
    );
  const engine = list[0]!.engine;
  const op = engine.scoped('clipGradValue', () =>
    cached('value:', list, () => {
      const plan = planStep(
        gradientsAsTensors(list),
        engine.limits.maxComputeWorkgroupsPerDimension ** 2,
        false,
        true,
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
      const launcher = new Launcher(
        engine,
        'clipGradValue',
        plan,
        new Map([['', kernel]]),
        { states: new Map() },
        { rowWords: list.length, ring: 1 },
      );
      return { launcher, rows: new Float32Array(list.length), destroy: () => launcher.destroy() };
    }),
  );
  op.rows.fill(clipValue);
  engine.scoped('clipGradValue', () => op.launcher.writeRows(op.rows));
  submit(engine, 'clipGradValue', op.launcher);
}
