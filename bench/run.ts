/**
 * `npm run bench [-- flags]`: times every optimizer of the registry in headless Chromium and writes
 * bench/results/<adapter>-<date>.{json,md,svg}. See bench/README.md for the flags and columns.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer';
import { createServer } from 'vite';
import { spawnSync } from 'node:child_process';
import { chromiumArgs, chromiumPath } from '../test/setup/browser.ts';
import { dawnEnvironment } from '../test/setup/dawn.ts';
import { nodeBench } from './node.ts';
import {
  CPU_MAX_SIZE,
  formatSize,
  parseSize,
  repetitions,
  sizeLimits,
  withinBudget,
} from './config.ts';
import type { Bench } from './page.ts';
import { median } from './gpu.ts';
import {
  figures,
  fmt,
  markdown,
  modelFigures,
  muonGemmFigures,
  muonGemmMarkdown,
  svg,
  type Results,
  type Row,
} from './report.ts';
import { trainingFigures, trainingMarkdown, trainingSvg } from './tfjs-training-report.ts';
import { stateDtypeMarkdown, stateDtypeSvg, type StateDtypeResults } from './state-dtype-report.ts';

/** A measurement that takes longer than this is recorded as an error (a hung device, say). */
const CALL_TIMEOUT_S = 300;
/** The TF.js training section trains a whole model three times: it may take longer. */
const TRAINING_TIMEOUT_S = 1200;
const timeoutOf = (name: string) =>
  name === 'runTraining' || name === 'runStateDtypeConvergence' || name === 'runMuonGemm'
    ? TRAINING_TIMEOUT_S
    : CALL_TIMEOUT_S;

/** Reopening the page after a failure: beyond this the run stops. */
const RECOVER_TIMEOUT_S = 180;

function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

interface Flags {
  adapter: 'default' | 'compat';
  /** Where the engine runs: headless Chromium, or Node on Dawn (the `webgpu` package). */
  runtime: 'browser' | 'node';
  sizes: number[];
  optimizers?: string[];
  quick: boolean;
  tfjs: boolean;
  cpu: boolean;
  model: boolean;
  modelTensors: number;
  modelSize: number;
  modelOptimizers?: string[];
  /** TF.js training section: off, the small MLP (default), or the 3.7M-parameter one. */
  tfjsTraining: 'off' | 'small' | 'full';
  /** Low-precision state section: ms/step and bytes per stateDtype at this size, and convergence. */
  stateDtype: boolean;
  stateDtypeSize: number;
  convergenceSteps: number;
  out: string;
}

const USAGE = `usage: npm run bench -- [--runtime browser|node] [--adapter default|compat] [--sizes 1M,16M,64M] [--optimizers Adam,SGD]
                        [--quick] [--no-tfjs] [--no-cpu] [--no-model] [--model-tensors 1000]
                        [--model-size 16M] [--model-optimizers Adam,SGD] [--out bench/results]
                        [--no-tfjs-training] [--tfjs-training-full]
                        [--no-state-dtype] [--state-dtype-size 16M] [--convergence-steps 300]`;

