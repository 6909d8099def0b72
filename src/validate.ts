/** Boundary checks shared by optimizer and scheduler option validation: each throws a RangeError that names the owner, the option and the bad value. */

type Check = (owner: string, name: string, value: unknown) => void;

function fail(owner: string, name: string, rule: string, value: unknown): never {
  throw new RangeError(`${owner}: ${name} must be ${rule}, got ${describe(value)}`);
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

// ---- messages and option names ----

/** Longest prefix of a value an error message shows (one case printed 2 million characters). */
const SHOW_CHARS = 60;

/**
 * A short description of any value for an error message: its type, and at most a short prefix
 * of its text (`Float32Array(1000000) [0, 0, 0, ...]`, `string '4'`, `null`).
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const cut = (s: string) => (s.length > SHOW_CHARS ? `${s.slice(0, SHOW_CHARS)}...` : s);
  if (typeof value === 'string') return `string '${cut(value)}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol') return value.toString();
  if (ArrayBuffer.isView(value)) {
    const n = (value as unknown as ArrayLike<unknown>).length ?? value.byteLength;
    const items = Array.from({ length: Math.min(4, n) }, (_, i) =>
      String((value as unknown as ArrayLike<unknown>)[i]),
    );
    return `${value.constructor.name}(${n}) [${items.join(', ')}${n > 4 ? ', ...' : ''}]`;
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, 4).map((v) => (typeof v === 'object' && v ? '{...}' : String(v)));
    return cut(`array(${value.length}) [${items.join(', ')}${value.length > 4 ? ', ...' : ''}]`);
  }
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : cut(`object {${Object.keys(value).join(', ')}}`);
}

/** Edit distance (insertions, deletions, substitutions; case-insensitive). */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The valid name a mistyped `key` most likely meant (PyTorch snake_case included), if any is close. */
export function nearestName(key: string, valid: Iterable<string>): string | undefined {
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of valid) {
    const d = Math.min(distance(key, name), distance(camel, name));
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))
    ? best
    : undefined;
}

/**
 * Throws a TypeError for the first key of `options` that is not in `valid`, suggesting the
 * nearest valid name: `Adam: unknown option 'weight_decay' (did you mean 'weightDecay'?)`.
 * A typo must never be silently ignored (a port of weight_decay=0.01 would train without decay).
 */
export function checkKnownKeys(
  owner: string,
  options: object,
  valid: Iterable<string>,
  what = 'option',
): void {
  const names = new Set(valid);
  for (const key of Object.keys(options)) {
    if (names.has(key)) continue;
    const near = nearestName(key, names);
    const hint = near ? ` (did you mean '${near}'?)` : ` (valid: ${[...names].join(', ')})`;
    throw new TypeError(`${owner}: unknown ${what} '${key}'${hint}`);
  }
}
