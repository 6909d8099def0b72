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
  xLabel?: string;
  /** Log-scale y (values <= 0 are skipped). */
  logY?: boolean;
  /** Fixed y range, e.g. [0, 1] for accuracy. */
  yRange?: [number, number];
}

const MARGIN = { left: 52, right: 10, top: 22, bottom: 26 };

/** Draws `series` on a canvas 2D context: axes with min/max ticks, one polyline each, a legend. */
export function drawLineChart(canvas: HTMLCanvasElement, series: Series[], o: ChartOptions): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
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
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  if (yMax - yMin < 1e-12) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  const w = width - MARGIN.left - MARGIN.right;
  const h = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x / xMax) * w;
  const py = (y: number) => MARGIN.top + (1 - (ty(y) - yMin) / (yMax - yMin)) * h;

  ctx.strokeStyle = '#888';
  ctx.lineWidth = 1;
  ctx.strokeRect(MARGIN.left, MARGIN.top, w, h);
  ctx.fillStyle = '#222';
  ctx.font = '12px sans-serif';
  ctx.fillText(o.title, MARGIN.left, 15);
  ctx.font = '10px sans-serif';
  const fmt = (v: number) => {
    const y = o.logY ? 10 ** v : v;
    return Math.abs(y) >= 1e4 || (Math.abs(y) < 1e-2 && y !== 0)
      ? y.toExponential(1)
      : y.toFixed(2);
  };
  ctx.fillText(fmt(yMax), 2, MARGIN.top + 8);
  ctx.fillText(fmt(yMin), 2, MARGIN.top + h);
  ctx.fillText('0', MARGIN.left, height - 8);
  ctx.fillText(`${xMax}${o.xLabel ? ` ${o.xLabel}` : ''}`, width - MARGIN.right - 60, height - 8);

  ctx.save();
  ctx.beginPath();
  ctx.rect(MARGIN.left, MARGIN.top, w, h);
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
      if (pen) ctx.lineTo(x, py(y));
      else ctx.moveTo(x, py(y));
      pen = true;
    }
    ctx.stroke();
  }
  ctx.restore();

  let lx = MARGIN.left + 6;
  let ly = MARGIN.top + 12;
  for (const s of series) {
    const tw = ctx.measureText(s.label).width + 22;
    if (lx + tw > width - MARGIN.right) {
      lx = MARGIN.left + 6;
      ly += 12;
    }
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, ly - 6, 12, 3);
    ctx.fillStyle = '#222';
    ctx.fillText(s.label, lx + 15, ly);
    lx += tw;
  }
}
