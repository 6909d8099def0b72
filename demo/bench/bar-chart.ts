/** A horizontal bar chart: one labelled bar per row, the value printed at its end. */
export function drawBarChart(
  canvas: HTMLCanvasElement,
  title: string,
  rows: Array<{ label: string; value: number; color: string }>,
  format: (v: number) => string,
): void {
  const ctx = canvas.getContext('2d')!;
  const barHeight = 20;
  canvas.height = 34 + rows.length * (barHeight + 6);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#222';
  ctx.font = '12px sans-serif';
  ctx.fillText(title, 8, 16);
  const left = 90;
  const right = 80;
  const max = Math.max(1e-12, ...rows.map((r) => r.value).filter(Number.isFinite));
  rows.forEach((r, i) => {
    const y = 28 + i * (barHeight + 6);
    const w = ((canvas.width - left - right) * (Number.isFinite(r.value) ? r.value : 0)) / max;
    ctx.fillStyle = '#222';
    ctx.fillText(r.label, 8, y + 14);
    ctx.fillStyle = r.color;
    ctx.fillRect(left, y, w, barHeight);
    ctx.fillStyle = '#222';
    ctx.fillText(format(r.value), left + w + 6, y + 14);
  });
}
