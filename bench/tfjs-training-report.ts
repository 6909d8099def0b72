/**
 * The TF.js-training section of the benchmark report: a markdown table (ms per training step and
 * per optimizer step, ratio to tf.train.adam, final loss) and an SVG with the loss curves side by
 * side and the step times as bars. Pure functions of bench/tfjs-training.ts's result.
 */
import { median, type TrainingResult } from './tfjs-training.ts';

const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toPrecision(digits) : '—');

/** Per variant: median ms per training step and optimizer step, and ratios to tf.train.adam. */
export function trainingFigures(r: TrainingResult) {
  const base = r.variants[0];
  return r.variants.map((v) => {
    const train = median(v.trainMs);
    const opt = median(v.optimizerMs);
    return {
      name: v.name,
      train,
      opt,
      trainRatio: base ? median(base.trainMs) / train : NaN,
      optRatio: base ? median(base.optimizerMs) / opt : NaN,
      finalLoss: v.loss.at(-1) ?? NaN,
    };
  });
}

export function trainingMarkdown(r: TrainingResult | { error: string }, adapter: string): string {
  if ('error' in r) return `\n## TF.js training\n\nNot measured: ${r.error}\n`;
  const rows = trainingFigures(r).map(
    (x) =>
      `| ${x.name} | ${f(x.train)} | ${f(x.trainRatio)}× | ${f(x.opt)} | ${f(x.optRatio)}× | ${f(x.finalLoss, 4)} |`,
  );
  const v = r.variants[0];
  return [
    '',
    '## TF.js training',
    '',
    `MLP ${r.widths.join(' → ')} (${(r.parameters / 1e6).toFixed(2)}M parameters, ReLU, softmax + categorical cross-entropy), batch ${r.batch}, on ${adapter}; ` +
      `${v ? `${v.loss.length - v.trainMs.length}+${v.trainMs.length}` : '?'} training steps per optimizer (model.trainOnBatch, loss read each step), ` +
      `optimizer step = applyGradients on fixed gradients until the queue is done (median of ${v?.optimizerMs.length ?? '?'}). ` +
      'Ratios: tf.train.adam time / this time (above 1 is faster).',
    '',
    '| optimizer | ms / training step | vs tf.train.adam | ms / optimizer step | vs tf.train.adam | final loss |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

const COLORS = ['#888', '#d62728', '#1f77b4'];

/** Loss curves (left) and bars of ms per training and optimizer step (right). */
export function trainingSvg(r: TrainingResult, adapter: string): string {
  const W = 860;
  const H = 300;
  const plot = { x: 50, y: 40, w: 420, h: 210 };
  const all = r.variants.flatMap((v) => v.loss);
  const [lo, hi] = [Math.min(...all), Math.max(...all)];
  const steps = Math.max(...r.variants.map((v) => v.loss.length));
  const px = (i: number) => plot.x + (i / Math.max(1, steps - 1)) * plot.w;
  const py = (y: number) => plot.y + plot.h - ((y - lo) / (hi - lo || 1)) * plot.h;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="10" y="18" font-size="14">TF.js MLP ${r.widths.join('-')} (${(r.parameters / 1e6).toFixed(2)}M params), batch ${r.batch} — ${adapter}</text>`,
    `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#ccc"/>`,
    `<text x="${plot.x}" y="${plot.y + plot.h + 18}">training loss per step (0..${steps - 1})</text>`,
    `<text x="${plot.x - 5}" y="${plot.y + 10}" text-anchor="end">${f(hi)}</text>`,
    `<text x="${plot.x - 5}" y="${plot.y + plot.h}" text-anchor="end">${f(lo)}</text>`,
  ];
  r.variants.forEach((v, k) => {
    const d = v.loss.map((y, i) => `${i ? 'L' : 'M'}${px(i).toFixed(1)},${py(y).toFixed(1)}`);
    const dash = k === 2 ? ' stroke-dasharray="5,3"' : '';
    out.push(
      `<path d="${d.join('')}" fill="none" stroke="${COLORS[k % 3]}" stroke-width="2"${dash}/>`,
    );
    out.push(
      `<text x="${plot.x + 8}" y="${plot.y + 16 + 15 * k}" fill="${COLORS[k % 3]}">${v.name}</text>`,
    );
  });
  const figures = trainingFigures(r);
  const bars = { x: 540, y: 40, w: 300 };
  const max = Math.max(...figures.flatMap((x) => [x.train, x.opt]).filter(Number.isFinite));
  let y = bars.y;
  for (const [label, key] of [
    ['ms / training step', 'train'],
    ['ms / optimizer step', 'opt'],
  ] as const) {
    out.push(`<text x="${bars.x}" y="${y + 10}">${label}</text>`);
    y += 16;
    figures.forEach((x, k) => {
      const w = (x[key] / max) * (bars.w - 60);
      out.push(
        `<rect x="${bars.x}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="14" fill="${COLORS[k % 3]}"/>`,
        `<text x="${bars.x + w + 4}" y="${y + 11}">${f(x[key])}</text>`,
      );
      y += 18;
    });
    y += 14;
  }
  out.push('</svg>');
  return out.join('\n');
}
