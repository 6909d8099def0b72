import type { Engine } from '../../src/index.ts';
import { bootEngine, byId, exposeHooks, guarded, showProgress } from '../shared/boot.ts';
import { optimizerColor, optimizerNames, takesVectors } from '../shared/optimizer-choices.ts';
import { drawBarChart } from './bar-chart.ts';
import { timeOptimizerStep, type StepTiming } from './measure-step.ts';

const engine = await bootEngine();
if (engine) startPage(engine);

function startPage(engine: Engine): void {
  byId('adapter').textContent = `Adapter: ${engine.adapterDescription}`;
  showProgress('ready', 'Ready: press Run');

  const draw = (results: StepTiming[]) => {
    const color = optimizerColor;
    const label = (r: StepTiming) => r.name;
    drawBarChart(
      byId('ms'),
      `ms per step at ${results[0]?.n.toLocaleString() ?? ''} parameters (lower is better)`,
      results.map((r) => ({ label: label(r), value: r.msPerStep, color: color(r.name) })),
      (v) => `${v.toFixed(3)} ms`,
      'ms per step',
    );
    drawBarChart(
      byId('throughput'),
      'million parameters updated per second (higher is better)',
      results.map((r) => ({ label: label(r), value: r.mparamsPerSecond, color: color(r.name) })),
      (v) => `${v.toFixed(0)} M/s`,
      'million parameters per second',
    );
    byId('results').innerHTML =
      '<tr><th>optimizer</th><th>parameters</th><th>ms/step</th><th>Mparams/s</th></tr>' +
      results
        .map(
          (r) =>
            `<tr><td>${r.name}</td><td>${r.n.toLocaleString()}</td><td>${r.msPerStep.toFixed(3)}</td><td>${r.mparamsPerSecond.toFixed(1)}</td></tr>`,
        )
        .join('');
  };

  // Throughput of elementwise-cost rules; Muon's Newton-Schulz is FLOP-bound (O(n^1.5)), timed by
  // `npm run bench` in its Muon and GEMM section instead.
  const run = async (n: number, steps: number, names = optimizerNames().filter(takesVectors)) => {
    const size = byId<HTMLSelectElement>('size');
    if (!Array.from(size.options).some((o) => o.value === String(n))) {
      size.add(new Option(n.toLocaleString(), String(n)));
    }
    size.value = String(n);
    byId<HTMLInputElement>('steps').value = String(steps);
    const results: StepTiming[] = [];
    for (const [i, name] of names.entries()) {
      showProgress(
        'running',
        `Running: timing ${name} (${i + 1} of ${names.length}) at ${n.toLocaleString()} parameters, ${steps} steps each…`,
      );
      results.push(await timeOptimizerStep(engine, name, n, steps));
      draw(results);
    }
    showProgress(
      'done',
      `Done: ${names.length} optimizers at ${n.toLocaleString()} parameters, ${steps} timed steps each.`,
    );
    return results;
  };

  byId('run').addEventListener(
    'click',
    guarded(async () => {
      await run(
        Number(byId<HTMLSelectElement>('size').value),
        Number(byId<HTMLInputElement>('steps').value),
      );
    }),
  );

  exposeHooks(engine, {
    /** Times every optimizer (or `optimizers`) at `n` parameters over `steps` steps and plots the results. */
    runBench: (o: { n?: number; steps?: number; optimizers?: string[] } = {}) =>
      run(o.n ?? 1 << 20, o.steps ?? 20, o.optimizers),
  });
}
