import { gaussian, seededRandom } from '../shared/random.ts';

/** A labelled 2-D dataset: per point (x, y, label, 0), coordinates within about [-1, 1]. */
export interface Dataset {
  kind: string;
  classes: number;
  count: number;
  points: Float32Array;
}

export const DATASETS = ['spiral', 'moons', 'rings'] as const;

/** Spiral: 3 interleaved arms. Two moons: 2 half circles. Rings: a disc inside a ring. */
export function makeDataset(kind: string, count: number, seed = 1, noise = 0.06): Dataset {
  const random = seededRandom(seed);
  const classes = kind === 'spiral' ? 3 : 2;
  const points = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    const t = random();
    let x: number;
    let y: number;
    if (kind === 'spiral') {
      const r = 0.1 + 0.85 * t;
      const a = (label * 2 * Math.PI) / 3 + t * 1.75 * Math.PI;
      [x, y] = [r * Math.cos(a), r * Math.sin(a)];
    } else if (kind === 'moons') {
      const a = Math.PI * t;
      [x, y] =
        label === 0
          ? [Math.cos(a) - 0.5, Math.sin(a) - 0.25]
          : [0.5 - Math.cos(a), 0.25 - Math.sin(a)];
      [x, y] = [x * 0.75, y * 0.9];
    } else {
      const a = 2 * Math.PI * t;
      const r = label === 0 ? 0.35 * Math.sqrt(random()) : 0.65 + 0.25 * random();
      [x, y] = [r * Math.cos(a), r * Math.sin(a)];
    }
    points.set([x + noise * gaussian(random), y + noise * gaussian(random), label, 0], i * 4);
  }
  return { kind, classes, count, points };
}
