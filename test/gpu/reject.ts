/**
 * In-page side of the reliability tables: make one bad call, catch its error, and check that it
 * changed nothing, by running one more valid step on the touched objects and on an untouched
 * twin and comparing every bit of parameters and state.
 */
import { createEngine, type Engine } from '../../src/engine.ts';
import type { Parameter } from '../../src/parameter.ts';
import { optimizers, type OptimizerName } from '../../src/optimizers/registry.ts';
import { shapeFor } from './cases.ts';

/** One bad call: where it happens and what it passes. */
export type RejectCase =
  | { optimizer: OptimizerName; at: 'constructor'; options: unknown }
  | { optimizer: OptimizerName; at: 'group'; group: Record<string, unknown> }
  | { optimizer: OptimizerName; at: 'params'; params: ParamsKind }
  | { optimizer: OptimizerName; at: 'step'; step: StepKind };

/** Ways to pass the wrong parameter list. */
export type ParamsKind =
  | 'bare parameter'
  | 'Float32Array'
  | 'null'
  | 'string'
  | 'empty'
  | 'empty group'
  | 'group and parameter mixed'
  | 'two engines'
  | 'disposed';
/** Ways to make a step wrong. */
export type StepKind =
  'closure' | 'string' | 'typo in a group' | 'snake_case in a group' | 'negative lr in a group';

export interface RejectResult {
  error?: { name: string; message: string };
  /** Parameters and state of the touched objects equal the twin's after one more step. */
  identical: boolean;
  detail: string;
}

type AnyOptimizer = {
  step(encoder?: unknown): void;
  stateDict(): Promise<{ state: Record<number, Record<string, number | Float32Array>> }>;
  paramGroups: Array<Record<string, unknown>>;
  dispose(): void;
};
type OptimizerCtor = new (params: unknown, options?: unknown) => AnyOptimizer;

const VALUES = [0.5, -1.25, 2, 0.75, -0.125];
const GRAD = [0.25, 0.5, -1, 2, -0.75];

function validOptions(name: OptimizerName): Record<string, unknown> {
  return name === 'LARS' ? { lr: 0.1 } : {};
}

let shared: Promise<Engine> | undefined;
let other: Promise<Engine> | undefined;

async function bits(p: Parameter, opt: AnyOptimizer): Promise<string> {
  const sd = await opt.stateDict();
  const state = Object.values(sd.state).map((s) =>
    Object.entries(s).map(
      ([k, v]) => `${k}=${v instanceof Float32Array ? new Uint32Array(v.buffer).join(',') : v}`,
    ),
  );
  return `${new Uint32Array((await p.read()).buffer).join(',')} | ${JSON.stringify(state)}`;
}

export async function rejectTrial(c: RejectCase): Promise<RejectResult> {
  const engine = await (shared ??= createEngine());
  const Opt = optimizers[c.optimizer] as unknown as OptimizerCtor;
  const shape = shapeFor(c.optimizer, VALUES.length);
  const w = engine.parameter(Float32Array.from(VALUES), { shape });
  const twin = engine.parameter(Float32Array.from(VALUES), { shape });
  const extra: Array<{ dispose(): void }> = [w, twin];
  const caught = (f: () => unknown) => {
    try {
      f();
      return undefined;
    } catch (e) {
      return { name: (e as Error).name, message: (e as Error).message };
    }
  };
  let error: RejectResult['error'];
  let optW: AnyOptimizer | undefined;
  const optTwin = new Opt([twin], validOptions(c.optimizer));
  if (c.at === 'constructor') {
    error = caught(() => new Opt([w], c.options));
  } else if (c.at === 'group') {
    error = caught(() => new Opt([{ params: [w], ...c.group }], validOptions(c.optimizer)));
  } else if (c.at === 'params') {
    const params = await badParams(c.params, w, engine, extra);
    error = caught(() => new Opt(params, validOptions(c.optimizer)));
  } else {
    optW = new Opt([w], validOptions(c.optimizer));
    for (const [p, o] of [
      [w, optW],
      [twin, optTwin],
    ] as const) {
      p.grad.write(Float32Array.from(GRAD));
      o.step();
    }
    const group = optW.paramGroups[0]!;
    const saved = { ...group };
    if (c.step === 'closure') error = caught(() => optW!.step(() => 1));
    else if (c.step === 'string') error = caught(() => optW!.step('encoder'));
    else {
      if (c.step === 'typo in a group') group.lrr = 0.5;
      if (c.step === 'snake_case in a group') group.weight_decay = 0.5;
      if (c.step === 'negative lr in a group') group.lr = -1;
      error = caught(() => optW!.step());
      for (const k of Object.keys(group)) delete group[k];
      Object.assign(group, saved);
    }
  }
  optW ??= new Opt([w], validOptions(c.optimizer));
  for (const [p, o] of [
    [w, optW],
    [twin, optTwin],
  ] as const) {
    p.grad.write(Float32Array.from(GRAD));
    o.step();
  }
  const [a, b] = [await bits(w, optW), await bits(twin, optTwin)];
  optW.dispose();
  optTwin.dispose();
  for (const x of extra) x.dispose();
  await engine.sync();
  return { error, identical: a === b, detail: a === b ? '' : `touched: ${a}\ntwin:    ${b}` };
}

async function badParams(
  kind: ParamsKind,
  w: Parameter,
  engine: Engine,
  extra: Array<{ dispose(): void }>,
): Promise<unknown> {
  switch (kind) {
    case 'bare parameter':
      return w;
    case 'Float32Array':
      return [new Float32Array(4)];
    case 'null':
      return null;
    case 'string':
      return 'w';
    case 'empty':
      return [];
    case 'empty group':
      return [{ params: [w] }, { params: [] }];
    case 'group and parameter mixed':
      return [{ params: [w] }, w];
    case 'two engines': {
      const e2 = await (other ??= createEngine());
      const v = e2.parameter(new Float32Array([9, 8, 7]), { label: 'otherEngineParam' });
      extra.push(v);
      return [w, v];
    }
    case 'disposed': {
      const d = engine.parameter(3, { label: 'disposedParam' });
      d.dispose();
      return [w, d];
    }
  }
}
