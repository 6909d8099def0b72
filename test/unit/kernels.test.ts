import { passKernel } from '../../shaders/passes.wgsl.ts';
import type { TensorProgram } from '../../src/optimizers/spec.ts';
import { describe, expect, it } from 'vitest';
import {
  blockSumKernel,
  elementwiseKernel,
  hyperStruct,
  normKernel,
  reduceKernel,
} from '../../shaders/common.wgsl.ts';
import { createEngine } from '../../src/engine.ts';
import { WebGPUUnavailableError } from '../../src/errors.ts';
import { optimizerSpecs } from '../../src/optimizers/registry.ts';

/** Kernel text generation and option validation, checked in Node without a GPU. */
describe('uniform packing: one field list makes both the WGSL struct and the row layout', () => {
  it('fields become f32 members in order, loaded from consecutive words', () => {
    const text = hyperStruct(['lr', 'beta1', 'eps']);
    expect(text).toMatch(/struct Hyper \{\s*lr: f32,\s*beta1: f32,\s*eps: f32,/);
    expect(text).toContain('let o = launch.rowBase + index * 3u;');
    expect(text).toContain('bitcast<f32>(table[o + 0u]),');
    expect(text).toContain('bitcast<f32>(table[o + 2u]),');
  });
  it("optimizer steps read the row of the class's next step t from the ring", () => {
    const text = hyperStruct(['lr', 'first'], true, { first: 3 });
    expect(text).toContain('let t = counters[4u + 2u * index + 0u] + 1u;');
    expect(text).toContain('let touched = counters[4u + 2u * index + 1u];');
    expect(text).toContain(
      'launch.rowBase + (t & launch.ringMask) * launch.rowStride + index * 2u',
    );
    expect(text).toContain('select(0.0, 1.0, (touched & 8u) == 0u)');
  });
});

describe.each(Object.entries(optimizerSpecs).filter(([, s]) => s.body))(
  '%s kernel text',
  (name, spec) => {
    const variant = spec.variant(spec.defaults as never);
    const kernel = {
      label: name,
      fields: spec.fields,
      states: Object.keys(spec.states(spec.defaults as never)),
      body: spec.body!({ ...variant, normPass: false }),
      maximize: true,
      l2: spec.l2,
    };
    it.each([1, 4] as const)(
      'vec%i: bindings, loads and stores for every state; every field used is declared',
      (vec) => {
        const code = elementwiseKernel({ ...kernel, vec });
        expect(code).toContain(vec === 4 ? 'alias T = vec4<f32>;' : 'alias T = f32;');
        for (const s of kernel.states) {
          expect(code).toContain(`var<storage, read_write> ${s}Buf: array<T>;`);
          expect(code).toContain(`var ${s} = ${s}Buf[si];`);
          expect(code).toContain(`${s}Buf[si] = ${s};`);
        }
        for (const used of code.matchAll(/\bh\.(\w+)/g)) expect(spec.fields).toContain(used[1]);
        expect(code).not.toMatch(/#(if|else|endif)/);
      },
    );
    it('options outside their domain throw RangeErrors naming the option', () => {
      const bad = { ...spec.defaults, lr: -1 };
      expect(() => spec.validate(bad as never)).toThrow(new RegExp(`^${name}: lr `));
    });
    if (spec.norms) {
      it('the norm pass assigns every norm vector', () => {
        const code = normKernel({
          ...kernel,
          vec: 4,
          norms: spec.norms,
          body: spec.body!({ ...variant, normPass: true }),
        });
        for (let j = 0; j < spec.norms!; j++) expect(code).toMatch(new RegExp(`n${j} = `));
      });
    }
  },
);

describe.each(Object.entries(optimizerSpecs).filter(([, s]) => 'program' in s))(
  '%s pass kernels',
  (_, spec) => {
    const program = (spec as { program: (o: object, shape: number[]) => TensorProgram }).program;
    it.each([[[7]], [[5, 7]], [[2, 3, 4]]])(
      'shape %j: every field used is declared, every buffer bound, no preprocessor left',
      (shape) => {
        if ((spec as { checkShape?: (s: number[]) => unknown }).checkShape?.(shape)) return;
        const { passes } = program(spec.defaults, shape);
        for (const pass of passes) {
          const code = passKernel(
            { fields: spec.fields, stepped: true, skip: true, maximize: true },
            pass,
          );
          for (const used of code.matchAll(/\bh\.(\w+)/g)) expect(spec.fields).toContain(used[1]);
          for (const b of code.matchAll(/\b(\w+)Buf\[/g))
            expect(code).toMatch(new RegExp(`var<storage, read(_write)?> ${b[1]}Buf: array<f32>`));
          expect(code).not.toMatch(/#(if|else|endif)/);
        }
      },
    );
  },
);

it('the reductions are barrier-free and write norms, or squared norms', () => {
  expect(reduceKernel(2, true)).toContain('= sqrt(s[1]);');
  expect(reduceKernel(1, false)).toMatch(/= s;/);
  for (const code of [
    reduceKernel(2, true),
    blockSumKernel(2),
    normKernel({
      label: 'x',
      vec: 4,
      fields: [],
      states: [],
      body: 'n0 = p; n1 = g;',
      maximize: false,
      l2: false,
      norms: 2,
    }),
  ]) {
    expect(code).not.toContain('workgroupBarrier');
  }
});

it('createEngine({ gpu }) asks the given navigator.gpu-like object, and says when it has no adapter', async () => {
  // (Without { gpu }, Node finds Dawn: test/node/ covers that path.)
  const asked: unknown[] = [];
  const gpu = {
    requestAdapter: async (o: unknown) => (asked.push(o), null),
  } as unknown as GPU;
  await expect(createEngine({ gpu, powerPreference: 'high-performance' })).rejects.toThrow(
    WebGPUUnavailableError,
  );
  await expect(createEngine({ gpu })).rejects.toThrow(/no GPU adapter was found/);
  expect(asked[0]).toEqual({ powerPreference: 'high-performance' });
});
