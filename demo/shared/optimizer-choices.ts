import { optimizers, optimizerSpecs, type Optimizer, type Parameter } from '../../src/index.ts';

/** One optimizer configuration a demo runs: a class from the registry plus its options. */
export interface OptimizerChoice {
  /** Shown in legends, e.g. 'Momentum' for SGD with momentum 0.9. */
  label: string;
  /** The registry name (the torch.optim class name). */
  name: string;
  options: Record<string, unknown>;
  color: string;
  enabled: boolean;
}

/** Every optimizer class the engine has, in registry order (new ones appear by themselves). */
export function optimizerNames(): string[] {
  return Object.keys(optimizers);
}

/** The options of `name` with their PyTorch defaults (NaN for required ones, e.g. LARS's lr). */
export function defaultOptions(name: string): Record<string, unknown> {
  const spec = (optimizerSpecs as Record<string, { defaults: object }>)[name];
  if (!spec) throw new RangeError(`demo: unknown optimizer ${name}`);
  return structuredClone(spec.defaults) as Record<string, unknown>;
}

/** Whether `name` takes vectors (false for Muon, which optimizes weight matrices only). */
export function takesVectors(name: string): boolean {
  const spec = (optimizerSpecs as Record<string, { checkShape?: (s: number[]) => unknown }>)[name];
  return spec?.checkShape?.([2]) === undefined;
}

/** Whether `name` takes a stateDtype other than float32 (not the shaped rules, Adafactor and Muon). */
export function takesStateDtype(name: string): boolean {
  const spec = (optimizerSpecs as Record<string, object>)[name];
  return spec !== undefined && !('program' in spec);
}

export function createOptimizer(
  name: string,
  params: Parameter[],
  options: Record<string, unknown>,
): Optimizer<object> {
  const cls = (optimizers as Record<string, new (p: Parameter[], o: object) => Optimizer<object>>)[
    name
  ];
  if (!cls) throw new RangeError(`demo: unknown optimizer ${name}`);
  return new cls(params, options);
}

/**
 * A palette that stays readable on the light contour plot and on white charts; room for more
 * optimizers than the registry has, so a new one gets a colour of its own.
 */
export const PALETTE = [
  '#111111',
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#9a6324',
  '#469990',
  '#808000',
  '#000075',
  '#aa6e28',
  '#b07cd8',
  '#800000',
  '#008080',
  '#ffb000',
  '#5a5a5a',
  '#00a86b',
  '#c71585',
];

/** The choices every page offers: the seeds' SGD variants, then each other registry optimizer. */
function variants(): Array<{ label: string; name: string; options?: Record<string, unknown> }> {
  return [
    { label: 'GD', name: 'SGD' },
    { label: 'Momentum', name: 'SGD', options: { momentum: 0.9 } },
    { label: 'Nesterov', name: 'SGD', options: { momentum: 0.9, nesterov: true } },
    ...optimizerNames()
      .filter((n) => n !== 'SGD')
      .map((name) => ({ label: name, name })),
  ];
}

/**
 * The one colour of an optimizer on every page (race, train, bench), by its label; plain 'SGD'
 * (the bench's name) is 'GD'.
 */
export function optimizerColor(label: string): string {
  const i = variants().findIndex((v) => v.label === (label === 'SGD' ? 'GD' : label));
  return PALETTE[(i < 0 ? PALETTE.length - 1 : i) % PALETTE.length]!;
}

/**
 * A choice per registry optimizer, plus the SGD variants the seed articles compare (plain gradient
 * descent, momentum, Nesterov). `lrs` overrides the learning rate by label; unknown labels keep
 * PyTorch's default (or 0.01 where the default is required).
 */
export function standardChoices(lrs: Record<string, number> = {}): OptimizerChoice[] {
  return variants().map((v) => {
    const options = { ...defaultOptions(v.name), ...v.options };
    if (lrs[v.label] !== undefined) options.lr = lrs[v.label];
    else if (Number.isNaN(options.lr)) options.lr = 0.01;
    return {
      label: v.label,
      name: v.name,
      options,
      color: optimizerColor(v.label),
      enabled: true,
    };
  });
}
