import { beforeAll, describe, expect, it } from 'vitest';
import { useHarnessPage } from './browser.ts';

/**
 * Checkpoints never fail silently: every invalid state dict and every malformed checkpoint file
 * (tables below, crossed with several optimizers, as torch's optim_error_inputs_func) is refused
 * with a clear error, and the optimizer it was loaded into is bit-identical, parameters and state,
 * to an untouched twin after one more step. Valid checkpoints round-trip bit-exactly: stateDict
 * through JSON, saveCheckpoint/loadCheckpoint into fresh parameters, many tiny tensors.
 */

const harnessPage = useHarnessPage();

/** Optimizers crossed with the tables; state names as in shared/CONVENTIONS.md. */
const OPTIMIZERS = {
  Adam: { options: { lr: 0.01 }, buffer: 'expAvg', moment: 'expAvgSq', other: 'AdamW' },
  AdamW: {
    options: { lr: 0.01, weightDecay: 0.1 },
    buffer: 'expAvg',
    moment: 'expAvgSq',
    other: 'Adam',
  },
  SGD: { options: { lr: 0.1, momentum: 0.9 }, buffer: 'momentumBuffer', other: 'Adam' },
  NAdam: {
    options: { lr: 0.01 },
    buffer: 'expAvg',
    moment: 'expAvgSq',
    host: 'muProduct',
    other: 'Adam',
  },
  Adagrad: { options: { lr: 0.1 }, buffer: 'sum', moment: 'sum', other: 'RMSprop' },
} as const;
type Name = keyof typeof OPTIMIZERS;
type Info = { options: object; buffer: string; moment?: string; host?: string; other: string };
const info = (name: Name): Info => OPTIMIZERS[name];
const NAMES = Object.keys(OPTIMIZERS) as Name[];

/** Sizes of the tensors, in two groups ([0, 1] and [2], the second with its own lr). */
const SIZES = [5, 7, 3];

/**
 * A corruption: set (or with `value` absent, delete) the value at `path`; path tokens `$buffer`,
 * `$moment`, `$host` stand for the optimizer's state names, `$other` as a value for another
 * optimizer kind. Special values travel as { $number: 'NaN' } and { $f32: length }.
 */
type Op = { path: Array<string | number>; value?: unknown; copy?: Array<string | number> };
type Expected = [errorName: string, message: RegExp];
interface DictCase {
  name: string;
  ops: Op[];
  error: Expected;
  only?: Name[];
}

const NaNv = { $number: 'NaN' };
const Inf = { $number: 'Infinity' };

