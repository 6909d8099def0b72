/** Boundary checks shared by optimizer and scheduler option validation: each throws a RangeError that names the owner, the option and the bad value. */

type Check = (owner: string, name: string, value: unknown) => void;

function fail(owner: string, name: string, rule: string, value: unknown): never {
  throw new RangeError(`${owner}: ${name} must be ${rule}, got ${String(value)}`);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** A finite number >= 0. */
export const nonNegative: Check = (owner, name, v) => {
  if (!isNumber(v) || !Number.isFinite(v) || v < 0) fail(owner, name, '>= 0', v);
};

/** A finite number > 0. */
export const positive: Check = (owner, name, v) => {
  if (!isNumber(v) || !Number.isFinite(v) || v <= 0) fail(owner, name, '> 0', v);
};

/** A number in [0, 1). */
export const unitInterval: Check = (owner, name, v) => {
  if (!isNumber(v) || v < 0 || v >= 1) fail(owner, name, 'in [0, 1)', v);
};

/** A number in [0, 1]. */
export const closedUnitInterval: Check = (owner, name, v) => {
  if (!isNumber(v) || v < 0 || v > 1) fail(owner, name, 'in [0, 1]', v);
};

/** A boolean. */
export const boolean: Check = (owner, name, v) => {
  if (typeof v !== 'boolean') fail(owner, name, 'a boolean', v);
};

/** A pair [beta1, beta2], each in [0, 1); the message names the index as PyTorch does. */
export const betas: Check = (owner, name, v) => {
  if (!Array.isArray(v) || v.length !== 2) fail(owner, name, 'a pair [beta1, beta2]', v);
  (v as unknown[]).forEach((b, i) => unitInterval(owner, `${name}[${i}]`, b));
};

/** Runs each named check on options[name]. */
export function check(
  owner: string,
  options: Record<string, unknown>,
  checks: Record<string, Check>,
): void {
  for (const [name, rule] of Object.entries(checks)) rule(owner, name, options[name]);
}

/** The options every Adam-family optimizer shares (Adam, AdamW, Adamax, NAdam, RAdam, LAMB). */
export const adamFamilyChecks: Record<string, Check> = {
  lr: nonNegative,
  betas,
  eps: positive,
  weightDecay: nonNegative,
  maximize: boolean,
};
