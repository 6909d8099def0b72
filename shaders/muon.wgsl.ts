import type { Pass } from './passes.wgsl.ts';

/**
 * Muon's passes (see src/optimizers/muon.ts for the rule): the momentum update writes the
 * direction into the work matrix x, stored [short, long] (transposed when rows > cols) with its
 * squared norm in sum slot 0; x is normalised; each Newton-Schulz iteration is three GEMMs
 * (gram = x x^T, poly = c gram gram + b gram, x' = poly x + a x, ping-ponging x and y); the last
 * pass applies decay and the step.
 */
const at = 'select(e, c * launch.rows + r, launch.transposed != 0u)';

export function muonPasses(nesterov: boolean, matchRms: boolean, nsSteps: number): Pass[] {
  const passes: Pass[] = [
    {
      kind: 'map',
      buffers: ['momentumBuffer', 'x'],
      elementStates: ['momentumBuffer'],
      sums: { count: 1, slot: 0 },
      body: `    momentumBuffer = momentumBuffer + h.oneMinusMomentum * (g - momentumBuffer);
    let u = ${nesterov ? 'g + h.momentum * (momentumBuffer - g)' : 'momentumBuffer'};
    xBuf[${at}] = u;
    s0 = u * u;`,
    },
    {
      kind: 'map',
      buffers: ['x'],
      grad: false,
      body: `    let i = ${at};
    xBuf[i] = xBuf[i] / max(sqrt(sum(0u)), h.eps);`,
    },
  ];
  let [x, y] = ['x', 'y'];
  for (let s = 0; s < nsSteps; s++) {
    passes.push(
      {
        kind: 'matmul',
        c: 'gram',
        a: x,
        b: x,
        transB: true,
        alpha: '1.0',
        dims: ['short', 'short', 'long'],
      },
      {
        kind: 'matmul',
        c: 'poly',
        a: 'gram',
        b: 'gram',
        alpha: 'h.nsC',
        d: 'gram',
        beta: 'h.nsB',
        dims: ['short', 'short', 'short'],
      },
      {
        kind: 'matmul',
        c: y,
        a: 'poly',
        b: x,
        alpha: '1.0',
        d: x,
        beta: 'h.nsA',
        dims: ['short', 'long', 'short'],
      },
    );
    [x, y] = [y, x];
  }
  const ratio = matchRms
    ? '0.2 * sqrt(f32(max(launch.rows, launch.cols)))'
    : 'sqrt(max(1.0, f32(launch.rows) / f32(launch.cols)))';
  passes.push({
    kind: 'map',
    buffers: [x],
    grad: false,
    writesParam: true,
    body: `    p = p * h.decay - h.lr * ${ratio} * ${x}Buf[${at}];`,
  });
  return passes;
}
