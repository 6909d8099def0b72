/**
 * Races reproducing the seed articles' observations. `racers` maps a choice label to option
 * overrides; only those racers are enabled.
 */
export interface Preset {
  id: string;
  label: string;
  note: string;
  surface: string;
  start: [number, number];
  steps: number;
  racers: Record<string, Record<string, unknown>>;
}

export const PRESETS: Preset[] = [
  {
    id: 'gd-oscillates',
    label: 'GD at lr 0.28 oscillates, AdaGrad converges (seed 000)',
    note: 'Gradient descent with lr 0.28 zig-zags across the narrow valley (0.28 × curvature 7.12 ≈ 2); AdaGrad scales each coordinate by its gradient history and walks straight in.',
    surface: 'bowl',
    start: [-5, 2],
    steps: 200,
    racers: { GD: { lr: 0.28 }, Adagrad: { lr: 1 } },
  },
  {
    id: 'adagrad-shrinks',
    label: "AdaGrad's shrinking steps vs RMSprop (seed 000)",
    note: "AdaGrad's accumulated squared gradients only grow, so its steps shrink like 1/√t; RMSprop's moving average forgets, so its steps stay the same size.",
    surface: 'bowl',
    start: [-5, 2],
    steps: 200,
    racers: { Adagrad: { lr: 0.1 }, RMSprop: { lr: 0.1 } },
  },
  {
    id: 'adadelta-slow',
    label: "Adadelta's slow start on a random surface (seed 002)",
    note: "Every optimizer runs 200 steps on a random smooth surface. Adadelta's step is √(accumulated updates)/√(accumulated gradients) × g, and the numerator starts at √eps: it barely moves.",
    surface: 'random',
    start: [-4, 4],
    steps: 200,
    racers: {
      GD: { lr: 0.5 },
      Momentum: { lr: 0.05 },
      Nesterov: { lr: 0.05 },
      Adagrad: { lr: 0.5 },
      Adadelta: { lr: 1 },
      RMSprop: { lr: 0.05 },
      Adam: { lr: 0.1 },
    },
  },
  {
    id: 'adam-overshoots',
    label: 'Adam overshoots, then comes back (seed 000)',
    note: "Adam's momentum carries it past the minimum of the bowl before it turns around; RMSprop, with no momentum, stops at the bottom.",
    surface: 'bowl',
    start: [-5, 2],
    steps: 200,
    racers: { RMSprop: { lr: 0.05 }, Adam: { lr: 0.3 } },
  },
];
