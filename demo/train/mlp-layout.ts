import { seededRandom } from '../shared/random.ts';

/**
 * Where each tensor of the MLP 2 -> hidden (tanh) -> hidden (tanh) -> classes (softmax) lives in
 * one flat float buffer. Weights are row-major [in][out]. Each tensor starts on a multiple of 4
 * floats, so the zero-copy Parameters wrapping them are 16-byte aligned (the optimizers' vec4 path).
 */
export interface MlpLayout {
  hidden: number;
  classes: number;
  tensors: Record<TensorName, { offset: number; length: number; fanIn: number }>;
  /** Floats in the buffer, padding included. */
  total: number;
}

export type TensorName = 'w1' | 'b1' | 'w2' | 'b2' | 'w3' | 'b3';

export function mlpLayout(hidden: number, classes: number): MlpLayout {
  const shapes: Array<[TensorName, number, number]> = [
    ['w1', 2 * hidden, 2],
    ['b1', hidden, 2],
    ['w2', hidden * hidden, hidden],
    ['b2', hidden, hidden],
    ['w3', hidden * classes, hidden],
    ['b3', classes, hidden],
  ];
  let offset = 0;
  const tensors = {} as MlpLayout['tensors'];
  for (const [name, length, fanIn] of shapes) {
    tensors[name] = { offset, length, fanIn };
    offset += Math.ceil(length / 4) * 4;
  }
  return { hidden, classes, tensors, total: offset };
}

/** torch.nn.Linear's default init: weights and biases uniform in ±1/sqrt(fanIn). */
export function initialWeights(layout: MlpLayout, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(layout.total);
  for (const t of Object.values(layout.tensors)) {
    const bound = 1 / Math.sqrt(t.fanIn);
    for (let i = 0; i < t.length; i++) out[t.offset + i] = (2 * random() - 1) * bound;
  }
  return out;
}