function parseFlags(argv: string[]): Flags {
  const args = argv.filter((a) => a !== '--' && !/bench[/\\]run\.ts$/.test(a));
  const flags: Flags = {
    adapter: 'default',
    runtime: 'browser',
    sizes: [],
    quick: false,
    tfjs: true,
    cpu: true,
    model: true,
    modelTensors: 1000,
    modelSize: 16 * 2 ** 20,
    tfjsTraining: 'small',
    stateDtype: true,
    stateDtypeSize: 16 * 2 ** 20,
    convergenceSteps: 300,
    out: join(here, 'results'),
  };
  let sizes: string | undefined;
  let modelSize: string | undefined;
  let stateDtypeSize: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [key, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new RangeError(`bench: ${key} needs a value\n${USAGE}`);
      return v;
    };
    const list = () =>
      value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    switch (key) {
      case '--adapter': {
        const v = value();
        if (v !== 'default' && v !== 'compat')
          throw new RangeError(`bench: --adapter must be default or compat, got '${v}'`);
        flags.adapter = v;
        break;
      }
      case '--runtime': {
        const v = value();
        if (v !== 'browser' && v !== 'node')
          throw new RangeError(`bench: --runtime must be browser or node, got '${v}'`);
        flags.runtime = v;
        break;
      }
      case '--sizes':
        sizes = value();
        break;
      case '--optimizers':
        flags.optimizers = list();
        break;
      case '--model-optimizers':
        flags.modelOptimizers = list();
        break;
      case '--quick':
        flags.quick = true;
        break;
      case '--no-tfjs':
        flags.tfjs = false;
        break;
      case '--no-cpu':
        flags.cpu = false;
        break;
      case '--no-model':
        flags.model = false;
        break;
      case '--model-tensors':
        flags.modelTensors = Number(value());
        if (!Number.isInteger(flags.modelTensors) || flags.modelTensors < 10)
          throw new RangeError(
            `bench: --model-tensors must be an integer >= 10, got ${flags.modelTensors}`,
          );
        break;
      case '--model-size':
        modelSize = value();
        break;
      case '--no-tfjs-training':
        flags.tfjsTraining = 'off';
        break;
      case '--tfjs-training-full':
        flags.tfjsTraining = 'full';
        break;
      case '--no-state-dtype':
        flags.stateDtype = false;
        break;
      case '--state-dtype-size':
        stateDtypeSize = value();
        break;
      case '--convergence-steps':
        flags.convergenceSteps = Number(value());
        if (!Number.isInteger(flags.convergenceSteps) || flags.convergenceSteps < 20)
          throw new RangeError(
            `bench: --convergence-steps must be an integer >= 20, got ${flags.convergenceSteps}`,
          );
        break;
      case '--out':
        flags.out = resolve(value());
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new RangeError(`bench: unknown flag '${a}'\n${USAGE}`);
    }
  }
  // TF.js's WebGPU backend needs a browser.
  if (flags.runtime === 'node') {
    flags.tfjs = false;
    flags.tfjsTraining = 'off';
  }
  flags.sizes = (sizes ?? (flags.quick ? '1M' : '1M,16M,64M')).split(',').map(parseSize);
  flags.modelSize = parseSize(modelSize ?? (flags.quick ? '4M' : '16M'));
  flags.stateDtypeSize = parseSize(stateDtypeSize ?? (flags.quick ? '1M' : '16M'));
  return flags;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'adapter';

/** Set in the child that `--runtime node` starts with Dawn's environment (see test/setup/dawn.ts). */
const NODE_CHILD = 'WEBGPU_OPTIM_BENCH_NODE_CHILD';

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const started = Date.now();
  const log = (line: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  if (flags.runtime === 'node' && !process.env[NODE_CHILD]) {
    // The Vulkan loader path must be in the environment when the process starts: run the
    // benchmark in a child that has it.
    const dawn = dawnEnvironment();
    log(`runtime node (Dawn): ${dawn.note}`);
    const cli = join(root, 'node_modules/vite-node/vite-node.mjs');
    const args = [cli, join(here, 'run.ts'), ...process.argv.slice(2)];
    const child = spawnSync(process.execPath, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...dawn.env, [NODE_CHILD]: '1' },
    });
    process.exit(child.status ?? 1);
  }
  if (flags.runtime === 'node') return runInNode(flags, log, started);

  // Our own dev server (not test/setup's) so that the page is cross-origin isolated: that gives
  // performance.now() 5 us resolution instead of 100 us, which the host-encode figure needs.
  const server = await createServer({
    root,
    logLevel: 'error',
    server: {
      host: '127.0.0.1',
      port: 0,
      // Others edit src/ while a run goes on: no reloads of the page mid-run.
      hmr: false,
      watch: null,
      headers: {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      },
    },
    // Pre-bundle TF.js up front and discover nothing later: a dependency found mid-run would make
    // vite re-bundle and reload the page. Its own cache, apart from the test servers' one.
    cacheDir: 'node_modules/.vite-bench',
    optimizeDeps: {
      noDiscovery: true,
      include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'],
    },
  });
  await server.listen();
  const baseUrl = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
  const browser = await puppeteer.launch({
    headless: true,
    executablePath: chromiumPath(),
    // Developer features: un-quantized timestamp queries.
    args: [...chromiumArgs(flags.adapter), '--enable-webgpu-developer-features'],
    protocolTimeout: 60 * 60 * 1000,
  });
  try {
    const query = flags.adapter === 'compat' ? '?featureLevel=compatibility' : '';
    const open = async () => {
      const p = await browser.newPage();
      p.on('pageerror', (e) => log(`page error: ${String(e)}`));
      p.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warn') log(`page ${m.type()}: ${m.text()}`);
      });
      await p.goto(`${baseUrl}/bench/bench.html${query}`);
      await p.waitForFunction('window.bench', { timeout: 120_000 });
      return p;
    };
    let page = await open();
    const evaluate = <K extends keyof Bench>(name: K, args: unknown[]) =>
      page.evaluate(
        (n, a) => (window.bench[n] as (...x: unknown[]) => unknown)(...a),
        name,
        args,
      ) as Promise<Awaited<ReturnType<Bench[K]>>>;
    // A measurement that kills the page (renderer out of memory, device lost) is recorded as an
    // error and the run goes on in a fresh page.
    const call = async <K extends keyof Bench>(name: K, ...args: Parameters<Bench[K]>) => {
      try {
        return (await withTimeout(evaluate(name, args), timeoutOf(name), 'no answer')) as Awaited<
          ReturnType<Bench[K]>
        >;
      } catch (e) {
        const error = `page failed: ${e instanceof Error ? e.message : String(e)}`;
        log(`${name}(${args.join(', ')}): ${error}; reopening the page`);
        // If the browser cannot give us a working page again, stop measuring (results so far
        // are still written).
        await withTimeout(
          (async () => {
            await page.close().catch(() => {});
            page = await open();
            await evaluate('init', []);
          })(),
          RECOVER_TIMEOUT_S,
          'reopening the page',
        );
        return { error } as never;
      }
    };

    await measureAll(flags, log, started, evaluate, call as unknown as Call);
  } finally {
    await browser.close();
    await server.close();
  }
}