const dictCases: DictCase[] = [
  {
    name: 'another optimizer kind',
    ops: [{ path: ['optimizer'], value: '$other' }],
    error: ['TypeError', /the dict is from \w+, not \w+; the update rules and state differ/],
  },
  {
    name: 'no optimizer kind',
    ops: [{ path: ['optimizer'] }],
    error: ['TypeError', /does not say which optimizer wrote it/],
  },
  {
    name: 'not an object',
    ops: [{ path: [], value: null }],
    error: [
      'TypeError',
      /expected \{ optimizer, state, paramGroups \} as stateDict\(\) returns, got null/,
    ],
  },
  {
    name: 'an unknown top-level field',
    ops: [{ path: ['extra'], value: 1 }],
    error: ['TypeError', /unknown field 'extra'/],
  },
  {
    name: 'negative step',
    ops: [{ path: ['state', 0, 'step'], value: -1 }],
    error: ['RangeError', /step of parameter 0 must be a non-negative integer, got -1$/],
  },
  {
    name: 'fractional step',
    ops: [{ path: ['state', 1, 'step'], value: 2.5 }],
    error: ['RangeError', /step of parameter 1 must be a non-negative integer, got 2.5$/],
  },
  {
    name: 'NaN step',
    ops: [{ path: ['state', 0, 'step'], value: NaNv }],
    error: ['RangeError', /must be a non-negative integer, got NaN$/],
  },
  {
    name: 'string step',
    ops: [{ path: ['state', 0, 'step'], value: '3' }],
    error: ['RangeError', /must be a non-negative integer, got string '3'$/],
  },
  {
    name: 'no step',
    ops: [{ path: ['state', 2, 'step'] }],
    error: ['RangeError', /state of parameter 2 has no 'step'/],
  },
  {
    name: 'NaN in a state buffer',
    ops: [{ path: ['state', 0, '$buffer', 1], value: NaNv }],
    error: ['RangeError', /state '\w+' of parameter 0 must be finite.*, got NaN at index 1$/],
  },
  {
    name: 'Inf in a state buffer',
    ops: [{ path: ['state', 2, '$buffer', 0], value: Inf }],
    error: ['RangeError', /of parameter 2 must be finite.*, got Infinity at index 0$/],
  },
  {
    name: 'a negative second moment',
    ops: [{ path: ['state', 1, '$moment', 2], value: -1 }],
    error: [
      'RangeError',
      /state '(expAvgSq|sum)' of parameter 1 must be finite and >= 0, got -1 at index 2$/,
    ],
  },
  {
    name: 'a state buffer missing after steps',
    ops: [{ path: ['state', 0, '$buffer'] }],
    error: ['RangeError', /parameter 0 is at step \d+ but has no state '\w+' .*never reset/],
  },
  {
    name: 'a state buffer of the wrong length',
    ops: [{ path: ['state', 0, '$buffer'], value: { $f32: 2 } }],
    error: [
      'RangeError',
      /state '\w+' of parameter 0 must be a Float32Array of length 5 .*got Float32Array\(2\)/,
    ],
  },
  {
    name: 'a state buffer of the wrong type',
    ops: [{ path: ['state', 0, '$buffer'], value: 'abc' }],
    error: [
      'RangeError',
      /must be a Float32Array of length 5 \(or a number array, or the index object JSON.stringify makes of one\), got string 'abc'/,
    ],
  },
  {
    name: 'a state buffer as a Float64Array',
    ops: [{ path: ['state', 0, '$buffer'], value: { $f64: 5 } }],
    error: ['RangeError', /must be a Float32Array of length 5 .*got Float64Array\(5\)/],
  },
  {
    name: 'a state name the optimizer does not keep',
    ops: [{ path: ['state', 0, 'foo'], value: { $f32: 5 } }],
    error: ['RangeError', /parameter 0 has state 'foo', which \w+ does not use/],
  },
  {
    name: 'state for a parameter that does not exist',
    ops: [{ path: ['state', 7], value: { step: 1 } }],
    error: ['RangeError', /state for parameter 7, which does not exist/],
  },
  {
    name: 'a scalar state missing',
    ops: [{ path: ['state', 0, '$host'] }],
    error: ['RangeError', /has no state 'muProduct'/],
    only: ['NAdam'],
  },
  {
    name: 'a NaN scalar state',
    ops: [{ path: ['state', 0, '$host'], value: NaNv }],
    error: ['RangeError', /state 'muProduct' of parameter 0 must be a finite number, got NaN/],
    only: ['NAdam'],
  },
  {
    name: 'a group without one of its options',
    ops: [{ path: ['paramGroups', 0, 'lr'] }],
    error: ['TypeError', /group 0 has no option 'lr' .*none is reset to a default/],
  },
  {
    name: 'a group with an unknown option',
    ops: [{ path: ['paramGroups', 1, 'weight_decay'], value: 0.1 }],
    error: ['TypeError', /group 1: unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/],
  },
  {
    name: 'a bad option value',
    ops: [{ path: ['paramGroups', 1, 'lr'], value: -1 }],
    error: ['RangeError', /lr must be >= 0, got -1/],
  },
  {
    name: 'one group too many',
    ops: [{ path: ['paramGroups', 2], copy: ['paramGroups', 1] }],
    error: ['RangeError', /3 param groups, expected 2/],
  },
  {
    name: 'a group with too few params',
    ops: [{ path: ['paramGroups', 0, 'params'], value: [0] }],
    error: ['RangeError', /group 0 has 1 params, expected 2/],
  },
  {
    name: 'params numbered otherwise',
    ops: [{ path: ['paramGroups', 1, 'params'], value: [0] }],
    error: ['RangeError', /group 1 has params \[0\], expected \[2\]/],
  },
  {
    name: 'amsgrad on without maxExpAvgSq',
    ops: [{ path: ['paramGroups', 0, 'amsgrad'], value: true }],
    error: ['RangeError', /parameter 0 is at step \d+ but has no state 'maxExpAvgSq'/],
    only: ['Adam', 'AdamW'],
  },
  {
    name: 'momentum 0 with a momentum buffer',
    ops: [{ path: ['paramGroups', 0, 'momentum'], value: 0 }],
    error: ['RangeError', /parameter 0 has state 'momentumBuffer', which SGD does not use/],
    only: ['SGD'],
  },
];

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Resolves the $tokens of a case for one optimizer; undefined when the case does not apply. */
function resolve(ops: Op[], name: Name, snakeNames = false): Op[] | undefined {
  const i = info(name);
  const tokens: Record<string, string | undefined> = {
    $buffer: i.buffer,
    $moment: i.moment,
    $host: i.host,
    $other: i.other,
  };
  const sub = (v: unknown): unknown => {
    if (typeof v !== 'string') return v;
    return v.replace(/\$(buffer|moment|host|other)/g, (t) => {
      const s = tokens[t];
      if (s === undefined) throw new Error('n/a');
      return snakeNames ? snake(s) : s;
    });
  };
  try {
    return ops.map((op) => ({
      ...op,
      path: op.path.map((p) => sub(p) as string | number),
      ...('value' in op ? { value: sub(op.value) } : {}),
      ...(op.copy ? { copy: op.copy.map((p) => sub(p) as string | number) } : {}),
    }));
  } catch {
    return undefined;
  }
}

