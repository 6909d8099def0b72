import { formatTick, niceTicks, recordPlot } from '../shared/axes.ts';

/**
 * A horizontal bar chart: one labelled bar per row, the value printed at its end, and a value
 * axis with round ticks and a label underneath.
 */
export function drawBarChart(
  canvas: HTMLCanvasElement,
  title: string,
  rows: Array<{ label: string; value: number; color: string }>,
  format: (v: number) => string,
  axisLabel: string,
): void {
  const ctx = canvas.getContext('2d')!;
  const barHeight = 20;
  const top = 28;
  const plotBottom = top + rows.length * (barHeight + 6);
  canvas.height = plotBottom + 44;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#222';
  ctx.font = 'bold 12px sans-serif';
  ctx.fillText(title, 8, 16);
  ctx.font = '12px sans-serif';
  const left = 90;
  const right = 90;
  const max = Math.max(1e-12, ...rows.map((r) => r.value).filter(Number.isFinite));
  const ticks = niceTicks(0, max, 5);
  const span = Math.max(max, ticks.at(-1)!);
  const px = (v: number) => left + ((canvas.width - left - right) * v) / span;
  ctx.lineWidth = 1;
  ctx.textAlign = 'center';
  for (const t of ticks) {
    ctx.strokeStyle = '#eceef2';
    ctx.beginPath();
    ctx.moveTo(px(t), top - 4);
    ctx.lineTo(px(t), plotBottom);
    ctx.stroke();
    ctx.strokeStyle = '#666';
    ctx.beginPath();
    ctx.moveTo(px(t), plotBottom);
    ctx.lineTo(px(t), plotBottom + 4);
    ctx.stroke();
    ctx.fillStyle = '#333';
    ctx.fillText(formatTick(t), px(t), plotBottom + 16);
  }
  ctx.fillText(axisLabel, px(span / 2), plotBottom + 34);
  ctx.textAlign = 'start';
  ctx.strokeStyle = '#888';
  ctx.beginPath();
  ctx.moveTo(left, top - 4);
  ctx.lineTo(left, plotBottom);
  ctx.lineTo(px(span), plotBottom);
  ctx.stroke();
  rows.forEach((r, i) => {
    const y = top + i * (barHeight + 6);
    const end = px(Number.isFinite(r.value) ? r.value : 0);
    ctx.fillStyle = '#222';
    ctx.fillText(r.label, 8, y + 14);
    ctx.fillStyle = r.color;
    ctx.fillRect(left, y, end - left, barHeight);
    ctx.fillStyle = '#222';
    ctx.fillText(format(r.value), end + 6, y + 14);
  });
  recordPlot(canvas, {
    title,
    x: { label: axisLabel, ticks: ticks.map(formatTick) },
    legend: rows.map((r) => ({ label: r.label, color: r.color })),
  });
}
