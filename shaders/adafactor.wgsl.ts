import type { Pass } from './passes.wgsl.ts';

/**
 * Adafactor's passes (see src/optimizers/adafactor.ts for the rule). A matrix: row and column
 * statistics of g^2, the mean of each matrix's rowVar (sum slot 2 + b), then ||p||^2 and ||u||^2
 * (slots 0 and 1), then the update. A vector: variance, ||p||^2 and ||u||^2 in one pass, then the
 * update. The update recomputes u from the stored statistics: the same float32 operations on the
 * same values, so it is the u whose norm was taken.
 */
const lerp = (x: string, to: string) => `${x} = ${x} + h.w * (${to} - ${x});`;

const factoredU = `let u = g * inverseSqrt(max(rowVarBuf[row] * colVarBuf[col] / sum(2u + b), h.eps1sq));`;

/** alpha = max(eps2, RMS(p)) * rho, the clipping denominator max(1, RMS(u)/d), and the step. */
const apply = `
    let n = sqrt(f32(launch.count));
    let alpha = max(h.eps2, sqrt(sum(0u)) / n) * h.rho;
    let denom = max(1.0, sqrt(sum(1u)) / (n * h.d));
    p = p * h.decay + u * (-alpha / denom);`;

export const adafactorMatrixPasses: Pass[] = [
  {
    kind: 'reduce',
    over: 'rows',
    buffers: ['rowVar'],
    value: 'g * g',
    body: `    ${lerp('rowVarBuf[row]', 'total / f32(launch.cols)')}`,
  },
  {
    kind: 'reduce',
    over: 'cols',
    buffers: ['colVar'],
    value: 'g * g',
    body: `  ${lerp('colVarBuf[col]', 'total / f32(launch.rows)')}`,
  },
  {
    kind: 'reduce',
    over: 'batch',
    buffers: ['rowVar'],
    value: 'rowVarBuf[row]',
    body: '    out = max(total / f32(launch.rows), h.eps1);',
    slot: 2,
  },
  {
    kind: 'map',
    buffers: ['rowVar', 'colVar'],
    sums: { count: 2, slot: 0 },
    body: `    ${factoredU}
    s0 = p * p;
    s1 = u * u;`,
  },
  {
    kind: 'map',
    buffers: ['rowVar', 'colVar'],
    writesParam: true,
    body: `    ${factoredU}${apply}`,
  },
];

export const adafactorVectorPasses: Pass[] = [
  {
    kind: 'map',
    buffers: ['variance'],
    elementStates: ['variance'],
    sums: { count: 2, slot: 0 },
    body: `    ${lerp('variance', 'g * g')}
    let u = g * inverseSqrt(max(variance, h.eps1sq));
    s0 = p * p;
    s1 = u * u;`,
  },
  {
    kind: 'map',
    buffers: ['variance'],
    writesParam: true,
    body: `    let u = g * inverseSqrt(max(varianceBuf[e], h.eps1sq));${apply}`,
  },
];
