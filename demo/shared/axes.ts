/**
 * Tick positions and labels shared by the demo's plots (line charts, bar charts, the contour
 * plot), and the summary each plot leaves on its canvas (`data-plot`, `aria-label`) so a screen
 * reader and the end-to-end test can tell what was drawn.
 */

/** About `count` round values (1, 2 or 5 times a power of ten apart) inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

/** A tick label: short, exponent form for very large or small magnitudes. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(0).split('e');
    return `${m}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** What a plot shows, recorded on its canvas. */
export interface PlotSummary {
  title: string;
  x?: { label: string; ticks: string[]; log?: boolean };
  y?: { label: string; ticks: string[]; log?: boolean };
  legend?: Array<{ label: string; color: string }>;
  /** Canvas pixels: the legend's bottom edge and the plot area's top edge (legend above the data). */
  legendBottom?: number;
  plotTop?: number;
}

export function recordPlot(canvas: HTMLCanvasElement, s: PlotSummary): void {
  canvas.dataset.plot = JSON.stringify(s);
  const axis = (name: string, a?: PlotSummary['x']) =>
    a
      ? `${name} axis: ${a.label}${a.log ? ' (log scale)' : ''}, ${a.ticks[0]} to ${a.ticks.at(-1)}`
      : '';
  canvas.setAttribute(
    'aria-label',
    [s.title, axis('x', s.x), axis('y', s.y), s.legend?.map((l) => l.label).join(', ') ?? '']
      .filter(Boolean)
      .join('; '),
  );
  canvas.setAttribute('role', 'img');
}

/**
 * Axes drawn along the left and bottom edges of a picture of a 2-D domain [x0, x1] × [y0, y1]
 * that fills the canvas (inside, so canvas pixels keep mapping to the domain): round ticks with
 * labels on translucent strips, and the axis names at the ends. Returns the ticks drawn.
 */
export function drawEdgeAxes(
  canvas: HTMLCanvasElement,
  domain: [number, number, number, number],
  names: [string, string] = ['x', 'y'],
  count: [number, number] = [8, 6],
  top = 0,
): { x: number[]; y: number[] } {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const [x0, x1, y0, y1] = domain;
  const toX = (x: number) => ((x - x0) / (x1 - x0)) * width;
  const toY = (y: number) => (1 - (y - y0) / (y1 - y0)) * height;
  const xTicks = niceTicks(x0, x1, count[0]).filter((t) => t > x0 && t < x1);
  const yTicks = niceTicks(y0, y1, count[1]).filter(
    (t) => t > y0 && t < y1 && toY(t) < height - 26 && toY(t) > top + 8,
  );
  ctx.save();
  ctx.font = '11px sans-serif';
  ctx.lineWidth = 1;
  ctx.fillStyle = 'rgba(255,255,255,0.8)';
  ctx.fillRect(0, height - 18, width, 18);
  ctx.fillRect(0, top, 30, height - 18 - top);
  ctx.strokeStyle = '#333';
  ctx.fillStyle = '#222';
  ctx.textAlign = 'center';
  for (const t of xTicks) {
    ctx.beginPath();
    ctx.moveTo(toX(t), height - 18);
    ctx.lineTo(toX(t), height - 24);
    ctx.stroke();
    ctx.fillText(formatTick(t), toX(t), height - 5);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of yTicks) {
    ctx.beginPath();
    ctx.moveTo(30, toY(t));
    ctx.lineTo(36, toY(t));
    ctx.stroke();
    ctx.fillText(formatTick(t), 27, toY(t));
  }
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'start';
  ctx.font = 'bold 11px sans-serif';
  ctx.fillText(names[0], width - 8 - ctx.measureText(names[0]).width, height - 5);
  ctx.fillText(names[1], 4, top + 12);
  ctx.restore();
  return { x: xTicks, y: yTicks };
}
