/**
 * How a scheduler changes param groups without ever leaving them half-changed: compute every
 * group's new values, check them all (with the optimizer's own `validateGroup` where it has
 * one), and only then write. Composite schedulers, whose children write one after the other,
 * instead undo everything when a child throws (`atomically`).
 */
import { describe } from '../validate';
import type { Schedulable, SchedulableGroup, SchedulerStateDict } from './scheduler';

/** What one step writes into one group: its lr and, for OneCycleLR, its momentum. */
export interface GroupUpdate {
  lr: number;
  /** The momentum to write: into `betas[0]` when `beta1`, else into `momentum`. */
  momentum?: number;
  beta1?: boolean;
}

/** Rethrows an error of the optimizer's validateGroup with the scheduler's context in front. */
function wrap(prefix: string, e: unknown): never {
  const message = `${prefix}: ${e instanceof Error ? e.message : String(e)}`;
  if (e instanceof RangeError) throw new RangeError(message, { cause: e });
  if (e instanceof TypeError) throw new TypeError(message, { cause: e });
  throw new Error(message, { cause: e });
}

/**
 * The fields `update` would write into group i, checked: the lr a finite number >= 0, the
 * momentum finite, and the whole would-be group accepted by `optimizer.validateGroup`. Writes
 * nothing. The message names the scheduler, the field, the value and the group:
 * `OneCycleLR: would set betas[0] to 1.2 in param group 0: Adam: betas[0] must be in [0, 1), got 1.2`.
 */
export function prepareUpdate(
  owner: string,
  optimizer: Schedulable,
  i: number,
  update: GroupUpdate,
): Partial<SchedulableGroup> {
  const group = optimizer.paramGroups[i]!;
  const where = (field: string, v: unknown) =>
    `${owner}: would set ${field} to ${describe(v)} in param group ${i}`;
  const { lr, momentum } = update;
  if (typeof lr !== 'number') throw new TypeError(`${where('lr', lr)}: an lr must be a number`);
  if (!Number.isFinite(lr) || lr < 0) {
    throw new RangeError(`${where('lr', lr)}: an lr must be a finite number >= 0`);
  }
  const steps: [string, number, Partial<SchedulableGroup>][] = [['lr', lr, { lr }]];
  if (momentum !== undefined) {
    const field = update.beta1 ? 'betas[0]' : 'momentum';
    if (typeof momentum !== 'number' || !Number.isFinite(momentum)) {
      throw new RangeError(`${where(field, momentum)}: a momentum must be a finite number`);
    }
    const patch: Partial<SchedulableGroup> = update.beta1
      ? { betas: [momentum, group.betas![1]] }
      : { momentum };
    steps.push([field, momentum, patch]);
  }
  // One field at a time, so the message names the field the optimizer refused.
  let candidate: object = { ...group };
  let fields: Partial<SchedulableGroup> = {};
  for (const [field, value, patch] of steps) {
    candidate = { ...candidate, ...patch };
    fields = { ...fields, ...patch };
    if (optimizer.validateGroup) {
      try {
        optimizer.validateGroup(candidate);
      } catch (e) {
        wrap(where(field, value), e);
      }
    }
  }
  return fields;
}

/** Checks every group's update, then writes them all (or throws having written nothing). */
export function writeUpdates(
  owner: string,
  optimizer: Schedulable,
  updates: readonly GroupUpdate[],
  extra: (i: number) => Partial<SchedulableGroup> = () => ({}),
): void {
  const fields = updates.map((u, i) => ({ ...prepareUpdate(owner, optimizer, i, u), ...extra(i) }));
  optimizer.paramGroups.forEach((g, i) => Object.assign(g, fields[i]));
}

const GROUP_FIELDS = ['lr', 'initialLr', 'momentum', 'betas'] as const;

/**
 * Runs `fn`; if it throws, puts back every group's scheduler fields and every scheduler's state
 * as they were, then rethrows: for composite schedulers, whose children write in turn.
 */
export function atomically<T>(
  optimizer: Schedulable,
  schedulers: ReadonlyArray<{
    stateDict(): SchedulerStateDict;
    loadStateDict(sd: SchedulerStateDict): void;
  }>,
  fn: () => T,
): T {
  const groups = optimizer.paramGroups.map((g) => {
    const saved: Record<string, unknown> = {};
    for (const k of GROUP_FIELDS) if (Object.hasOwn(g, k)) saved[k] = structuredClone(g[k]);
    return saved;
  });
  const states = schedulers.map((s) => s.stateDict());
  try {
    return fn();
  } catch (e) {
    optimizer.paramGroups.forEach((g, i) => {
      const r = g as unknown as Record<string, unknown>;
      for (const k of GROUP_FIELDS) if (!Object.hasOwn(groups[i]!, k)) delete r[k];
      Object.assign(g, groups[i]);
    });
    schedulers.forEach((s, i) => s.loadStateDict(states[i]!));
    throw e;
  }
}
