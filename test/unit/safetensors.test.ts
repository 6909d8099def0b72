import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/safetensors.ts';

/** The safetensors encoder/decoder in Node: byte layout, round trips and every malformed input. */

/** A file from a header (object or raw text), data bytes, and optionally a forged header length. */
function file(header: object | string, data = new Uint8Array(0), length?: number): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === 'string' ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, length ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const bits = (a: Float32Array | Float64Array) =>
  Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe('safetensors', () => {
  it('round-trips F32 and F64 tensors bit-exactly, scalars and metadata included', () => {
    const special = new Float32Array([0, -0, 1.5, -3.25e-38, 3.4e38, 1e-45, NaN, Infinity]);
    const step = new Float32Array([7]);
    const mu = new Float64Array([0.1 + 0.2]);
    const matrix = Float32Array.from({ length: 6 }, (_, i) => Math.sin(i));
    const bytes = encodeSafetensors(
      [
        ['state.0.mu_product', { shape: [], data: mu }],
        ['a', { shape: [8], data: special }],
        ['state.0.step', { shape: [], data: step }],
        ['m', { shape: [2, 3], data: matrix }],
        ['empty', { shape: [0], data: new Float32Array(0) }],
      ],
      { format: 'test', note: 'ü ✓' },
    );
    const f = decodeSafetensors(bytes);
    expect(f.metadata).toEqual({ format: 'test', note: 'ü ✓' });
    expect([...f.tensors.keys()].sort()).toEqual(
      ['a', 'empty', 'm', 'state.0.mu_product', 'state.0.step'].sort(),
    );
    const get = (name: string) => f.tensors.get(name)!;
    expect(get('a').dtype).toBe('F32');
    expect(bits(get('a').data as Float32Array)).toEqual(bits(special));
    expect(get('state.0.step')).toMatchObject({ dtype: 'F32', shape: [] });
    expect(Array.from(get('state.0.step').data)).toEqual([7]);
    expect(get('state.0.mu_product').dtype).toBe('F64');
    expect((get('state.0.mu_product').data as Float64Array)[0]).toBe(0.1 + 0.2);
    expect(get('m').shape).toEqual([2, 3]);
    expect(bits(get('m').data as Float32Array)).toEqual(bits(matrix));
    expect(get('empty').data.length).toBe(0);
  });

  it('writes the layout of the reference: u64 LE header length, space-padded JSON, raw LE data', () => {
    const bytes = encodeSafetensors([['x', { shape: [2], data: new Float32Array([1, -2]) }]], {
      k: 'v',
    });
    const view = new DataView(bytes.buffer);
    const n = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"k":"v"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
    );
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.length).toBe(8 + n + 8);
    expect(view.getFloat32(8 + n, true)).toBe(1);
    expect(view.getFloat32(8 + n + 4, true)).toBe(-2);
    // Every header length pads to the next multiple of 8.
    for (let len = 1; len < 20; len++) {
      const b = encodeSafetensors([], { k: 'x'.repeat(len) });
      expect(new DataView(b.buffer).getUint32(0, true) % 8).toBe(0);
    }
  });

  it('reads a file written by another writer (unpadded header, data in any tensor order)', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const f = decodeSafetensors(
      file(
        {
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        },
        data,
      ),
    );
    expect(Array.from(f.tensors.get('a')!.data)).toEqual([1, 2]);
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([3]);
    expect(f.metadata).toEqual({});
  });

  it('refuses to encode inconsistent input', () => {
    expect(() => encodeSafetensors([['x', { shape: [3], data: new Float32Array(2) }]])).toThrow(
      /tensor 'x' has shape \[3\] but 2 elements/,
    );
    expect(() =>
      encodeSafetensors([['__metadata__', { shape: [0], data: new Float32Array(0) }]]),
    ).toThrow(/reserved/);
    expect(() => encodeSafetensors([], { k: 1 as unknown as string })).toThrow(/must be a string/);
  });

  const f32 = (n: number) => new Uint8Array(n * 4);
  const one = (info: object, data = f32(2)) => file({ x: info }, data);
  const malformed: Array<[string, () => Uint8Array, RegExp]> = [
    ['empty file', () => new Uint8Array(0), /0 bytes, too short/],
    ['truncated length', () => new Uint8Array(5), /5 bytes, too short/],
    [
      'header length beyond the file',
      () => file('{}', new Uint8Array(0), 100),
      /header length 100 runs past the end of the 10-byte file/,
    ],
    [
      'huge u64 header length',
      () => {
        const b = file('{}');
        new DataView(b.buffer).setUint32(4, 1, true);
        return b;
      },
      /header length 4294967298 exceeds/,
    ],
    [
      'truncated data',
      () => one({ dtype: 'F32', shape: [2], data_offsets: [0, 8] }, f32(1)),
      /data_offsets \[0, 8\] beyond the 4 data bytes/,
    ],
    ['header not JSON', () => file('{"x": '), /not valid JSON/],
    ['header not an object', () => file('[1, 2]'), /must be a JSON object/],
    [
      'header not UTF-8',
      () => {
        const b = file('{ }');
        b[9] = 0xff;
        return b;
      },
      /not valid UTF-8/,
    ],
    [
      'metadata not strings',
      () => file({ __metadata__: { a: 1 } }),
      /__metadata__\.a must be a string/,
    ],
    ['metadata not an object', () => file({ __metadata__: 'x' }), /__metadata__ must be an object/],
    ['tensor not an object', () => file({ x: 3 }), /tensor 'x' must be an object/],
    [
      'unknown dtype',
      () => one({ dtype: 'F31', shape: [2], data_offsets: [0, 8] }),
      /unknown dtype "F31"/,
    ],
    ['missing dtype', () => one({ shape: [2], data_offsets: [0, 8] }), /unknown dtype undefined/],
    ['bad shape', () => one({ dtype: 'F32', shape: [-2], data_offsets: [0, 8] }), /shape \[-2\]/],
    ['shape not an array', () => one({ dtype: 'F32', shape: 2, data_offsets: [0, 8] }), /shape 2/],
    [
      'bad offsets',
      () => one({ dtype: 'F32', shape: [2], data_offsets: [0] }),
      /data_offsets \[0\], expected \[begin, end\]/,
    ],
    [
      'fractional offsets',
      () => one({ dtype: 'F32', shape: [2], data_offsets: [0, 7.5] }),
      /expected \[begin, end\]/,
    ],
    [
      'begin after end',
      () => one({ dtype: 'F32', shape: [0], data_offsets: [8, 0] }),
      /begin > end/,
    ],
    [
      'size does not match the shape',
      () => one({ dtype: 'F32', shape: [3], data_offsets: [0, 8] }),
      /needs 12 bytes, data_offsets \[0, 8\] hold 8/,
    ],
    [
      'size does not match the dtype',
      () => one({ dtype: 'F64', shape: [2], data_offsets: [0, 8] }),
      /needs 16 bytes/,
    ],
    [
      'unknown field',
      () => one({ dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 }),
      /unknown field 'extra'/,
    ],
    [
      'overlapping tensors',
      () =>
        file(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          f32(3),
        ),
      /tensor 'b' \[4, 12\) overlaps 'a' \[0, 8\)/,
    ],
    [
      'a gap between tensors',
      () =>
        file(
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
          },
          f32(3),
        ),
      /data bytes \[4, 8\) belong to no tensor/,
    ],
    [
      'trailing bytes',
      () => one({ dtype: 'F32', shape: [2], data_offsets: [0, 8] }, f32(3)),
      /data bytes \[8, 12\) belong to no tensor/,
    ],
  ];
  it.each(malformed)('rejects: %s', (_, make, message) => {
    const bytes = make();
    let error: unknown;
    try {
      decodeSafetensors(bytes);
    } catch (e) {
      error = e;
    }
    expect(error, 'no error thrown').toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects what is not bytes', () => {
    expect(() => decodeSafetensors('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
