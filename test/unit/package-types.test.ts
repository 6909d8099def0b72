import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm run build`, `npm pack`, the tarball installed into a scratch
 * consumer project, which type-checks (with TypeScript 5.x, the repo's, and the current one) and
 * bundles under moduleResolution bundler, node16 and nodenext. The install is offline: the tarball
 * has no dependencies, and its peer @webgpu/types is linked from this repo (npm would install it).
 */
const root = resolve('.');
const TYPESCRIPTS = [
  ['TypeScript 5.x', join(root, 'node_modules/typescript/bin/tsc')],
  ['current TypeScript', join(root, 'node_modules/typescript-latest/bin/tsc')],
] as const;
/** Browser-style projects have lib dom; the nodenext one is a Node project without it. */
const MODES = [
  { moduleResolution: 'bundler', module: 'esnext', lib: ['es2022', 'dom'] },
  { moduleResolution: 'node16', module: 'node16', lib: ['es2022', 'dom'] },
  { moduleResolution: 'nodenext', module: 'nodenext', lib: ['es2022'] },
];

/** What a user writes: the API.md walkthrough, plus the Node and torch.optim conveniences. */
const CONSUMER = `import {
  createEngine, Adam, SGD, CosineAnnealingLR, clipGradNorm, saveCheckpoint,
  WebGPUUnavailableError, type Engine, type StateDict,
} from 'webgpu-optim';

export async function train(gpu?: GPU): Promise<number> {
  let engine: Engine;
  try {
    engine = await createEngine(gpu ? { gpu } : {});
  } catch (e) {
    if (e instanceof WebGPUUnavailableError) return -1;
    throw e;
  }
  const device: GPUDevice = engine.device;
  const w = engine.parameter(new Float32Array(8));
  const b = engine.parameter(4);
  w.grad.write(new Float32Array(8).fill(1));
  const opt = new Adam([w], { lr: 1e-3, betas: [0.9, 0.999] });
  opt.addParamGroup({ params: [b], lr: 1e-2 });
  const sched = new CosineAnnealingLR(opt, { tMax: 10 });
  clipGradNorm([w, b], 1.0);
  opt.step();
  sched.step();
  const state = await opt.stateOf(w);
  const steps: number = state.step as number;
  const sd: StateDict = await opt.stateDict();
  const bytes: Uint8Array = await saveCheckpoint(opt);
  new SGD([{ params: [engine.parameter(2)], lr: 0.1 }]).zeroGrad();
  // @ts-expect-error internal members are not in the declarations
  opt.tensorState(0);
  return steps + Object.keys(sd.state).length + bytes.length + device.limits.maxBufferSize;
}
`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webgpu-optim-consumer-'));
  const run = (cmd: string, args: string[], cwd: string) =>
    execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  run('npm', ['run', 'build', '--silent'], root);
  const tarball = run(
    'npm',
    ['pack', '--pack-destination', dir, '--ignore-scripts', '--silent'],
    root,
  ).trim();
  const consumer = join(dir, 'consumer');
  mkdirSync(join(consumer, 'node_modules/@webgpu'), { recursive: true });
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  run(
    'npm',
    [
      'install',
      '--offline',
      '--legacy-peer-deps',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      join(dir, tarball.split('\n').pop()!),
    ],
    consumer,
  );
  symlinkSync(
    join(root, 'node_modules/@webgpu/types'),
    join(consumer, 'node_modules/@webgpu/types'),
  );
  writeFileSync(join(consumer, 'index.ts'), CONSUMER);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** tsc's output ('' when clean). */
function typecheck(tsc: string, cwd: string): string {
  try {
    execFileSync(process.execPath, [tsc, '-p', '.'], { cwd, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(e);
  }
}

describe('the packed tarball in a consumer project', () => {
  it('ships the bundle, declarations with .js specifiers, no @internal members, and a LICENSE', () => {
    const pkg = join(dir, 'consumer/node_modules/webgpu-optim');
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toMatch(/MIT License/);
    const index = readFileSync(join(pkg, 'dist/src/index.d.ts'), 'utf8');
    expect(index).toMatch(/reference types="@webgpu\/types"/);
    expect(index).toMatch(/from '\.\/engine\.js'/);
    expect(index).not.toMatch(/from '\.[^']*\.ts'/);
    const optimizer = readFileSync(join(pkg, 'dist/src/optimizer.d.ts'), 'utf8');
    expect(optimizer).toMatch(/addParamGroup\(/);
    expect(optimizer).not.toMatch(/^\s*(tensorState|settle)\(/m);
  });

  for (const [tsName, tsc] of TYPESCRIPTS) {
    it.each(MODES)(
      `type-checks with ${tsName} under moduleResolution $moduleResolution, lib $lib`,
      (m) => {
        const cwd = join(dir, 'consumer');
        const config = `tsconfig.json`;
        writeFileSync(
          join(cwd, config),
          JSON.stringify({
            compilerOptions: {
              target: 'es2022',
              lib: m.lib,
              module: m.module,
              moduleResolution: m.moduleResolution,
              strict: true,
              noEmit: true,
              // As nearly every project has it: lib.dom of TypeScript >= 5.9 declares some WebGPU
              // names that @webgpu/types declares too, which only a check of .d.ts files reports.
              skipLibCheck: true,
              types: [],
            },
            files: ['index.ts'],
          }),
        );
        expect(typecheck(tsc, cwd)).toBe('');
      },
    );
  }

  it('bundles for the browser (esbuild) without pulling in Dawn', () => {
    const cwd = join(dir, 'consumer');
    const out = join(dir, 'bundle.js');
    execFileSync(
      join(root, 'node_modules/.bin/esbuild'),
      ['index.ts', '--bundle', '--format=esm', '--platform=browser', `--outfile=${out}`],
      { cwd, encoding: 'utf8', stdio: 'pipe' },
    );
    const js = readFileSync(out, 'utf8');
    expect(js).toMatch(/addParamGroup/);
    expect(js).not.toMatch(/dawn\.node/);
  });
});
