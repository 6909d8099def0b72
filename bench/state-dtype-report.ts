/**
 * The low-precision state section of the benchmark report (stateDtype): a markdown table of
 * state bytes per parameter and ms per step per dtype next to float32, the final losses of the
 * convergence runs against float32's with the bars (bfloat16 within 5%, 8-bit within 10%), and
 * an SVG with the loss curves side by side. Pure functions of bench/state-dtype.ts's results.
 */
import { median, type Timing } from './gpu.ts';
import type { Curve } from './state-dtype.ts';

export interface StateDtypeResults {
  size: number;
  steps: Array<{
    optimizer: string;
    result:
      { rows: Array<{ dtype: string; timing: Timing; stateBytes: number }> } | { error: string };
  }>;
  convergence?: { curves: Curve[] } | { error: string };
}

const f = (x: number | undefined, digits = 3) =>
  x !== undefined && Number.isFinite(x) ? x.toPrecision(digits) : '—';
/** The bar a dtype's final loss must stay within, relative to float32's (float16: as bfloat16). */
const BAR: Record<string, number> = { bfloat16: 0.05, float16: 0.05, '8bit': 0.1 };

export function stateDtypeMarkdown(r: StateDtypeResults, adapter: string): string {
  const out = ['', '## Low-precision optimizer state (stateDtype)', ''];
  out.push(
    `One tensor of ${r.size / 2 ** 20}M parameters, one optimizer per stateDtype over it, timed in turns on ${adapter} (median ms per step, wall and GPU). ` +
      'State = opt.stateBytes() after the first step: the state buffers as allocated (8-bit: codes, a float32 absmax per 256 elements, the 1 KiB map per buffer; float16 keeps the squared accumulators float32).',
    '',
    '| optimizer | stateDtype | state MiB | bytes/param | ms/step wall | ms/step GPU | wall vs float32 |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const s of r.steps) {
    if ('error' in s.result) {
      out.push(`| ${s.optimizer} | — | — | — | ${s.result.error} | | |`);
      continue;
    }
    const base = median(s.result.rows[0]!.timing.wall);
    for (const row of s.result.rows) {
      const wall = median(row.timing.wall);
      const gpu = row.timing.gpu ? median(row.timing.gpu) : undefined;
      out.push(
        `| ${s.optimizer} | ${row.dtype} | ${f(row.stateBytes / 2 ** 20, 4)} | ${f(row.stateBytes / r.size, 3)} | ${f(wall)} | ${f(gpu)} | ${f(wall / base)}× |`,
      );
    }
  }
  const c = r.convergence;
  if (c && 'error' in c) out.push('', `Convergence not measured: ${c.error}`);
  if (c && 'curves' in c) {
    const steps = c.curves[0]?.loss.length ?? 0;
    out.push(
      '',
      `Convergence, ${steps} steps, final loss (mean over the last 10% of the steps) per stateDtype against float32's; bar: bfloat16/float16 within 5%, 8-bit within 10%. ` +
        'Least squares: min 1/2 mean((XW - Y)^2), X 256x128, W 128x128 (16384 parameters, one tensor), lr 0.01, seeded. ' +
        "Demo MLP: the training page's 2 -> 64 -> 64 -> 3 tanh MLP on the spiral (512 points, batch 32, lr 0.02, min8bitSize 0 so every tensor is 8-bit), all runs of a seed in one session (same batches and weights), curves averaged over 8 seeds (datasets and initial weights).",
      '',
      '| problem | optimizer | stateDtype | final loss | vs float32 | within bar |',
      '|---|---|---|---:|---:|---|',
    );
    for (const x of c.curves) {
      const base = c.curves.find(
        (y) => y.problem === x.problem && y.optimizer === x.optimizer && y.dtype === 'float32',
      );
      const rel = base ? x.final / base.final - 1 : NaN;
      const bar = BAR[x.dtype];
      const ok = bar === undefined ? '' : Math.abs(rel) <= bar || rel <= 0 ? 'yes' : 'NO';
      out.push(
        `| ${x.problem} | ${x.optimizer} | ${x.dtype} | ${f(x.final, 4)} | ${x.dtype === 'float32' ? '' : `${rel >= 0 ? '+' : ''}${(100 * rel).toFixed(2)}%`} | ${ok} |`,
      );
    }
  }
  return out.join('\n') + '\n';
}

const COLORS: Record<string, string> = {
  float32: '#111111',
  bfloat16: '#e6194b',
  float16: '#3cb44b',
  '8bit': '#4363d8',
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Loss curves (log y), one panel per problem x optimizer, a line per stateDtype. */
export function stateDtypeSvg(r: StateDtypeResults, adapter: string): string {
  const c = r.convergence;
  const curves = c && 'curves' in c ? c.curves : [];
  const panels = [...new Set(curves.map((x) => `${x.problem}|${x.optimizer}`))];
  const W = 380;
  const H = 260;
  const pad = { l: 60, r: 14, t: 34, b: 36 };
  const cols = 2;
  const width = cols * W;
  const height = 50 + Math.ceil(panels.length / cols) * H + 30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">webgpu-optim: loss per stateDtype (log scale)</text>`,
    `<text x="10" y="38" fill="#555">${esc(adapter)}</text>`,
  ];
  panels.forEach((key, k) => {
    const [problem, optimizer] = key.split('|') as [string, string];
    const mine = curves.filter((x) => x.problem === problem && x.optimizer === optimizer);
    const ox = (k % cols) * W;
    const oy = 50 + Math.floor(k / cols) * H;
    const all = mine.flatMap((x) => x.loss).filter((v) => v > 0 && Number.isFinite(v));
    const lo = Math.log10(Math.min(...all));
    const hi = Math.log10(Math.max(...all));
    const n = Math.max(...mine.map((x) => x.loss.length));
    const px = (i: number) => ox + pad.l + (i / Math.max(1, n - 1)) * (W - pad.l - pad.r);
    const py = (v: number) =>
      oy + pad.t + (1 - (Math.log10(v) - lo) / Math.max(1e-9, hi - lo)) * (H - pad.t - pad.b);
    out.push(
      `<text x="${ox + pad.l}" y="${oy + 20}" font-weight="bold">${esc(problem)} · ${esc(optimizer)}</text>`,
      `<rect x="${ox + pad.l}" y="${oy + pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#ccc"/>`,
      `<text x="${ox + 4}" y="${oy + pad.t + 8}" fill="#555">${(10 ** hi).toPrecision(2)}</text>`,
      `<text x="${ox + 4}" y="${oy + H - pad.b}" fill="#555">${(10 ** lo).toPrecision(2)}</text>`,
      `<text x="${ox + W / 2}" y="${oy + H - 10}" fill="#555">step (${n})</text>`,
    );
    mine.forEach((x, j) => {
      const pts = x.loss
        .map((v, i) =>
          v > 0 && Number.isFinite(v) ? `${px(i).toFixed(1)},${py(v).toFixed(1)}` : '',
        )
        .filter(Boolean)
        .join(' ');
      out.push(
        `<polyline fill="none" stroke="${COLORS[x.dtype] ?? '#888'}" stroke-width="1.2" points="${pts}"/>`,
        `<text x="${ox + W - 120}" y="${oy + pad.t + 14 + 13 * j}" fill="${COLORS[x.dtype] ?? '#888'}">${x.dtype} ${x.final.toPrecision(3)}</text>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
