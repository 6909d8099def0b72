import { onnxModel } from '../../../src/ort/onnx-model.ts';

/** Y = X·W + B with the weights as graph inputs, so they can be fed as GPU tensors. */
export function linearModel(k: number, m: number): Uint8Array {
  return onnxModel({
    nodes: [
      { op: 'MatMul', inputs: ['X', 'W'], outputs: ['XW'] },
      { op: 'Add', inputs: ['XW', 'B'], outputs: ['Y'] },
    ],
    inputs: [
      { name: 'X', dims: ['N', k] },
      { name: 'W', dims: [k, m] },
      { name: 'B', dims: [m] },
    ],
    outputs: [{ name: 'Y', dims: ['N', m] }],
  });
}