interface Outcome {
  error: string;
  /** Empty when the loaded-into optimizer and its twin agree bit for bit after one more step. */
  diff: string;
}

/**
 * In the page: optimizer A and its twin B over equal parameters, 3 steps each; for each case,
 * `attempt(A)` (which must throw), then one more step on both and a bitwise comparison.
 */
async function probe(
  name: Name,
  kind: 'dict' | 'file',
  cases: Array<{ ops?: Op[]; file?: FileCase['file'] }>,
): Promise<Outcome[]> {
  return harnessPage().evaluate(
    async (name, options, sizes, kind, cases) => {
      const api = window.webgpuOptim;
      const { createEngine, optimizers, saveCheckpoint, loadCheckpoint } = api;
      const engine = await createEngine();
      const grad = (t: number, n: number, k: number) =>
        Float32Array.from({ length: n }, (_, i) => Math.cos(i * t + k) * (k + 1));
      const build = (opts: object = options, ns: number[] = sizes, kindName: string = name) => {
        const ws = ns.map((n, k) =>
          engine.parameter(Float32Array.from({ length: n }, (_, i) => Math.sin(i + k))),
        );
        const O = optimizers[kindName as 'Adam'] as unknown as new (
          p: unknown,
          o: unknown,
        ) => InstanceType<typeof api.Adam>;
        const lr = kindName === name ? { lr: 0.05 } : {};
        const opt = new O([{ params: [ws[0], ws[1]] }, { params: [ws[2]], ...lr }], opts);
        return { ws, opt };
      };
      const stepAll = (sets: Array<ReturnType<typeof build>>, t: number) => {
        for (const s of sets) {
          s.ws.forEach((w, k) => w.grad.write(grad(t, w.length, k)));
          s.opt.step();
        }
      };
      const hex = (v: number) => {
        const b = new Uint32Array(new Float32Array([v]).buffer)[0]!;
        return `0x${b.toString(16).padStart(8, '0')} (${v})`;
      };
      const compare = async (a: ReturnType<typeof build>, b: ReturnType<typeof build>) => {
        for (let k = 0; k < a.ws.length; k++) {
          const [x, y] = [await a.ws[k]!.read(), await b.ws[k]!.read()];
          const i = x.findIndex((v, i) => !Object.is(v, y[i]));
          if (i >= 0) return `param ${k}[${i}]: ${hex(x[i]!)} vs twin ${hex(y[i]!)}`;
        }
        const [sa, sb] = [await a.opt.stateDict(), await b.opt.stateDict()];
        if (JSON.stringify(sa.paramGroups) !== JSON.stringify(sb.paramGroups))
          return `paramGroups: ${JSON.stringify(sa.paramGroups)} vs twin ${JSON.stringify(sb.paramGroups)}`;
        for (const [k, entry] of Object.entries(sa.state)) {
          const other = sb.state[Number(k)]!;
          if (Object.keys(entry).sort().join() !== Object.keys(other).sort().join())
            return `state ${k} names: ${Object.keys(entry)} vs twin ${Object.keys(other)}`;
          for (const [field, v] of Object.entries(entry)) {
            const w = other[field]!;
            if (typeof v === 'number') {
              if (!Object.is(v, w)) return `state ${k}.${field}: ${v} vs twin ${w}`;
              continue;
            }
            const i = v.findIndex((e, i) => !Object.is(e, (w as Float32Array)[i]));
            if (i >= 0)
              return `state ${k}.${field}[${i}]: ${hex(v[i]!)} vs twin ${hex((w as Float32Array)[i]!)}`;
          }
        }
        return '';
      };
      const value = (v: unknown): unknown => {
        if (v && typeof v === 'object' && '$number' in v)
          return Number((v as { $number: string }).$number);
        if (v && typeof v === 'object' && '$f64' in v)
          return new Float64Array((v as { $f64: number }).$f64);
        if (v && typeof v === 'object' && '$f32' in v)
          return new Float32Array((v as { $f32: number }).$f32);
        return v;
      };
      // Applies ops to `root`; path [] replaces the root.
      type Node = Record<string | number, unknown>;
      const at = (root: unknown, path: Array<string | number>) =>
        path.reduce((o: Node, k) => o[k] as Node, root as Node);
      const apply = (root: unknown, ops: Op[]): unknown => {
        for (const op of ops) {
          const v = op.copy ? structuredClone(at(root, op.copy)) : value(op.value);
          if (op.path.length === 0) {
            root = v;
            continue;
          }
          const parent = at(root, op.path.slice(0, -1));
          const last = op.path[op.path.length - 1]!;
          if ('value' in op || op.copy) parent[last] = v;
          else delete parent[last];
        }
        return root;
      };
      // Rewrites a safetensors file's header (same data bytes), or its raw bytes.
      const rewrite = (bytes: Uint8Array, f: NonNullable<FileCase['file']>): unknown => {
        if (f.notBytes) return 'not bytes';
        let out = bytes;
        if (f.header || f.headerText !== undefined) {
          const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
          const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
          const text = f.headerText ?? JSON.stringify(apply(header, f.header!));
          const json = new TextEncoder().encode(text);
          const data = bytes.subarray(8 + n);
          out = new Uint8Array(8 + json.length + data.length);
          new DataView(out.buffer).setUint32(0, json.length, true);
          out.set(json, 8);
          out.set(data, 8 + json.length);
        }
        if (f.poke) {
          const n = new DataView(out.buffer, out.byteOffset).getUint32(0, true);
          const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + n)));
          const at = 8 + n + header[f.poke.tensor].data_offsets[0] + 4 * f.poke.index;
          out = out.slice();
          new DataView(out.buffer).setFloat32(at, Number(f.poke.value), true);
        }
        if (f.headerLength !== undefined) {
          out = out.slice();
          new DataView(out.buffer).setUint32(0, f.headerLength, true);
        }
        if (f.truncate !== undefined)
          out = out.slice(0, f.truncate < 0 ? out.length + f.truncate : f.truncate);
        if (f.append) {
          const longer = new Uint8Array(out.length + f.append);
          longer.set(out);
          out = longer;
        }
        return out;
      };

      const a = build();
      const b = build();
      let t = 1;
      for (; t <= 3; t++) stepAll([a, b], t);
      const outcomes: Outcome[] = [];
      for (const c of cases) {
        let error = 'no error';
        try {
          if (kind === 'dict') {
            a.opt.loadStateDict(apply(await a.opt.stateDict(), c.ops!) as never);
          } else {
            const f = c.file!;
            let source = a;
            if (f.from) source = build({}, sizes, f.from);
            else if (f.sizes) source = build(options, f.sizes);
            if (source !== a) stepAll([source], 1);
            const bytes = await saveCheckpoint(source.opt, { params: true });
            await loadCheckpoint(a.opt, rewrite(bytes, f) as Uint8Array);
          }
        } catch (e) {
          error = `${(e as Error).name}: ${(e as Error).message}`;
        }
        stepAll([a, b], t++);
        outcomes.push({ error, diff: await compare(a, b) });
      }
      await engine.sync();
      engine.dispose();
      return outcomes;
    },
    name,
    info(name).options,
    SIZES,
    kind,
    cases,
  );
}

