import { drawEdgeAxes } from '../shared/axes.ts';
import type { Dataset } from './datasets.ts';
import { GRID_EXTENT } from './mlp-wgsl.ts';

/** Class colours: light for the regions, saturated for the points. */
const REGION = [
  [255, 196, 160],
  [160, 200, 255],
  [180, 235, 170],
  [230, 200, 250],
];
const POINT = ['#d9480f', '#1c5fd6', '#2b8a3e', '#7b2cbf'];

/**
 * The decision boundary as an image: each grid cell coloured by the probability-weighted mix of
 * the class colours (so uncertain cells are pale), scaled up, with the dataset on top.
 */
export function drawBoundary(
  canvas: HTMLCanvasElement,
  probs: Float32Array,
  grid: number,
  dataset: Dataset,
  caption: string,
): void {
  const ctx = canvas.getContext('2d')!;
  const image = new ImageData(grid, grid);
  for (let i = 0; i < grid * grid; i++) {
    const rgb = [0, 0, 0];
    let top = 0;
    for (let c = 0; c < dataset.classes; c++) {
      const p = probs[4 * i + c]!;
      top = Math.max(top, p);
      for (let k = 0; k < 3; k++) rgb[k]! += p * REGION[c]![k]!;
    }
    const fade = Math.min(1, Math.max(0, (top - 1 / dataset.classes) * 2)); // 0 at a tie
    for (let k = 0; k < 3; k++) image.data[4 * i + k] = 255 - fade * (255 - rgb[k]!);
    image.data[4 * i + 3] = 255;
  }
  const small = document.createElement('canvas');
  small.width = grid;
  small.height = grid;
  small.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  const [lo, hi] = GRID_EXTENT;
  const toPx = (v: number, size: number) => ((v - lo) / (hi - lo)) * size;
  for (let i = 0; i < dataset.count; i++) {
    const x = dataset.points[4 * i]!;
    const y = dataset.points[4 * i + 1]!;
    ctx.fillStyle = POINT[dataset.points[4 * i + 2]!]!;
    ctx.beginPath();
    ctx.arc(toPx(x, canvas.width), canvas.height - toPx(y, canvas.height), 2, 0, 2 * Math.PI);
    ctx.fill();
  }
  drawEdgeAxes(canvas, [lo, hi, lo, hi], ['x₁', 'x₂'], [4, 4], 16);
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(0, 0, canvas.width, 16);
  ctx.fillStyle = '#111';
  ctx.font = '11px sans-serif';
  ctx.fillText(caption, 4, 12);
}