type Evaluate = <K extends keyof Bench>(
  name: K,
  args: unknown[],
) => Promise<Awaited<ReturnType<Bench[K]>>>;
type Call = <K extends keyof Bench>(
  name: K,
  ...args: Parameters<Bench[K]>
) => Promise<Awaited<ReturnType<Bench[K]>>>;

/** Every measurement of the run, through `evaluate`/`call` (a page, or Node), then the reports. */
async function measureAll(
  flags: Flags,
  log: (line: string) => void,
  started: number,
  evaluate: Evaluate,
  call: Call,
): Promise<void> {
  const env = await evaluate('init', []);
  log(
    `adapter: ${env.adapter} (${env.featureLevel}); features: ${env.features.join(', ') || 'none'}`,
  );
  log(
    `limits: page ${formatSize(env.limits.pageElements)} elements, ${env.limits.maxComputeWorkgroupsPerDimension} workgroups/dim; timer ${fmt(env.timerResolutionMs)} ms${env.crossOriginIsolated ? '' : ' (not cross-origin isolated)'}`,
  );
  const names = flags.optimizers ?? env.optimizers;
  for (const n of names) {
    if (!env.optimizers.includes(n))
      throw new RangeError(
        `bench: unknown optimizer '${n}'; the registry has ${env.optimizers.join(', ')}`,
      );
  }
  const command = `npm run bench${
    process.argv.length > 2
      ? ' -- ' +
        process.argv
          .slice(2)
          .filter((a) => a !== '--')
          .join(' ')
      : ''
  }`;
  const results: Results = {
    date: new Date().toISOString().slice(0, 10),
    adapter: env.adapter,
    featureLevel: env.featureLevel,
    environment: {
      ...env,
      runtime: flags.runtime,
      ...(flags.runtime === 'browser' ? { chromiumArgs: chromiumArgs(flags.adapter) } : {}),
      flags,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
      loadAverageAtStart: loadavg(),
    },
    command,
    rows: [],
    model: [],
  };

  // Slow steps (large sizes, slow optimizers) get fewer repetitions: predicted from the last
  // smaller size of the same optimizer and subject.
  const budgetMs = flags.quick ? 5_000 : 20_000;
  const last = new Map<string, { size: number; ms: number }>();
  const plan = (key: string, size: number, base: { warmup: number; reps: number }) => {
    const prev = last.get(key);
    return withinBudget(base, prev && (prev.ms * size) / prev.size, budgetMs);
  };
  const remember = (key: string, size: number, ms: number | undefined) => {
    if (ms !== undefined) last.set(key, { size, ms });
  };

  let incomplete: string | undefined;
  try {
    // The first measurements of a fresh browser run slow (shader compiler threads, first touch of
    // memory): one discarded run first.
    const first = names.find((n) => !sizeLimits[n]) ?? 'Adam';
    await call('runOptimizer', first, Math.min(...flags.sizes), 1, 3);
    log('warm-up run done (discarded)');

    const total = flags.sizes.length * names.length;
    let k = 0;
    for (const size of [...flags.sizes].sort((a, b) => a - b)) {
      const base = repetitions(size, flags.quick);
      for (const name of names) {
        const tag = `[${String(++k).padStart(2)}/${total}] ${name} ${formatSize(size)}`;
        const limit = sizeLimits[name];
        if (limit && size > limit.max) {
          log(`${tag} not timed here: ${limit.why}`);
          continue;
        }
        const { warmup, reps } = plan(`ours/${name}`, size, base);
        const ours = await call('runOptimizer', name, size, warmup, reps);
        const row: Row = { optimizer: name, size, warmup, reps, ours };
        results.rows.push(row);
        let f = figures(row);
        remember(`ours/${name}`, size, f.oursWall);
        log(
          `${tag} ours: ${'error' in ours ? ours.error : `${fmt(f.oursWall)} ms wall, ${fmt(f.oursGpu)} ms GPU (${warmup}+${reps} steps)`}`,
        );
        if ('states' in ours) {
          const stream = (row.stream = ours.stream ?? { error: 'not run' });
          delete ours.stream;
          f = figures(row);
          log(
            `${tag} stream (${ours.states} state buffers, timed in turns with ours): ${'error' in stream ? stream.error : 'na' in stream ? stream.na : `${fmt(f.streamWall)} ms wall, ${fmt(f.streamGpu)} ms GPU; roofline ${fmt(f.roofline)} GPU, ${fmt(f.rooflineWall)} wall`}`,
          );
        }
        if (flags.tfjs) {
          const r = plan(`tfjs/${name}`, size, base);
          const t = (row.tfjs = await call('runTfjs', name, size, r.warmup, r.reps));
          f = figures(row);
          remember(`tfjs/${name}`, size, f.tfWall);
          log(
            `${tag} TF.js: ${'na' in t ? `n/a (${t.na})` : 'error' in t ? t.error : `${fmt(f.tfWall)} ms wall, ${fmt(f.tfGpu)} ms GPU (${r.warmup}+${r.reps} steps); ours ${fmt(f.vsTfjs)}× faster`}`,
          );
        }
        if (flags.cpu && size <= CPU_MAX_SIZE) {
          const c = (row.cpu = await call('runReference', name, size, 1, size <= 2 ** 20 ? 3 : 1));
          f = figures(row);
          log(
            `${tag} CPU float64 reference: ${'na' in c ? `n/a (${c.na})` : 'error' in c ? c.error : `${fmt(f.cpu)} ms (median of ${c.ms.length} after 1 warm-up); ours ${fmt(f.vsCpu)}× faster`}`,
          );
        } else if (flags.cpu) {
          row.cpu = {
            na: `not measured above ${formatSize(CPU_MAX_SIZE)} (float64 buffers in the page)`,
          };
        }
      }
    }

    if (flags.model) {
      const modelNames = flags.modelOptimizers ?? names;
      const { warmup, reps } = repetitions(flags.modelSize, flags.quick);
      // Host timing wants a few more samples; the first step plans 1000 tensors, so one more warm-up.
      const base = { warmup: warmup + 1, reps: Math.max(reps, flags.quick ? 5 : 9) };
      for (const name of modelNames) {
        const limit = sizeLimits[name];
        if (limit && flags.modelSize > limit.max) {
          log(`model ${name}: not timed: ${limit.why}`);
          continue;
        }
        // Two subjects in turns (tensors, flat): half the budget each; always one warm-up step,
        // as the first one plans and compiles.
        const prev = last.get(`ours/${name}`);
        const r = withinBudget(base, prev && (prev.ms * flags.modelSize) / prev.size, budgetMs / 2);
        r.warmup = Math.max(1, r.warmup);
        const result = await call(
          'runModel',
          name,
          flags.modelTensors,
          flags.modelSize,
          r.warmup,
          r.reps,
        );
        const m = { optimizer: name, warmup: r.warmup, reps: r.reps, result };
        results.model.push(m);
        const f = modelFigures(m);
        log(
          `model ${name}: ${f ? `${flags.modelTensors} tensors ${fmt(f.manyWall)} ms vs flat ${fmt(f.flatWall)} ms wall (ratio ${fmt(f.ratioWall)}, GPU ${fmt(f.ratioGpu)}); host encode ${fmt(f.hostMany)} ms (flat ${fmt(f.hostFlat)} ms); ${r.warmup}+${r.reps} steps` : 'error' in result ? result.error : ''}`,
        );
      }
    }
    if (names.includes('Muon')) {
      const n = 1024;
      const m = (results.muonGemm = await call('runMuonGemm', n, 1, flags.quick ? 1 : 2));
      if ('error' in m) log(`Muon and GEMM: ${m.error}`);
      else {
        const f = muonGemmFigures(m);
        log(
          `Muon [${n}, ${n}]: ${fmt(f.ms.muon)} ms/step (${fmt(f.gflops.muon)} GFLOP/s in its GEMMs); tiled GEMM ${n}^3 ${fmt(f.ms.tiled)} ms (${fmt(f.gflops.tiled)} GFLOP/s); plain GEMM ${fmt(f.ms.plain)} ms (${fmt(f.gflops.plain)} GFLOP/s)`,
        );
      }
    }
    if (flags.stateDtype) {
      const sd: StateDtypeResults = (results.stateDtype = {
        size: flags.stateDtypeSize,
        steps: [],
      });
      const { warmup, reps } = repetitions(flags.stateDtypeSize, flags.quick);
      for (const name of ['Adam', 'AdamW']) {
        const result = await call('runStateDtype', name, flags.stateDtypeSize, warmup, reps);
        sd.steps.push({ optimizer: name, result });
        log(
          `stateDtype ${name} ${formatSize(flags.stateDtypeSize)}: ${'error' in result ? result.error : result.rows.map((r) => `${r.dtype} ${fmt(r.stateBytes / flags.stateDtypeSize)} B/param ${fmt(median(r.timing.wall))} ms`).join(', ')}`,
        );
      }
      const conv = (sd.convergence = await call(
        'runStateDtypeConvergence',
        flags.convergenceSteps,
      ));
      log(
        `stateDtype convergence: ${'error' in conv ? conv.error : conv.curves.map((c) => `${c.problem}/${c.optimizer}/${c.dtype} ${fmt(c.final)}`).join(', ')}`,
      );
    }
    if (flags.tfjsTraining !== 'off') {
      const t = (results.tfjsTraining = await call('runTraining', flags.tfjsTraining === 'full'));
      for (const x of 'error' in t ? [] : trainingFigures(t))
        log(
          `TF.js training ${x.name}: ${fmt(x.train)} ms/training step (${fmt(x.trainRatio)}× tf.train.adam's speed), ${fmt(x.opt)} ms/optimizer step (${fmt(x.optRatio)}×), final loss ${fmt(x.finalLoss)}`,
        );
      if ('error' in t) log(`TF.js training: ${t.error}`);
    }
  } catch (e) {
    incomplete = e instanceof Error ? e.message : String(e);
    results.incomplete = incomplete;
    log(`stopped: ${incomplete}; writing what was measured`);
  }

  results.seconds = (Date.now() - started) / 1000;
  results.environment.loadAverageAtEnd = loadavg();
  const md =
    markdown(results) +
    muonGemmMarkdown(results.muonGemm) +
    (results.tfjsTraining ? trainingMarkdown(results.tfjsTraining, env.adapter) : '') +
    (results.stateDtype ? stateDtypeMarkdown(results.stateDtype, env.adapter) : '');
  console.log(`\n${md}`);
  mkdirSync(flags.out, { recursive: true });
  const base = join(
    flags.out,
    `${slug(env.adapter)}${flags.adapter === 'compat' ? '-compat' : ''}${flags.runtime === 'node' ? '-node' : ''}-${results.date}`,
  );
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 1) + '\n');
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, svg(results) + '\n');
  if (results.tfjsTraining && !('error' in results.tfjsTraining))
    writeFileSync(
      `${base}-tfjs-training.svg`,
      trainingSvg(results.tfjsTraining, env.adapter) + '\n',
    );
  if (results.stateDtype)
    writeFileSync(`${base}-state-dtype.svg`, stateDtypeSvg(results.stateDtype, env.adapter) + '\n');
  log(`wrote ${base}.{json,md,svg}`);
  if (incomplete) process.exitCode = 1;
}

/** `--runtime node`: the same measurements called directly, in this process, on Dawn. */
async function runInNode(flags: Flags, log: (line: string) => void, started: number) {
  const bench = await nodeBench();
  const evaluate: Evaluate = (name, args) =>
    (bench[name] as (...x: unknown[]) => Promise<never>)(...args);
  const call = (async <K extends keyof Bench>(name: K, ...args: Parameters<Bench[K]>) => {
    try {
      return (await withTimeout(evaluate(name, args), timeoutOf(name), 'no answer')) as Awaited<
        ReturnType<Bench[K]>
      >;
    } catch (e) {
      return { error: `failed: ${e instanceof Error ? e.message : String(e)}` } as never;
    }
  }) as unknown as Call;
  await measureAll(flags, log, started, evaluate, call);
  // Dawn keeps the process alive while its device lives.
  process.exit(process.exitCode ?? 0);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