function checkOutcome(r: Outcome, [errorName, message]: Expected): void {
  expect(r.error, 'the error thrown').toMatch(new RegExp(`^${errorName}: `));
  expect(r.error, 'the error thrown').toMatch(message);
  expect(r.diff, 'after one more step, the optimizer and its untouched twin differ at').toBe('');
}

describe.each(NAMES)('%s: invalid state dicts are refused and change nothing', (name) => {
  const cases = dictCases
    .filter((c) => !c.only || c.only.includes(name))
    .flatMap((c) => {
      const ops = resolve(c.ops, name);
      return ops ? [{ ...c, ops }] : [];
    });
  let outcomes: Outcome[] = [];
  beforeAll(async () => {
    outcomes = await probe(name, 'dict', cases);
  });
  it.each(cases.map((c, k) => [c.name, k] as const))('%s', (_, k) => {
    checkOutcome(outcomes[k]!, cases[k]!.error);
  });
});

/** A malformed checkpoint file: how to make it from a valid saveCheckpoint() of A. */
interface FileCase {
  name: string;
  file: {
    truncate?: number;
    headerLength?: number;
    headerText?: string;
    header?: Op[];
    append?: number;
    poke?: { tensor: string; index: number; value: number | string };
    from?: string;
    sizes?: number[];
    notBytes?: boolean;
  };
  error: Expected;
  only?: Name[];
}

