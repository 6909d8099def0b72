import { optimizerSpecs } from '../src/optimizers/registry.ts';

/**
 * The shape the benchmarks give n parameters: a near-square matrix for rules with shaped passes
 * (Adafactor factors it, Muon takes matrices only), a vector for elementwise rules (whose step
 * does not depend on the shape).
 */
export function benchShape(name: string, n: number): number[] {
  const spec = (optimizerSpecs as Record<string, object>)[name];
  if (!spec || !('program' in spec)) return [n];
  let rows = 2 ** Math.floor(Math.log2(Math.sqrt(n)));
  while (rows > 1 && n % rows !== 0) rows /= 2;
  return [rows, n / rows];
}
