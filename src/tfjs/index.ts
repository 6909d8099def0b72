/**
 * `webgpu-optim/tfjs`: this package's optimizers as TF.js optimizers (webgpu backend), stepping
 * TF.js's own variable buffers in place. TF.js is a peer: pass your `tf` namespace in.
 */
export { tfjsOptimizer, registerTfjsOptimizers } from './optimizer.ts';
export type {
  Tf,
  TfjsOptimizer,
  TfjsOptimizerOptions,
  TfjsOptions,
  Steppable,
  NamedTensor,
} from './optimizer.ts';