const fileCases: FileCase[] = [
  {
    name: 'not bytes',
    file: { notBytes: true },
    error: ['TypeError', /expected the bytes of a file \(a Uint8Array\), got string/],
  },
  {
    name: 'truncated to 4 bytes',
    file: { truncate: 4 },
    error: ['SafetensorsError', /the file has 4 bytes, too short/],
  },
  {
    name: 'truncated in the header',
    file: { truncate: 40 },
    error: ['SafetensorsError', /header length \d+ runs past the end of the 40-byte file/],
  },
  {
    name: 'truncated in the data',
    file: { truncate: -4 },
    error: ['SafetensorsError', /data_offsets \[\d+, \d+\] beyond the \d+ data bytes/],
  },
  {
    name: 'header length beyond the file',
    file: { headerLength: 1_000_000 },
    error: ['SafetensorsError', /header length 1000000 runs past the end/],
  },
  {
    name: 'header not JSON',
    file: { headerText: '{"state.0.step": ' },
    error: ['SafetensorsError', /the header is not valid JSON/],
  },
  {
    name: 'trailing bytes',
    file: { append: 8 },
    error: ['SafetensorsError', /data bytes \[\d+, \d+\) belong to no tensor/],
  },
  {
    name: 'a foreign file without our metadata',
    file: { header: [{ path: ['__metadata__'] }] },
    error: ['TypeError', /not a webgpu-optim checkpoint .*metadata keys: none/],
  },
  {
    name: 'an unknown checkpoint version',
    file: { header: [{ path: ['__metadata__', 'version'], value: '2' }] },
    error: ['RangeError', /checkpoint version string '2', this engine reads version 1/],
  },
  {
    name: 'the optimizer kind renamed',
    file: { header: [{ path: ['__metadata__', 'optimizer'], value: '$other' }] },
    error: ['TypeError', /the checkpoint is from \w+, not \w+; the update rules and state differ/],
  },
  {
    name: 'a checkpoint of another optimizer',
    file: { from: '$other' },
    error: ['TypeError', /the checkpoint is from \w+, not \w+/],
  },
  {
    name: 'paramGroups not JSON',
    file: { header: [{ path: ['__metadata__', 'paramGroups'], value: '[{' }] },
    error: ['TypeError', /__metadata__.paramGroups is not valid JSON/],
  },
  {
    name: 'a group option corrupted',
    file: {
      header: [
        { path: ['__metadata__', 'paramGroups'], value: '[{"params":[0,1]},{"params":[2]}]' },
      ],
    },
    error: ['TypeError', /group 0 has no option/],
  },
  {
    name: 'the params flag wrong',
    file: { header: [{ path: ['__metadata__', 'params'], value: 'false' }] },
    error: ['RangeError', /says it holds no parameters but has 3/],
  },
  {
    name: 'a wrong dtype of the same size',
    file: { header: [{ path: ['state.0.$buffer', 'dtype'], value: 'I32' }] },
    error: ['TypeError', /tensor 'state.0.\w+' is I32, expected F32/],
  },
  {
    name: 'a dtype that does not match the size',
    file: { header: [{ path: ['params.0', 'dtype'], value: 'F16' }] },
    error: ['SafetensorsError', /tensor 'params.0' \(F16, shape \[5\]\) needs 10 bytes/],
  },
  {
    name: 'data offsets out of range',
    file: { header: [{ path: ['params.1', 'data_offsets', 1], value: 1e9 }] },
    error: ['SafetensorsError', /tensor 'params.1' has data_offsets \[\d+, 1000000000\] beyond/],
  },
  {
    name: 'overlapping tensors',
    file: {
      header: [{ path: ['state.1.step', 'data_offsets'], copy: ['state.0.step', 'data_offsets'] }],
    },
    error: ['SafetensorsError', /overlaps/],
  },
  {
    name: 'a tensor of the wrong shape',
    file: { header: [{ path: ['state.0.step', 'shape'], value: [1] }] },
    error: ['RangeError', /tensor 'state.0.step' has shape \[1\], expected \[\]/],
  },
  {
    name: 'an unexpected tensor name',
    file: {
      header: [{ path: ['state.0.stepCount'], copy: ['state.0.step'] }, { path: ['state.0.step'] }],
    },
    error: ['TypeError', /unexpected tensor 'state.0.stepCount'/],
  },
  {
    name: 'tensors of the wrong size',
    file: { sizes: [5, 7, 4] },
    error: ['RangeError', /tensor '(state.2.\w+|params.2)' has shape \[4\], expected \[3\]/],
  },
  {
    name: 'NaN in the saved state',
    file: { poke: { tensor: 'state.1.$buffer', index: 2, value: 'NaN' } },
    error: [
      'RangeError',
      /loadCheckpoint: state '\w+' of parameter 1 must be finite.*got NaN at index 2/,
    ],
  },
  {
    name: 'a negative second moment in the file',
    file: { poke: { tensor: 'state.0.$moment', index: 0, value: -2 } },
    error: ['RangeError', /must be finite and >= 0, got -2 at index 0/],
  },
];

