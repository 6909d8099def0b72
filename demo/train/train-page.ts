import type { Engine } from '../../src/index.ts';
import { bootEngine, byId, exposeHooks, guarded, showProgress } from '../shared/boot.ts';
import { drawLineChart } from '../shared/line-chart.ts';
import { renderChoices } from '../shared/options-form.ts';
import { standardChoices } from '../shared/optimizer-choices.ts';
import { drawBoundary } from './boundary-plot.ts';
import { DATASETS, makeDataset } from './datasets.ts';
import { GRID, TrainingSession } from './mlp-trainer.ts';
import { SCHEDULERS } from './scheduler-choices.ts';

/** Learning rates that train this MLP in a few hundred steps. */
const TRAIN_LRS: Record<string, number> = {
  GD: 0.5,
  Momentum: 0.1,
  Nesterov: 0.1,
  Adam: 0.02,
  AdamW: 0.02,
  Adagrad: 0.1,
  Adadelta: 1,
  RMSprop: 0.005,
  Adamax: 0.02,
  NAdam: 0.02,
  RAdam: 0.02,
  Lion: 0.003,
  LAMB: 0.02,
  LARS: 1,
  Adafactor: 0.05,
  Muon: 0.02,
};
const ENABLED = new Set(['GD', 'Momentum', 'Adagrad', 'RMSprop', 'Adam']);

interface TrainSettings {
  dataset?: string;
  optimizers?: string[];
  scheduler?: string;
  batchSize?: number;
  hidden?: number;
  points?: number;
  stateDtype?: string;
}

const choices = standardChoices(TRAIN_LRS);
for (const c of choices) c.enabled = ENABLED.has(c.label);
renderChoices(byId('choices'), choices);
const datasetSelect = byId<HTMLSelectElement>('dataset');
for (const d of DATASETS) datasetSelect.add(new Option(d, d));
datasetSelect.value = 'moons';
const stateDtypeSelect = byId<HTMLSelectElement>('stateDtype');
const schedulerSelect = byId<HTMLSelectElement>('scheduler');
for (const s of Object.keys(SCHEDULERS)) schedulerSelect.add(new Option(s, s));
const number = (id: string) => Math.max(1, Math.floor(Number(byId<HTMLInputElement>(id).value)));

const engine = await bootEngine();
if (engine) startPage(engine);

function startPage(engine: Engine): void {
  let session: TrainingSession | undefined;
  let generation = 0;

  const newSession = (minSteps: number): TrainingSession => {
    session?.dispose();
    const dataset = makeDataset(datasetSelect.value, number('points'), 1);
    session = new TrainingSession(
      engine,
      dataset,
      choices.filter((c) => c.enabled),
      {
        hidden: Math.min(64, number('hidden')),
        batchSize: Math.min(number('batch'), dataset.count),
        steps: Math.max(minSteps, number('steps')),
        scheduler: schedulerSelect.value,
        seed: 3,
        stateDtype: stateDtypeSelect.value,
      },
    );
    return session;
  };

  const smooth = (values: number[], window = 10) =>
    values.map((_, i) => {
      const from = Math.max(0, i - window + 1);
      return values.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
    });

  const draw = async (s: TrainingSession) => {
    const [curves, grids] = await Promise.all([s.curves(), s.decisionGrids()]);
    const series = (pick: 'loss' | 'accuracy') =>
      s.runs.map((run, i) => ({
        label: run.choice.label,
        color: run.choice.color,
        values: smooth(curves[i]![pick]),
      }));
    drawLineChart(byId('loss'), series('loss'), {
      title: 'mini-batch loss (mean of the last 10 steps)',
      xLabel: 'step',
      yLabel: 'cross-entropy',
      logY: true,
    });
    drawLineChart(byId('accuracy'), series('accuracy'), {
      title: 'mini-batch accuracy (mean of the last 10 steps)',
      xLabel: 'step',
      yLabel: 'accuracy',
      yRange: [0, 1],
    });
    const container = byId('boundaries');
    if (container.children.length !== s.runs.length) {
      container.replaceChildren(
        ...s.runs.map(() =>
          Object.assign(document.createElement('canvas'), { width: 220, height: 220 }),
        ),
      );
    }
    const lrs = s.learningRates();
    s.runs.forEach((run, i) => {
      const loss = curves[i]!.loss;
      const recent = smooth(loss).at(-1) ?? NaN;
      drawBoundary(
        container.children[i] as HTMLCanvasElement,
        grids[i]!,
        GRID,
        s.dataset,
        `${run.choice.label} · loss ${recent.toFixed(3)} · lr ${lrs[i]!.toPrecision(2)}`,
      );
    });
    return curves;
  };

  const train = async (steps: number, every: number, animate: boolean) => {
    const token = ++generation;
    const s = newSession(steps);
    const what = `${s.runs.length} optimizer${s.runs.length === 1 ? '' : 's'}, batch ${number('batch')}`;
    showProgress('running', `Running: step 0 of ${steps} (${what})`);
    await draw(s);
    while (s.steps < steps && token === generation) {
      s.step(Math.min(every, steps - s.steps));
      await draw(s);
      showProgress('running', `Running: step ${s.steps} of ${steps} (${what})`);
      if (animate) await new Promise(requestAnimationFrame);
    }
    await engine.sync();
    if (s.steps >= steps) showProgress('done', `Done: ${s.steps} steps (${what})`);
    else showProgress('stopped', `Stopped at step ${s.steps} of ${steps} (${what})`);
    const curves = await draw(s);
    return s.runs.map((run, i) => ({ label: run.choice.label, ...curves[i]! }));
  };

  byId('train').addEventListener(
    'click',
    guarded(async () => void (await train(number('steps'), 10, true))),
  );
  byId('stop').addEventListener('click', () => generation++);
  showProgress('ready', 'Ready: press Train');
  drawLineChart(byId('loss'), [], {
    title: 'mini-batch loss',
    yLabel: 'cross-entropy',
    logY: true,
  });
  drawLineChart(byId('accuracy'), [], {
    title: 'mini-batch accuracy',
    yLabel: 'accuracy',
    yRange: [0, 1],
  });

  exposeHooks(engine, {
    /**
     * Trains a fresh model per enabled optimizer for `steps` steps (settings optional) and
     * resolves with each run's per-step mini-batch loss and accuracy.
     */
    trainSteps: async (steps: number, o: TrainSettings = {}) => {
      if (o.dataset) datasetSelect.value = o.dataset;
      if (o.scheduler) schedulerSelect.value = o.scheduler;
      if (o.stateDtype) stateDtypeSelect.value = o.stateDtype;
      if (o.batchSize) byId<HTMLInputElement>('batch').value = String(o.batchSize);
      if (o.hidden) byId<HTMLInputElement>('hidden').value = String(o.hidden);
      if (o.points) byId<HTMLInputElement>('points').value = String(o.points);
      if (o.optimizers) {
        for (const c of choices) c.enabled = o.optimizers.includes(c.label);
        renderChoices(byId('choices'), choices);
      }
      byId<HTMLInputElement>('steps').value = String(steps);
      return train(steps, Math.max(1, Math.ceil(steps / 4)), false);
    },
    optimizers: choices.map((c) => c.label),
  });
}
