import { formatTick, niceTicks, recordPlot } from './axes.ts';

/** One curve of a line chart; non-finite values leave gaps. */
export interface Series {
  label: string;
  color: string;
  /** y values; x is `xs[i]` when given, else the index. */
  values: ArrayLike<number>;
  xs?: ArrayLike<number>;
}

export interface ChartOptions {
  title: string;
  /** x axis label (default 'step'). */
  xLabel?: string;
  /** y axis label (default 'value'); ' (log scale)' is added when logY. */
  yLabel?: string;
  /** Log-scale y (values <= 0 are skipped); the range is widened to whole decades. */
  logY?: boolean;
  /** Fixed y range, e.g. [0, 1] for accuracy. */
  yRange?: [number, number];
}

const LEFT = 64;
const RIGHT = 14;
const BOTTOM = 40;
const LEGEND_ROW = 15;

/**
 * Draws `series` on a canvas: a title, a legend above the plot area (never over the curves),
 * axes with round ticks, grid lines and labels (the y label says when the scale is logarithmic),
 * one polyline per series.
 */
export function drawLineChart(canvas: HTMLCanvasElement, series: Series[], o: ChartOptions): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const ty = (y: number) => (o.logY ? Math.log10(y) : y);
  let xMax = 1;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const y = s.values[i]!;
      if (!Number.isFinite(y) || (o.logY && y <= 0)) continue;
      yMin = Math.min(yMin, ty(y));
      yMax = Math.max(yMax, ty(y));
      xMax = Math.max(xMax, s.xs ? s.xs[i]! : i);
    }
  }
  if (o.yRange) [yMin, yMax] = o.yRange.map(ty) as [number, number];
  if (!Number.isFinite(yMin)) [yMin, yMax] = o.logY ? [-1, 0] : [0, 1];
  if (o.logY) [yMin, yMax] = [Math.floor(yMin), Math.max(Math.ceil(yMax), Math.floor(yMin) + 1)];
  if (yMax - yMin < 1e-12) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];

  // Legend rows first: they decide where the plot area starts.
  ctx.font = '11px sans-serif';
  const items: Array<{ s: Series; x: number; row: number }> = [];
  let lx = LEFT;
  let row = 0;
  for (const s of series) {
    const w = ctx.measureText(s.label).width + 28;
    if (lx + w > width - RIGHT && lx > LEFT) {
      lx = LEFT;
      row++;
    }
    items.push({ s, x: lx, row });
    lx += w;
  }
  const legendTop = 24;
  const legendBottom = legendTop + (series.length ? (row + 1) * LEGEND_ROW : 0);
  const top = legendBottom + 6;
  const w = width - LEFT - RIGHT;
  const h = height - top - BOTTOM;
  const px = (x: number) => LEFT + (x / xMax) * w;
  const pyT = (t: number) => top + (1 - (t - yMin) / (yMax - yMin)) * h;

  ctx.fillStyle = '#222';
  ctx.font = 'bold 12px sans-serif';
  ctx.fillText(o.title, LEFT, 15);
  ctx.font = '11px sans-serif';
  for (const { s, x, row: r } of items) {
    const y = legendTop + r * LEGEND_ROW + 8;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, y - 4);
    ctx.lineTo(x + 18, y - 4);
    ctx.stroke();
    ctx.fillStyle = '#222';
    ctx.fillText(s.label, x + 22, y);
  }

  // Ticks: whole decades on a log axis, round numbers otherwise.
  const yTicks = o.logY
    ? niceTicks(yMin, yMax, 5).filter(Number.isInteger)
    : niceTicks(yMin, yMax, 5);
  const yText = (t: number) => formatTick(o.logY ? 10 ** t : t);
  const xTicks = niceTicks(0, xMax, 6);
  ctx.lineWidth = 1;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const t of yTicks) {
    const y = pyT(t);
    ctx.strokeStyle = '#eceef2';
    ctx.beginPath();
    ctx.moveTo(LEFT, y);
    ctx.lineTo(LEFT + w, y);
    ctx.stroke();
    ctx.strokeStyle = '#666';
    ctx.beginPath();
    ctx.moveTo(LEFT - 4, y);
    ctx.lineTo(LEFT, y);
    ctx.stroke();
    ctx.fillStyle = '#333';
    ctx.fillText(yText(t), LEFT - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of xTicks) {
    const x = px(t);
    ctx.strokeStyle = '#eceef2';
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + h);
    ctx.stroke();
    ctx.strokeStyle = '#666';
    ctx.beginPath();
    ctx.moveTo(x, top + h);
    ctx.lineTo(x, top + h + 4);
    ctx.stroke();
    ctx.fillStyle = '#333';
    ctx.fillText(formatTick(t), x, top + h + 6);
  }
  ctx.strokeStyle = '#888';
  ctx.strokeRect(LEFT, top, w, h);
  const xLabel = o.xLabel ?? 'step';
  const yLabel = `${o.yLabel ?? 'value'}${o.logY ? ' (log scale)' : ''}`;
  ctx.fillStyle = '#222';
  ctx.fillText(xLabel, LEFT + w / 2, height - 15);
  ctx.save();
  ctx.translate(13, top + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
  ctx.textAlign = 'start';
  ctx.textBaseline = 'alphabetic';

  ctx.save();
  ctx.beginPath();
  ctx.rect(LEFT, top, w, h);
  ctx.clip();
  ctx.lineWidth = 1.5;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.values.length; i++) {
      const y = s.values[i]!;
      if (!Number.isFinite(y) || (o.logY && y <= 0)) {
        pen = false;
        continue;
      }
      const x = px(s.xs ? s.xs[i]! : i);
      if (pen) ctx.lineTo(x, pyT(ty(y)));
      else ctx.moveTo(x, pyT(ty(y)));
      pen = true;
    }
    ctx.stroke();
  }
  ctx.restore();

  recordPlot(canvas, {
    title: o.title,
    x: { label: xLabel, ticks: xTicks.map(formatTick) },
    y: { label: yLabel, ticks: yTicks.map(yText), ...(o.logY ? { log: true } : {}) },
    legend: series.map((s) => ({ label: s.label, color: s.color })),
    legendBottom,
    plotTop: top,
  });
}