function resolveFile(c: FileCase, name: Name): FileCase | undefined {
  const f = c.file;
  const header = f.header ? resolve(f.header, name, true) : undefined;
  if (f.header && !header) return undefined;
  const poke = f.poke && resolve([{ path: [f.poke.tensor] }], name, true);
  if (f.poke && !poke) return undefined;
  const from = f.from && resolve([{ path: [], value: f.from }], name)?.[0]!.value;
  return {
    ...c,
    file: {
      ...f,
      ...(header ? { header } : {}),
      ...(poke ? { poke: { ...f.poke!, tensor: poke[0]!.path[0] as string } } : {}),
      ...(from ? { from: from as string } : {}),
    },
  };
}

describe.each(NAMES)('%s: malformed checkpoint files are refused and change nothing', (name) => {
  const cases = fileCases
    .filter((c) => !c.only || c.only.includes(name))
    .flatMap((c) => {
      const r = resolveFile(c, name);
      return r ? [r] : [];
    });
  let outcomes: Outcome[] = [];
  beforeAll(async () => {
    outcomes = await probe(name, 'file', cases);
  });
  it.each(cases.map((c, k) => [c.name, k] as const))('%s', (_, k) => {
    checkOutcome(outcomes[k]!, cases[k]!.error);
  });
});

/** Optimizers and options whose checkpoints must round-trip (every state kind at least once). */
const ROUND_TRIPS: Array<[string, object]> = [
  ['Adam', { lr: 0.01, amsgrad: true }],
  ['AdamW', { lr: 0.01, weightDecay: 0.1 }],
  ['SGD', { lr: 0.1, momentum: 0.9, nesterov: true }],
  ['SGD', { lr: 0.1 }],
  ['NAdam', { lr: 0.01, momentumDecay: 0.1 }],
  ['Adagrad', { lr: 0.1, initialAccumulatorValue: 0.5, lrDecay: 0.01 }],
  ['RMSprop', { lr: 0.01, centered: true, momentum: 0.9 }],
  ['Adadelta', { lr: 1 }],
  ['Adamax', { lr: 0.01 }],
  ['LAMB', { lr: 0.01 }],
];

