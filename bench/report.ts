/**
 * Turns the benchmark's raw timings into figures, a markdown table and an SVG chart. Pure: no I/O.
 */
import { formatSize } from './config.ts';
import type { Timing } from './gpu.ts';

export type Outcome<T> = T | { error: string } | { na: string };

export interface Row {
  optimizer: string;
  size: number;
  warmup: number;
  reps: number;
  ours: Outcome<{
    timing: Timing;
    states: number;
    options: object;
    stream?: Outcome<{ timing: Timing }>;
  }>;
  stream?: Outcome<{ timing: Timing }>;
  tfjs?: Outcome<{ timing: Timing; call: string; note?: string; warmup?: number }>;
  cpu?: Outcome<{ ms: number[] }>;
}

export interface ModelRow {
  optimizer: string;
  warmup: number;
  reps: number;
  result: Outcome<{
    many: Timing;
    flat: Timing;
    model: ModelShape;
  }>;
}

/** The size mix of the many-tensor model. */
export interface ModelShape {
  tensors: number;
  total: number;
  small: number;
  smallest: number;
  medianSize: number;
  largest: number;
}

export interface Results {
  date: string;
  adapter: string;
  featureLevel: string;
  environment: Record<string, unknown>;
  command: string;
  rows: Row[];
  model: ModelRow[];
  /** Muon at [n, n] beside a tiled and a plain n^3 GEMM (bench/gemm.ts). */
  muonGemm?: MuonGemm | { error: string };
  /** TF.js training with tf.train.adam vs our adapters (bench/tfjs-training.ts). */
  tfjsTraining?: import('./tfjs-training.ts').TrainingResult | { error: string };
  stateDtype?: import('./state-dtype-report.ts').StateDtypeResults;
  seconds?: number;
  /** Why the run stopped early, if it did. */
  incomplete?: string;
}

export interface MuonGemm {
  n: number;
  muon: Timing;
  tiled: Timing;
  plain: Timing;
  gemmFlops: number;
  nsFlops: number;
}

/** Median GPU time where timestamps exist, else wall time (ms). */
const best = (t: Timing) => median(t.gpu ?? t.wall);

/** Muon's ms per step and the GEMMs' GFLOP/s (Muon's: its Newton-Schulz FLOPs over its step). */
export function muonGemmFigures(m: MuonGemm) {
  const ms = { muon: best(m.muon), tiled: best(m.tiled), plain: best(m.plain) };
  return {
    ms,
    gflops: {
      muon: m.nsFlops / ms.muon / 1e6,
      tiled: m.gemmFlops / ms.tiled / 1e6,
      plain: m.gemmFlops / ms.plain / 1e6,
    },
  };
}

