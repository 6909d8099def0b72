/**
 * The TF.js training demo: bench/tfjs-training.ts run live, loss curves and ms per training step
 * drawn as the steps come, then a table with the optimizer-step times and ratios.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { FULL, SMALL, runTfjsTraining, type TrainingOptions } from '../../bench/tfjs-training.ts';
import { trainingFigures } from '../../bench/tfjs-training-report.ts';
import { byId, guarded, showStatus } from '../shared/boot.ts';
import { drawLineChart, type Series } from '../shared/line-chart.ts';

const COLORS: Record<string, string> = {
  'tf.train.adam': '#888',
  'webgpu-optim Adam': '#d62728',
  'webgpu-optim AdamW': '#1f77b4',
};

async function runTraining(overrides: Partial<TrainingOptions> = {}) {
  const full = byId<HTMLSelectElement>('model').value === 'full';
  const steps = Number(byId<HTMLInputElement>('steps').value) || SMALL.steps;
  const loss = new Map<string, number[]>();
  const ms = new Map<string, number[]>();
  const draw = () => {
    const series = (m: Map<string, number[]>): Series[] =>
      [...m].map(([label, values]) => ({ label, color: COLORS[label] ?? '#000', values }));
    drawLineChart(byId('loss'), series(loss), { title: 'training loss', xLabel: 'step' });
    drawLineChart(byId('times'), series(ms), { title: 'ms per training step', xLabel: 'step' });
  };
  showStatus('training…');
  const result = await runTfjsTraining(tf, {
    ...(full ? FULL : SMALL),
    steps,
    ...overrides,
    onStep(name, _step, l, t) {
      if (!loss.has(name)) [loss, ms].forEach((m) => m.set(name, []));
      loss.get(name)!.push(l);
      ms.get(name)!.push(t);
      draw();
    },
  });
  const rows = trainingFigures(result);
  byId('table').innerHTML =
    '<tr><th>optimizer</th><th>ms / training step</th><th>vs tf.train.adam</th><th>ms / optimizer step</th><th>vs tf.train.adam</th><th>final loss</th></tr>' +
    rows
      .map(
        (r) =>
          `<tr><td>${r.name}</td><td>${r.train.toFixed(1)}</td><td>${r.trainRatio.toFixed(2)}×</td><td>${r.opt.toFixed(2)}</td><td>${r.optRatio.toFixed(2)}×</td><td>${r.finalLoss.toFixed(4)}</td></tr>`,
      )
      .join('');
  showStatus(
    `${(result.parameters / 1e6).toFixed(2)}M parameters, batch ${result.batch}; ratios are tf.train.adam's time over ours (above 1: faster).`,
  );
  return rows;
}

async function main() {
  try {
    if (!navigator.gpu || !(await tf.setBackend('webgpu')))
      throw new Error('TF.js could not start its webgpu backend');
    await tf.ready();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    showStatus(`WebGPU is unavailable, so this demo cannot run here: ${why}.`, 'error');
    window.demo = { ready: true, unavailable: why };
    return;
  }
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  byId('start').addEventListener(
    'click',
    guarded(() => runTraining().then(() => undefined)),
  );
  window.demo = {
    ready: true,
    runTraining,
    sync: () => device.queue.onSubmittedWorkDone(),
  };
}

void main();