describe('valid checkpoints round-trip bit-exactly', () => {
  it.each(ROUND_TRIPS)(
    '%s %j: saveCheckpoint -> loadCheckpoint into fresh parameters, stateDict through JSON',
    async (name, options) => {
      const r = await harnessPage().evaluate(
        async (name, options, sizes) => {
          const api = window.webgpuOptim;
          const { createEngine, optimizers, saveCheckpoint, loadCheckpoint } = api;
          const engine = await createEngine();
          const O = optimizers[name as 'Adam'] as unknown as new (
            p: unknown,
            o: unknown,
          ) => InstanceType<typeof api.Adam>;
          const grad = (t: number, n: number, k: number) =>
            Float32Array.from({ length: n }, (_, i) => Math.cos(i * t + k) * (k + 1));
          const make = (ws: InstanceType<typeof api.Parameter>[], opts: object) => ({
            ws,
            opt: new O([{ params: [ws[0], ws[1]] }, { params: [ws[2]], lr: 0.05 }], opts),
          });
          type Run = ReturnType<typeof make>;
          const stepAll = (runs: Run[], t: number) => {
            for (const s of runs) {
              s.ws.forEach((w, k) => w.grad.write(grad(t, w.length, k)));
              s.opt.step();
            }
          };
          const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer)).join();
          const snapshot = async (s: Run) => {
            const sd = await s.opt.stateDict();
            const state = Object.values(sd.state).map((e) =>
              Object.entries(e)
                .sort()
                .map(([k, v]) => `${k}=${typeof v === 'number' ? v : bits(v)}`)
                .join(' '),
            );
            const params = await Promise.all(s.ws.map(async (w) => bits(await w.read())));
            return JSON.stringify({ groups: sd.paramGroups, state, params });
          };
          const fresh = (opts: object = {}) =>
            make(
              sizes.map((n) => engine.parameter(n)),
              opts,
            );
          const copy = async (s: Run, opts: object = {}) =>
            make(await Promise.all(s.ws.map(async (w) => engine.parameter(await w.read()))), opts);

          const a = make(
            sizes.map((n, k) =>
              engine.parameter(Float32Array.from({ length: n }, (_, i) => Math.sin(i + k))),
            ),
            options,
          );
          for (let t = 1; t <= 5; t++) stepAll([a], t);
          const file = await saveCheckpoint(a.opt, { params: true });
          const stateOnly = await saveCheckpoint(a.opt);
          const sd = await a.opt.stateDict();
          const json = JSON.parse(JSON.stringify(sd));
          const arrays = {
            ...sd,
            state: Object.fromEntries(
              Object.entries(sd.state).map(([k, e]) => [
                k,
                Object.fromEntries(
                  Object.entries(e).map(([f, v]) => [f, typeof v === 'number' ? v : Array.from(v)]),
                ),
              ]),
            ),
          };
          // Restored four ways: from the file into fresh (zero) parameters constructed with
          // default options; from the state-only file, from JSON and from number arrays into
          // copies of the parameters.
          const b = fresh();
          await loadCheckpoint(b.opt, file);
          const c = await copy(a);
          await loadCheckpoint(c.opt, stateOnly.buffer as ArrayBuffer);
          const d = await copy(a);
          d.opt.loadStateDict(json);
          const e = await copy(a);
          e.opt.loadStateDict(arrays as never);
          const restoredBeforeStep = (await snapshot(b)) === (await snapshot(a));
          stepAll([a, b, c, d, e], 6);
          const want = await snapshot(a);
          const decoded = api.decodeSafetensors(file);
          const out = {
            restoredBeforeStep,
            file: (await snapshot(b)) === want,
            stateOnly: (await snapshot(c)) === want,
            json: (await snapshot(d)) === want,
            arrays: (await snapshot(e)) === want,
            names: [...decoded.tensors.keys()].filter((k) => k.startsWith('state.0.')).sort(),
            dtypes: Object.fromEntries(
              [...decoded.tensors]
                .filter(([k]) => /^(state\.0\.|params\.0)/.test(k))
                .map(([k, t]) => [k, `${t.dtype}[${t.shape}]`]),
            ),
            metadata: {
              ...decoded.metadata,
              paramGroups: JSON.parse(decoded.metadata.paramGroups!),
            },
            stateOnlyNames: [...api.decodeSafetensors(stateOnly).tensors.keys()].filter((k) =>
              k.startsWith('params'),
            ),
          };
          await engine.sync();
          engine.dispose();
          return out;
        },
        name,
        options,
        SIZES,
      );
      expect(r.restoredBeforeStep, 'restored params and state equal the saved ones').toBe(true);
      expect(r.file, 'saveCheckpoint({ params: true }) -> loadCheckpoint, one more step').toBe(
        true,
      );
      expect(r.stateOnly, 'state-only checkpoint, one more step').toBe(true);
      expect(r.json, 'JSON.parse(JSON.stringify(stateDict())), one more step').toBe(true);
      expect(r.arrays, 'state buffers as number arrays, one more step').toBe(true);
      expect(r.stateOnlyNames).toEqual([]);
      expect(r.metadata).toMatchObject({
        format: 'webgpu-optim.checkpoint',
        version: '1',
        optimizer: name,
        params: 'true',
      });
      expect(r.metadata.paramGroups.map((g: { params: number[] }) => g.params)).toEqual([
        [0, 1],
        [2],
      ]);
      expect(r.metadata.paramGroups[1].lr).toBe(0.05);
      // torch's names, in snake_case; step an F32 scalar as torch keeps it.
      expect(r.names).toContain('state.0.step');
      expect(r.dtypes['state.0.step']).toBe('F32[]');
      expect(r.dtypes['params.0']).toBe('F32[5]');
      for (const n of r.names) expect(n).toMatch(/^state\.0\.[a-z_]+$/);
      if (name === 'Adam') {
        expect(r.names).toEqual([
          'state.0.exp_avg',
          'state.0.exp_avg_sq',
          'state.0.max_exp_avg_sq',
          'state.0.step',
        ]);
      }
      if (name === 'NAdam') expect(r.dtypes['state.0.mu_product']).toBe('F64[]');
    },
  );

  it('steps past 2^24 (not exact in float32) are saved as F64 and restored exactly', async () => {
    const r = await harnessPage().evaluate(async () => {
      const { createEngine, Adam, saveCheckpoint, loadCheckpoint, decodeSafetensors } =
        window.webgpuOptim;
      const engine = await createEngine();
      const a = new Adam([engine.parameter(new Float32Array([1, 2]))], { lr: 0.01 });
      const sd = await a.stateDict();
      sd.state[0] = {
        step: 2 ** 24 + 1,
        expAvg: new Float32Array(2),
        expAvgSq: new Float32Array(2),
      };
      a.loadStateDict(sd);
      const file = await saveCheckpoint(a);
      const b = new Adam([engine.parameter(2)]);
      await loadCheckpoint(b, file);
      const out = {
        dtype: decodeSafetensors(file).tensors.get('state.0.step')!.dtype,
        step: (await b.stateDict()).state[0]!.step,
      };
      engine.dispose();
      return out;
    });
    expect(r).toEqual({ dtype: 'F64', step: 2 ** 24 + 1 });
  });

  it('saveCheckpoint refuses state that could not be loaded back, and bad options', async () => {
    const r = await harnessPage().evaluate(async () => {
      const { createEngine, SGD, saveCheckpoint } = window.webgpuOptim;
      const engine = await createEngine();
      const w = engine.parameter(new Float32Array([1, 2]));
      w.grad.write(new Float32Array([NaN, 1]));
      const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
      opt.step(); // without skipNonFinite the NaN reaches the momentum buffer, as in torch
      const caught = async (f: () => Promise<unknown>) =>
        f().then(
          () => 'no error',
          (e: Error) => `${e.name}: ${e.message}`,
        );
      const out = [
        await caught(() => saveCheckpoint(opt)),
        await caught(() => saveCheckpoint(opt, { param: true } as never)),
        await caught(() => saveCheckpoint(opt, { params: 'yes' } as never)),
        await caught(() => saveCheckpoint({} as never)),
      ];
      engine.dispose();
      return out;
    });
    expect(r[0]).toMatch(
      /^RangeError: SGD.saveCheckpoint: state 'momentumBuffer' of parameter 0 must be finite, got NaN at index 0$/,
    );
    expect(r[1]).toMatch(
      /^TypeError: SGD.saveCheckpoint: unknown option 'param' \(did you mean 'params'\?\)/,
    );
    expect(r[2]).toMatch(
      /^TypeError: SGD.saveCheckpoint: params must be a boolean, got string 'yes'/,
    );
    expect(r[3]).toMatch(/^TypeError: saveCheckpoint: expected an optimizer, got object \{\}/);
  });
});