/** The Muon and GEMM section of the report. */
export function muonGemmMarkdown(m: MuonGemm | { error: string } | undefined): string {
  if (!m) return '';
  if ('error' in m) return `\n## Muon and GEMM\n\nNot measured: ${m.error}\n`;
  const f = muonGemmFigures(m);
  const n = m.n;
  return `
## Muon and GEMM at [${n}, ${n}]

Muon's step (momentum, normalisation, ${m.nsFlops / m.gemmFlops / 3} Newton-Schulz iterations of three ${n}^3 GEMMs, update) and one ${n} x ${n} x ${n} product with the tiled kernel Muon uses and with a plain one (one invocation per output). GFLOP/s count a multiply-add as 2; Muon's counts only its GEMMs' FLOPs over its whole step. Median ${m.muon.gpu ? 'GPU' : 'wall'} time of ${m.muon.wall.length} steps.

${table(
  ['kernel', 'ms', 'GFLOP/s'],
  [
    ['Muon step', fmt(f.ms.muon), fmt(f.gflops.muon)],
    ["tiled GEMM (Muon's)", fmt(f.ms.tiled), fmt(f.gflops.tiled)],
    ['plain GEMM', fmt(f.ms.plain), fmt(f.gflops.plain)],
  ],
)}
`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const ok = <T>(o: Outcome<T> | undefined): o is T =>
  o !== undefined && !('error' in (o as object)) && !('na' in (o as object));

const why = (o: Outcome<unknown> | undefined): string =>
  o === undefined
    ? 'not run'
    : 'error' in (o as object)
      ? `error: ${(o as { error: string }).error}`
      : `n/a: ${(o as { na: string }).na}`;

/** The figures of one row (undefined where not measured). */
export function figures(r: Row) {
  const oursWall = ok(r.ours) ? median(r.ours.timing.wall) : undefined;
  const oursGpu = ok(r.ours) && r.ours.timing.gpu ? median(r.ours.timing.gpu) : undefined;
  const streamWall = ok(r.stream) ? median(r.stream.timing.wall) : undefined;
  const streamGpu = ok(r.stream) && r.stream.timing.gpu ? median(r.stream.timing.gpu) : undefined;
  const tfWall = ok(r.tfjs) ? median(r.tfjs.timing.wall) : undefined;
  const tfGpu = ok(r.tfjs) && r.tfjs.timing.gpu ? median(r.tfjs.timing.gpu) : undefined;
  const cpu = ok(r.cpu) ? median(r.cpu.ms) : undefined;
  const div = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
  return {
    oursWall,
    oursGpu,
    paramsPerSecond: div(r.size * 1000, oursWall),
    streamWall,
    streamGpu,
    streamParamsPerSecond: div(r.size * 1000, streamWall),
    roofline: div(streamGpu, oursGpu),
    rooflineWall: div(streamWall, oursWall),
    tfWall,
    tfGpu,
    tfParamsPerSecond: div(r.size * 1000, tfWall),
    vsTfjs: div(tfWall, oursWall),
    vsTfjsGpu: div(tfGpu, oursGpu),
    cpu,
    vsCpu: div(cpu, oursWall),
  };
}

export function modelFigures(m: ModelRow) {
  if (!ok(m.result)) return undefined;
  const { many, flat } = m.result;
  return {
    manyWall: median(many.wall),
    flatWall: median(flat.wall),
    manyGpu: many.gpu ? median(many.gpu) : undefined,
    flatGpu: flat.gpu ? median(flat.gpu) : undefined,
    ratioWall: median(many.wall) / median(flat.wall),
    ratioGpu: many.gpu && flat.gpu ? median(many.gpu) / median(flat.gpu) : undefined,
    hostMany: median(many.host),
    hostFlat: median(flat.host),
  };
}

/** 3 significant digits, no exponent. */
export function fmt(x: number | undefined, suffix = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x) || 1)));
  return `${x.toFixed(Math.min(digits, 3))}${suffix}`;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function markdown(res: Results): string {
  const notes: string[] = [];
  const note = (text: string) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  const main = res.rows.map((r) => {
    const f = figures(r);
    const cell = (o: Outcome<unknown> | undefined, value: string) =>
      ok(o) ? value : o === undefined ? '—' : note(why(o));
    return [
      r.optimizer,
      formatSize(r.size),
      ok(r.ours) ? `${r.warmup}+${r.reps}` : '',
      cell(r.ours, fmt(f.oursWall)),
      cell(r.ours, fmt(f.oursGpu)),
      cell(r.ours, fmt(f.paramsPerSecond && f.paramsPerSecond / 1e6)),
      cell(r.stream, fmt(f.streamGpu)),
      cell(r.stream, fmt(f.roofline)),
      cell(r.stream, fmt(f.rooflineWall)),
      cell(
        r.tfjs,
        fmt(f.tfWall) +
          (ok(r.tfjs) && (r.tfjs.timing.wall.length !== r.reps || r.tfjs.warmup !== r.warmup)
            ? ` (${r.tfjs.warmup ?? '?'}+${r.tfjs.timing.wall.length})`
            : ''),
      ),
      cell(r.tfjs, fmt(f.vsTfjs, '×')),
      cell(r.cpu, fmt(f.cpu)),
      cell(r.cpu, fmt(f.vsCpu, '×')),
    ];
  });
  for (const r of res.rows) {
    if (ok(r.tfjs) && r.tfjs.note) note(`TF.js ${r.optimizer}: ${r.tfjs.note}`);
  }
  const model = res.model.map((m) => {
    const f = modelFigures(m);
    if (!f || !ok(m.result)) return [m.optimizer, note(why(m.result)), '', '', '', '', '', ''];
    const d = m.result.model;
    return [
      m.optimizer,
      `${d.tensors} (${formatSize(d.total)})`,
      fmt(f.flatWall),
      fmt(f.manyWall),
      fmt(f.ratioWall, '×'),
      fmt(f.ratioGpu, '×'),
      fmt(f.hostMany),
      fmt(f.hostFlat),
    ];
  });
  const modelDesc = res.model.find((m) => ok(m.result))?.result as
    { model: ModelShape } | undefined;
  const env = res.environment as { crossOriginIsolated?: boolean; timerResolutionMs?: number };
  return `# webgpu-optim benchmark, ${res.date}

Adapter: **${res.adapter}** (${res.featureLevel})${res.seconds ? `, run took ${Math.round(res.seconds)} s` : ''}.
Command: \`${res.command}\`. Sizes are binary: 1M = 2^20 parameters.${res.incomplete ? `\n\n**Incomplete run**: ${res.incomplete}.` : ''}

${table(
  [
    'Optimizer',
    'Size',
    'Warm-up+timed steps',
    'ms/step (wall)',
    'ms/step (GPU)',
    'Mparam/s',
    'Stream ms (GPU)',
    'Roofline (GPU)',
    'Roofline (wall)',
    'TF.js ms',
    'vs TF.js',
    'CPU ref ms',
    'vs CPU',
  ],
  main,
)}

Many-tensor model${modelDesc ? `: ${modelDesc.model.tensors} tensors, ${modelDesc.model.small} of them ≤ 4096 elements (smallest ${modelDesc.model.smallest}, median ${modelDesc.model.medianSize}, largest ${modelDesc.model.largest}), against one flat tensor of the same total` : ''}; host encode is the median JS time of the \`opt.step()\` call (timer resolution ${fmt(env.timerResolutionMs)} ms, cross-origin isolated: ${env.crossOriginIsolated ? 'yes' : 'no'}).

${table(
  [
    'Optimizer',
    'Tensors',
    'Flat ms (wall)',
    'Tensors ms (wall)',
    'Ratio (wall)',
    'Ratio (GPU)',
    'Host encode ms (tensors)',
    'Host encode ms (flat)',
  ],
  model,
)}
${notes.length ? `\n${notes.map((n, i) => `[${i + 1}] ${n}`).join('  \n')}\n` : ''}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Grouped bars: our throughput per optimizer and size; stream (roofline) and TF.js marked on each bar. */
export function svg(res: Results): string {
  const optimizers = [...new Set(res.rows.map((r) => r.optimizer))];
  const sizes = [...new Set(res.rows.map((r) => r.size))].sort((a, b) => a - b);
  const byKey = new Map(res.rows.map((r) => [`${r.optimizer}/${r.size}`, figures(r)]));
  const values = [...byKey.values()].flatMap((f) =>
    [f.paramsPerSecond, f.streamParamsPerSecond, f.tfParamsPerSecond].filter(
      (x): x is number => x !== undefined,
    ),
  );
  const max = niceCeil(Math.max(1, ...values) / 1e6);
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2'];
  const left = 70;
  const top = 60;
  const plotH = 320;
  const bar = 26;
  const gap = 6;
  const groupW = sizes.length * (bar + gap) + 30;
  const width = left + optimizers.length * groupW + 30;
  const height = top + plotH + 110;
  const y = (mps: number) => top + plotH - (mps / max) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">webgpu-optim: optimizer throughput (Mparams/s, wall, higher is better)</text>`,
    `<text x="${left}" y="40" fill="#555">${esc(res.adapter)} (${res.featureLevel}), ${res.date}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = (max * i) / 5;
    out.push(
      `<line x1="${left}" x2="${width - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`,
    );
  }
  optimizers.forEach((name, gi) => {
    const x0 = left + 15 + gi * groupW;
    sizes.forEach((n, si) => {
      const f = byKey.get(`${name}/${n}`);
      const x = x0 + si * (bar + gap);
      if (!f) return;
      if (f.paramsPerSecond !== undefined) {
        const v = f.paramsPerSecond / 1e6;
        out.push(
          `<rect x="${x}" y="${y(v)}" width="${bar}" height="${top + plotH - y(v)}" fill="${colors[si % colors.length]}"><title>${esc(`${name} ${formatSize(n)}: ${fmt(v)} Mparams/s`)}</title></rect>`,
        );
      } else {
        out.push(
          `<text x="${x + bar / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#c00">✗</text>`,
        );
      }
      if (f.streamParamsPerSecond !== undefined) {
        const v = f.streamParamsPerSecond / 1e6;
        out.push(
          `<line x1="${x - 3}" x2="${x + bar + 3}" y1="${y(v)}" y2="${y(v)}" stroke="black" stroke-width="2.5"><title>${esc(`stream kernel, same bytes: ${fmt(v)} Mparams/s`)}</title></line>`,
        );
      }
      if (f.tfParamsPerSecond !== undefined) {
        const v = f.tfParamsPerSecond / 1e6;
        const cx = x + bar / 2;
        out.push(
          `<path d="M${cx - 5} ${y(v)} L${cx} ${y(v) - 5} L${cx + 5} ${y(v)} L${cx} ${y(v) + 5} Z" fill="#e15759" stroke="white"><title>${esc(`TF.js: ${fmt(v)} Mparams/s`)}</title></path>`,
        );
      }
    });
    out.push(
      `<text x="${x0 + (sizes.length * (bar + gap)) / 2}" y="${top + plotH + 18}" text-anchor="middle" font-weight="bold">${esc(name)}</text>`,
    );
  });
  const ly = top + plotH + 45;
  let lx = left;
  sizes.forEach((n, si) => {
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colors[si % colors.length]}"/>`,
      `<text x="${lx + 16}" y="${ly}">ours, ${formatSize(n)}</text>`,
    );
    lx += 95;
  });
  out.push(
    `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="black" stroke-width="2.5"/>`,
    `<text x="${lx + 20}" y="${ly}">stream kernel (roofline: same bytes)</text>`,
  );
  lx += 240;
  out.push(
    `<path d="M${lx} ${ly - 4} L${lx + 5} ${ly - 9} L${lx + 10} ${ly - 4} L${lx + 5} ${ly + 1} Z" fill="#e15759"/>`,
    `<text x="${lx + 16}" y="${ly}">TF.js WebGPU</text>`,
    `<text x="${left}" y="${ly + 24}" fill="#555">Throughput = parameters / median wall ms per step (submit to onSubmittedWorkDone), for ours, the stream kernel and TF.js alike.</text>`,
    `</svg>`,
  );
  return out.join('\n');
}

function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
