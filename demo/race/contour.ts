import type { Surface } from './surfaces.ts';

/** World (surface) coordinates to canvas pixels and back, for a canvas showing `surface.domain`. */
export interface View {
  toCanvas(x: number, y: number): [number, number];
  toWorld(px: number, py: number): [number, number];
}

export function viewOf(surface: Surface, width: number, height: number): View {
  const [x0, x1, y0, y1] = surface.domain;
  return {
    toCanvas: (x, y) => [((x - x0) / (x1 - x0)) * width, (1 - (y - y0) / (y1 - y0)) * height],
    toWorld: (px, py) => [x0 + (px / width) * (x1 - x0), y0 + (1 - py / height) * (y1 - y0)],
  };
}

const LEVELS = 24;
const cache = new Map<string, HTMLCanvasElement>();

/**
 * A filled contour plot of the surface: colour by level (light = low), with a dark line wherever
 * the level changes between neighbouring pixels. Levels are even in f, or in log f for surfaces
 * that span decades (Rosenbrock, Beale). Cached per surface and size.
 */
export function contourImage(surface: Surface, width: number, height: number): HTMLCanvasElement {
  const key = `${surface.label}/${width}x${height}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const view = viewOf(surface, width, height);
  const values = new Float64Array(width * height);
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const [x, y] = view.toWorld(i + 0.5, j + 0.5);
      const v = surface.f(x, y);
      values[j * width + i] = v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const t = surface.logContours
    ? (v: number) => Math.log(v - lo + 1e-3) - Math.log(1e-3)
    : (v: number) => v - lo;
  const top = t(hi) || 1;
  const level = new Uint8Array(width * height);
  for (let k = 0; k < values.length; k++) {
    level[k] = Math.min(LEVELS - 1, Math.floor((t(values[k]!) / top) * LEVELS));
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const k = j * width + i;
      const s = level[k]! / (LEVELS - 1);
      const edge = (i > 0 && level[k - 1] !== level[k]) || (j > 0 && level[k - width] !== level[k]);
      const shade = edge ? 0.75 : 1;
      image.data[k * 4] = (235 - 60 * s) * shade;
      image.data[k * 4 + 1] = (245 - 150 * s) * shade;
      image.data[k * 4 + 2] = (255 - 200 * s) * shade;
      image.data[k * 4 + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  cache.set(key, canvas);
  return canvas;
}
