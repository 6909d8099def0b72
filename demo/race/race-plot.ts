import { drawEdgeAxes, formatTick, recordPlot } from '../shared/axes.ts';
import type { OptimizerChoice } from '../shared/optimizer-choices.ts';
import { contourImage, viewOf } from './contour.ts';
import type { Surface } from './surfaces.ts';

/** Draws the contour plot, the start point, the minimum and each racer's trajectory. */
export function drawRace(
  canvas: HTMLCanvasElement,
  surface: Surface,
  start: [number, number],
  racers: OptimizerChoice[],
  /** Per racer [x0, y0, loss0, x1, ...] (may be empty before the race). */
  trajectories: Float32Array[],
): void {
  const ctx = canvas.getContext('2d')!;
  const view = viewOf(surface, canvas.width, canvas.height);
  ctx.drawImage(contourImage(surface, canvas.width, canvas.height), 0, 0);
  if (surface.minimum) star(ctx, ...view.toCanvas(...surface.minimum));
  racers.forEach((racer, r) => {
    const path = trajectories[r];
    if (!path || path.length < 3) return;
    ctx.strokeStyle = racer.color;
    ctx.fillStyle = racer.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let last: [number, number] | undefined;
    for (let t = 0; t < path.length; t += 3) {
      if (!Number.isFinite(path[t]!) || !Number.isFinite(path[t + 1]!)) break;
      const [px, py] = view.toCanvas(path[t]!, path[t + 1]!);
      if (last) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      last = [px, py];
    }
    ctx.stroke();
    if (last) {
      ctx.beginPath();
      ctx.arc(last[0], last[1], 4, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
  const [sx, sy] = view.toCanvas(...start);
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 2;
  ctx.strokeRect(sx - 4, sy - 4, 8, 8);
  drawWorldAxes(canvas, surface, racers);
}

/**
 * Axes drawn along the plot's left and bottom edges (inside, so canvas pixels stay world
 * coordinates for clicks): round ticks in x and y, the axis names, and a key saying what the
 * contour lines and marks are (and that the levels are logarithmic where they are).
 */
function drawWorldAxes(
  canvas: HTMLCanvasElement,
  surface: Surface,
  racers: OptimizerChoice[],
): void {
  const ctx = canvas.getContext('2d')!;
  const { width } = canvas;
  const ticks = drawEdgeAxes(canvas, surface.domain);
  const xTicks = ticks.x;
  const yTicks = ticks.y;
  const key = `contours of f(x, y)${surface.logContours ? ', levels on a log scale' : ''} · □ start · ★ minimum`;
  ctx.font = '11px sans-serif';
  const w = ctx.measureText(key).width + 10;
  ctx.fillStyle = 'rgba(255,255,255,0.8)';
  ctx.fillRect(width - w, 0, w, 16);
  ctx.fillStyle = '#222';
  ctx.fillText(key, width - w + 5, 12);
  recordPlot(canvas, {
    title: key,
    x: { label: 'x', ticks: xTicks.map(formatTick) },
    y: { label: 'y', ticks: yTicks.map(formatTick) },
    legend: racers.map((r) => ({ label: r.label, color: r.color })),
  });
}

/** One small panel per racer: the contour plot with every swarm point where it is now. */
export function drawSwarm(
  canvas: HTMLCanvasElement,
  surface: Surface,
  racer: OptimizerChoice,
  points: Float32Array,
  caption: string,
): void {
  const ctx = canvas.getContext('2d')!;
  const view = viewOf(surface, canvas.width, canvas.height);
  ctx.drawImage(contourImage(surface, canvas.width, canvas.height), 0, 0);
  drawPoints(canvas, surface, racer.color, points);
  if (surface.minimum) star(ctx, ...view.toCanvas(...surface.minimum));
  drawEdgeAxes(canvas, surface.domain, ['x', 'y'], [6, 4], 16);
  ctx.fillStyle = 'rgba(255,255,255,0.8)';
  ctx.fillRect(0, 0, canvas.width, 16);
  ctx.fillStyle = '#111';
  ctx.font = '11px sans-serif';
  ctx.fillText(caption, 4, 12);
}

function star(ctx: CanvasRenderingContext2D, x: number, y: number): void {
  ctx.fillStyle = '#ffd400';
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 === 0 ? 8 : 3.5;
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
  }
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
}

/** Every point as a 2-pixel dot in `color` (points off the plot are skipped). */
export function drawPoints(
  canvas: HTMLCanvasElement,
  surface: Surface,
  color: string,
  points: Float32Array,
): void {
  const ctx = canvas.getContext('2d')!;
  const view = viewOf(surface, canvas.width, canvas.height);
  ctx.fillStyle = color;
  for (let k = 0; k < points.length; k += 2) {
    const [px, py] = view.toCanvas(points[k]!, points[k + 1]!);
    if (px >= 0 && py >= 0 && px < canvas.width && py < canvas.height) {
      ctx.fillRect(px - 1, py - 1, 2, 2);
    }
  }
}
