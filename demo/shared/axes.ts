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
