/**
 * A minimal ONNX ModelProto writer (protobuf wire format by hand): ortDevice() needs a one-node
 * model to make ORT create its WebGPU device, and the tests need small graphs whose weights are
 * inputs; no model can be downloaded there, and a graph of a few nodes needs only these fields of
 * onnx/onnx.proto: ModelProto{ir_version=1, opset_import=8, graph=7}, GraphProto{node=1, name=2,
 * input=11, output=12}, NodeProto{input=1, output=2, name=3, op_type=4},
 * ValueInfoProto{name=1, type=2}, TypeProto{tensor_type=1}, TypeProto.Tensor{elem_type=1,
 * shape=2}, TensorShapeProto{dim=1}, Dimension{dim_value=1, dim_param=2}.
 */

const FLOAT = 1; // TensorProto.DataType.FLOAT

class Writer {
  private bytes: number[] = [];
  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.raw(value);
    return this;
  }
  string(field: number, s: string): this {
    return this.message(field, new TextEncoder().encode(s));
  }
  message(field: number, body: Uint8Array): this {
    this.tag(field, 2);
    this.raw(body.length);
    for (const b of body) this.bytes.push(b);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
  private tag(field: number, wire: number): void {
    this.raw(field * 8 + wire);
  }
  private raw(v: number): void {
    // Non-negative integers below 2^53 (all this writer needs).
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }
}

/** A float32 graph input or output; a string dimension is symbolic (dim_param). */
export interface ValueInfo {
  name: string;
  dims: Array<number | string>;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
}

function valueInfo(v: ValueInfo): Uint8Array {
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim.finish());
  }
  const tensor = new Writer().varint(1, FLOAT).message(2, shape.finish()).finish();
  const type = new Writer().message(1, tensor).finish();
  return new Writer().string(1, v.name).message(2, type).finish();
}

/** ModelProto bytes of one graph of default-domain operators (opset 17, IR version 8). */
export function onnxModel(graph: {
  nodes: NodeSpec[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}): Uint8Array {
  const g = new Writer();
  graph.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    node.string(3, `${n.op.toLowerCase()}${i}`).string(4, n.op);
    g.message(1, node.finish());
  });
  g.string(2, 'webgpu-optim-test');
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const opset = new Writer().string(1, '').varint(2, 17).finish();
  return new Writer()
    .varint(1, 8)
    .string(2, 'webgpu-optim')
    .message(7, g.finish())
    .message(8, opset)
    .finish();
}