it('stateDict of 2,000 tiny tensors is correct (one readback per state buffer)', async () => {
  const r = await harnessPage().evaluate(async () => {
    const { createEngine, SGD } = window.webgpuOptim;
    const engine = await createEngine();
    const n = 2000;
    const ws = Array.from({ length: n }, (_, k) => engine.parameter(new Float32Array(1 + (k % 4))));
    const grads = ws.map((w, k) => Float32Array.from({ length: w.length }, (_, i) => k + i / 8));
    ws.forEach((w, k) => w.grad.write(grads[k]!));
    const opt = new SGD([{ params: ws.slice(0, n / 2) }, { params: ws.slice(n / 2), lr: 0.01 }], {
      lr: 0.1,
      momentum: 0.9,
    });
    opt.step(); // the first step sets each momentum buffer to its gradient, exactly
    const start = performance.now();
    const sd = await opt.stateDict();
    const ms = performance.now() - start;
    const wrong = ws.findIndex((_, k) => {
      const got = sd.state[k]!;
      const b = got.momentumBuffer as Float32Array;
      return (
        got.step !== 1 || b.length !== grads[k]!.length || b.some((v, i) => v !== grads[k]![i])
      );
    });
    engine.dispose();
    return { ms, wrong, count: Object.keys(sd.state).length };
  });
  console.log(`stateDict of 2,000 tensors: ${r.ms.toFixed(0)} ms`);
  expect(r.wrong, 'first tensor whose state is wrong').toBe(-1);
  expect(r.count).toBe(2000);
});
