import type { Engine } from '../../src/index.ts';
import {
  bootEngine,
  byId,
  exposeHooks,
  guarded,
  showProgress,
  showStatus,
} from '../shared/boot.ts';
import { drawLineChart, type Series } from '../shared/line-chart.ts';
import { renderChoices } from '../shared/options-form.ts';
import {
  standardChoices,
  takesVectors,
  type OptimizerChoice,
} from '../shared/optimizer-choices.ts';
import { seededRandom } from '../shared/random.ts';
import { viewOf } from './contour.ts';
import { PRESETS } from './presets.ts';
import { drawPoints, drawRace, drawSwarm } from './race-plot.ts';
import { RaceRunner } from './race-runner.ts';
import { SURFACE_IDS, SURFACE_LABELS, surfaceById, type Surface } from './surfaces.ts';

/** Learning rates that make a first race on the random surface interesting for every optimizer. */
const RACE_LRS: Record<string, number> = {
  GD: 0.5,
  Momentum: 0.05,
  Nesterov: 0.05,
  Adam: 0.1,
  AdamW: 0.1,
  Adagrad: 0.5,
  Adadelta: 1,
  RMSprop: 0.05,
  Adamax: 0.1,
  NAdam: 0.1,
  RAdam: 0.1,
  Lion: 0.02,
  LAMB: 0.05,
  LARS: 20,
};

interface RacerResult {
  label: string;
  /** Race mode: where the racer ended up and its loss there. */
  final?: [number, number];
  finalLoss?: number;
  /** Swarm mode: the median loss over all points, and the fraction of points that are finite. */
  medianLoss?: number;
  finiteFraction?: number;
}

const plot = byId<HTMLCanvasElement>('plot');
const lossCanvas = byId<HTMLCanvasElement>('loss');
const surfaceSelect = byId<HTMLSelectElement>('surface');
const presetSelect = byId<HTMLSelectElement>('preset');
const seedInput = byId<HTMLInputElement>('seed');
const stepsInput = byId<HTMLInputElement>('steps');
const swarmBox = byId<HTMLInputElement>('swarm');
const swarmPoints = byId<HTMLInputElement>('swarm-points');
const swarmGrid = byId<HTMLDivElement>('swarm-grid');
const note = byId<HTMLParagraphElement>('note');
/** The note shown when no preset is chosen (a preset's note replaces it until the surface changes). */
const DEFAULT_NOTE = note.textContent ?? '';

// A racer is a point: rules for weight matrices only (Muon) have no race to run.
const choices: OptimizerChoice[] = standardChoices(RACE_LRS).filter((c) => takesVectors(c.name));
let surface: Surface = surfaceById('random', 2);
let start: [number, number] = surface.start;
let runner: RaceRunner | undefined;
/** Bumped by every new run and by Stop; a run whose number is stale stops. */
let generation = 0;

for (const id of SURFACE_IDS) surfaceSelect.add(new Option(SURFACE_LABELS[id], id));
surfaceSelect.value = 'random';
presetSelect.add(new Option('— choose a preset —', ''));
for (const p of PRESETS) presetSelect.add(new Option(p.label, p.id));
renderChoices(byId('choices'), choices);

const engine = await bootEngine();
if (engine) startPage(engine);
else drawRace(plot, surface, start, [], []);

