/**
 * addParamGroup and stateOf on the GPU, independent of where they run (page or Node): one
 * optimizer steps group A, gains group B after `before` steps and steps `after` more; beside it a
 * twin that only ever has A, and one made with only B when B joined. A's tensors must match the
 * first twin bit for bit (parameters and state), B's the second, and stateOf(p) must equal the
 * stateDict() entry of every tensor. With skipNonFinite, some steps before the join are skipped
 * and still unconfirmed when B joins (no await in between).
 */
import { optimizers, optimizerSpecs, type OptimizerName } from '../../src/optimizers/registry.ts';
import type { Parameter } from '../../src/parameter.ts';
import { shapeFor, type EngineFor } from './cases.ts';
import { randomFloats } from './compare.ts';

export interface AddGroupCase {
  optimizer: OptimizerName;
  options: Record<string, unknown>;
  /** Options of the added group. */
  added: Record<string, unknown>;
  sizesA: number[];
  /** A as one group, or as one group per tensor (more counters than the padded buffer holds). */
  splitA?: boolean;
  sizesB: number[];
  before: number;
  after: number;
  skipNonFinite?: boolean;
  /** Steps (1-based, of the whole run) whose last gradient of A (and of B once joined) holds NaN. */
  nonFiniteSteps?: number[];
}

interface Opt {
  step(): void;
  addParamGroup(g: object): void;
  stateDict(): Promise<{ state: Record<number, Record<string, unknown>> }>;
  stateOf(p: Parameter): Promise<Record<string, unknown>>;
  skippedSteps(): Promise<number>;
  dispose(): void;
}

/** Differences found, as readable lines (empty: all equal). */
export async function runAddParamGroupCase(c: AddGroupCase, engineFor: EngineFor) {
  const engine = await engineFor();
  const Optimizer = optimizers[c.optimizer] as unknown as new (p: unknown, o: unknown) => Opt;
  const options = { ...c.options, ...(c.skipNonFinite ? { skipNonFinite: true } : {}) };
  const made: Parameter[] = [];
  const make = (sizes: number[], seed: number) =>
    sizes.map((n, k) => {
      const p = engine.parameter(randomFloats(n, seed + k), { shape: shapeFor(c.optimizer, n) });
      made.push(p);
      return p;
    });
  const [a, twinA] = [make(c.sizesA, 1), make(c.sizesA, 1)];
  const [b, twinB] = [make(c.sizesB, 50), make(c.sizesB, 50)];
  const groupsOf = (list: Parameter[]) =>
    c.splitA ? list.map((p) => ({ params: [p] })) : [{ params: list }];
  const opt = new Optimizer(groupsOf(a), options);
  const onlyA = new Optimizer(groupsOf(twinA), options);
  let onlyB: Opt | undefined;
  const problems: string[] = [];
  /** Gradients of group `g` (0: A, 1: B) at step t, the same for a group and its twin. */
  const gradients = (g: number, list: Parameter[], t: number) => {
    list.forEach((p, k) => {
      const grad = randomFloats(p.length, 1_000_003 * t + 7919 * k + 31 * g);
      if (c.nonFiniteSteps?.includes(t) && k === list.length - 1) grad[grad.length >> 1] = NaN;
      p.grad.write(grad);
    });
  };
  try {
    for (let t = 1; t <= c.before + c.after; t++) {
      const joined = t > c.before;
      if (t === c.before + 1) {
        opt.addParamGroup({ params: b, ...c.added });
        onlyB = new Optimizer([{ params: twinB, ...c.added }], options);
      }
      for (const list of [a, twinA]) gradients(0, list, t);
      if (joined) for (const list of [b, twinB]) gradients(1, list, t);
      opt.step();
      onlyA.step();
      onlyB?.step();
      // Two steps after the join the host learns the GPU's counts: the rows of the steps after
      // that are chosen from them (StepClock.window's lower bound), not only the upper bound.
      if (t === c.before + 2) await opt.skippedSteps();
    }
    const sd = await opt.stateDict();
    const sdA = await onlyA.stateDict();
    const sdB = await onlyB!.stateDict();
    const pairs: Array<[string, Parameter, Parameter, unknown, unknown]> = [
      ...a.map((p, i) => [`A${i}`, p, twinA[i]!, sd.state[i], sdA.state[i]] as const),
      ...b.map((p, i) => [`B${i}`, p, twinB[i]!, sd.state[a.length + i], sdB.state[i]] as const),
    ] as Array<[string, Parameter, Parameter, unknown, unknown]>;
    for (const [name, p, twin, state, twinState] of pairs) {
      const [got, want] = [await p.read(), await twin.read()];
      const diff = firstDifference(got, want);
      if (diff) problems.push(`${name} param: ${diff}`);
      const sdiff = stateDifference(state, twinState);
      if (sdiff) problems.push(`${name} state: ${sdiff}`);
      const viaStateOf = stateDifference(await opt.stateOf(p), state);
      if (viaStateOf) problems.push(`${name} stateOf vs stateDict: ${viaStateOf}`);
    }
    const groups = (sd as unknown as { paramGroups: Array<{ params: number[] }> }).paramGroups;
    const numbering = JSON.stringify(groups.map((g) => g.params));
    const numbersA = c.splitA ? a.map((_, i) => [i]) : [a.map((_, i) => i)];
    const expected = JSON.stringify([...numbersA, b.map((_, i) => a.length + i)]);
    if (numbering !== expected) problems.push(`paramGroups params ${numbering}, want ${expected}`);
  } finally {
    opt.dispose();
    onlyA.dispose();
    onlyB?.dispose();
    for (const p of made) p.dispose();
  }
  return problems;
}

function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): string | undefined {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) return `[${i}] ${got[i]} vs ${want[i]}`;
  }
  return undefined;
}

function stateDifference(got: unknown, want: unknown): string | undefined {
  const g = got as Record<string, unknown>;
  const w = want as Record<string, unknown>;
  const keys = (o: object) => Object.keys(o).sort().join(',');
  if (keys(g) !== keys(w)) return `names {${keys(g)}} vs {${keys(w)}}`;
  for (const k of Object.keys(w)) {
    const [x, y] = [g[k], w[k]];
    if (x instanceof Float32Array && y instanceof Float32Array) {
      const d = firstDifference(x, y);
      if (d) return `${k}${d}`;
    } else if (!Object.is(x, y)) return `${k} ${String(x)} vs ${String(y)}`;
  }
  return undefined;
}

/** One case per optimizer (its last test options), plain and with skipped unconfirmed steps. */
export function addGroupCases(): Array<{ title: string; c: AddGroupCase }> {
  return (Object.keys(optimizerSpecs) as OptimizerName[]).flatMap((name) => {
    const spec = optimizerSpecs[name];
    const options = spec.testOptions[spec.testOptions.length - 1] as Record<string, unknown>;
    const lr = typeof options.lr === 'number' ? options.lr : 0.01;
    const base = {
      optimizer: name,
      options,
      added: { lr: lr / 2 },
      sizesA: [300, 7],
      sizesB: [1000, 5],
      before: 3,
      after: 4,
    };
    return [
      { title: `${name} ${JSON.stringify(options)}`, c: base },
      {
        title: `${name} skipNonFinite, NaN at steps 2, 3 (unconfirmed when B joins) and 5, A in two groups`,
        c: { ...base, skipNonFinite: true, nonFiniteSteps: [2, 3, 5], splitA: true },
      },
    ];
  });
}