function startPage(engine: Engine): void {
  /** Runs a race (or swarm) for `steps`, drawing every `every` steps (and each frame when animating). */
  const run = async (steps: number, every: number, animate: boolean): Promise<RacerResult[]> => {
    const token = ++generation;
    runner?.dispose();
    const racers = choices.filter((c) => c.enabled);
    const swarm = swarmBox.checked;
    const starts = swarm
      ? swarmStarts(surface, Math.max(1, Math.floor(Number(swarmPoints.value))))
      : Float32Array.from(start);
    const r = new RaceRunner(engine, surface, racers, starts, swarm ? 0 : steps);
    runner = r;
    const curves = swarmCurves(r);
    let results: RacerResult[] = [];
    const what = `${racers.length} optimizer${racers.length === 1 ? '' : 's'}${swarm ? ` × ${r.count} points` : ''}`;
    const draw = async () => {
      results = swarm ? await drawSwarmState(r, curves) : await drawRaceState(r);
    };
    showProgress('running', `Running: step 0 of ${steps} (${what})`);
    await draw();
    while (r.steps < steps && token === generation) {
      r.step(Math.min(every, steps - r.steps));
      await draw();
      showProgress('running', `Running: step ${r.steps} of ${steps} (${what})`);
      if (animate) await new Promise(requestAnimationFrame);
    }
    await engine.sync();
    if (r.steps >= steps) showProgress('done', `Done: ${r.steps} steps (${what})`);
    else showProgress('stopped', `Stopped at step ${r.steps} of ${steps} (${what})`);
    return results;
  };

  const drawRaceState = async (r: RaceRunner): Promise<RacerResult[]> => {
    const [paths, positions] = await Promise.all([r.trajectories(), r.positions()]);
    drawRace(plot, surface, start, r.racers, paths);
    drawLineChart(
      lossCanvas,
      r.racers.map((c, i) => ({
        label: c.label,
        color: c.color,
        values: paths[i]!.filter((_, k) => k % 3 === 2),
      })),
      { title: 'loss vs step', xLabel: 'step', yLabel: 'loss f(x, y)', logY: surface.logLoss },
    );
    return r.racers.map((c, i) => {
      const [x, y] = positions[i]! as unknown as [number, number];
      return { label: c.label, final: [x, y], finalLoss: surface.f(x, y) };
    });
  };

  const drawSwarmState = async (r: RaceRunner, curves: Series[]): Promise<RacerResult[]> => {
    const positions = await r.positions();
    drawRace(plot, surface, start, [], []);
    r.racers.forEach((c, i) => drawPoints(plot, surface, c.color, positions[i]!));
    if (swarmGrid.children.length !== r.racers.length) {
      swarmGrid.replaceChildren(
        ...r.racers.map(() =>
          Object.assign(document.createElement('canvas'), { width: 240, height: 180 }),
        ),
      );
    }
    const results = r.racers.map((c, i) => {
      const points = positions[i]!;
      const losses: number[] = [];
      for (let k = 0; k < points.length; k += 2) {
        const v = surface.f(points[k]!, points[k + 1]!);
        if (Number.isFinite(v)) losses.push(v);
      }
      losses.sort((a, b) => a - b);
      const median = losses.length ? losses[losses.length >> 1]! : NaN;
      (curves[i]!.values as number[]).push(median);
      (curves[i]!.xs as number[]).push(r.steps);
      drawSwarm(
        swarmGrid.children[i] as HTMLCanvasElement,
        surface,
        c,
        points,
        `${c.label} · step ${r.steps} · median loss ${median.toPrecision(3)}`,
      );
      return {
        label: c.label,
        medianLoss: median,
        finiteFraction: losses.length / (points.length / 2),
      };
    });
    drawLineChart(lossCanvas, curves, {
      title: `median loss of ${r.count} points vs step`,
      xLabel: 'step',
      yLabel: 'median loss',
      logY: surface.logLoss,
    });
    return results;
  };

  /** Switches surface; a preset's note and selection no longer apply unless the preset did it. */
  const setSurface = (id: string, at?: [number, number], byPreset = false) => {
    if (!byPreset) {
      presetSelect.value = '';
      note.textContent = DEFAULT_NOTE;
    }
    surfaceSelect.value = id;
    surface = surfaceById(id, Number(seedInput.value));
    start = at ?? surface.start;
    generation++;
    swarmGrid.replaceChildren();
    drawRace(plot, surface, start, [], []);
  };

  const applyPreset = (id: string) => {
    const preset = PRESETS.find((p) => p.id === id);
    if (!preset) throw new RangeError(`demo: unknown preset ${id}`);
    presetSelect.value = id;
    for (const c of choices) {
      c.enabled = c.label in preset.racers;
      Object.assign(c.options, preset.racers[c.label]);
    }
    renderChoices(byId('choices'), choices);
    stepsInput.value = String(preset.steps);
    swarmBox.checked = false;
    note.textContent = preset.note;
    setSurface(preset.surface, preset.start, true);
  };

  surfaceSelect.addEventListener('change', () => setSurface(surfaceSelect.value));
  seedInput.addEventListener('change', () => setSurface(surfaceSelect.value));
  presetSelect.addEventListener(
    'change',
    guarded(() => {
      if (presetSelect.value) applyPreset(presetSelect.value);
    }),
  );
  plot.addEventListener('click', (e) => {
    const rect = plot.getBoundingClientRect();
    const view = viewOf(surface, plot.width, plot.height);
    start = view.toWorld(
      ((e.clientX - rect.left) / rect.width) * plot.width,
      ((e.clientY - rect.top) / rect.height) * plot.height,
    );
    swarmBox.checked = false;
    void run(Number(stepsInput.value), 5, true).catch(report);
  });
  byId('start').addEventListener(
    'click',
    guarded(
      async () => void (await run(Number(stepsInput.value), swarmBox.checked ? 10 : 5, true)),
    ),
  );
  byId('stop').addEventListener('click', () => generation++);
  drawRace(plot, surface, start, [], []);
  showProgress('ready', 'Ready: press Start, or click the plot to start from there');

  exposeHooks(engine, {
    /** Races the enabled optimizers (after an optional preset) for `steps` steps; resolves with where each ended. */
    race: async (o: { preset?: string; surface?: string; steps?: number } = {}) => {
      if (o.preset) applyPreset(o.preset);
      if (o.surface) setSurface(o.surface);
      swarmBox.checked = false;
      const steps = o.steps ?? Number(stepsInput.value);
      return run(steps, steps, false);
    },
    /** Swarm mode: `points` start points per optimizer, `steps` steps, drawn every `every` steps. */
    swarm: async (
      o: { surface?: string; steps?: number; points?: number; every?: number } = {},
    ) => {
      if (o.surface) setSurface(o.surface);
      swarmBox.checked = true;
      if (o.points) swarmPoints.value = String(o.points);
      const steps = o.steps ?? Number(stepsInput.value);
      return run(steps, o.every ?? Math.max(1, Math.ceil(steps / 10)), false);
    },
    presets: PRESETS.map((p) => p.id),
    optimizers: choices.map((c) => c.label),
  });
}

/** The swarm's median-loss curves, one series per racer, kept with the runner. */
const curveStore = new WeakMap<RaceRunner, Series[]>();
function swarmCurves(r: RaceRunner): Series[] {
  let curves = curveStore.get(r);
  if (!curves) {
    curves = r.racers.map((c) => ({ label: c.label, color: c.color, values: [], xs: [] }));
    curveStore.set(r, curves);
  }
  return curves;
}

/** Seeded uniform start points over the plot window, x and y interleaved. */
function swarmStarts(s: Surface, n: number): Float32Array {
  const random = seededRandom(7);
  const [x0, x1, y0, y1] = s.domain;
  const out = new Float32Array(2 * n);
  for (let k = 0; k < n; k++) {
    out[2 * k] = x0 + random() * (x1 - x0);
    out[2 * k + 1] = y0 + random() * (y1 - y0);
  }
  return out;
}

function report(e: unknown): void {
  showStatus(String(e instanceof Error ? e.message : e), 'error');
}
