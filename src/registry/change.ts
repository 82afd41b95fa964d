import { invalidParameter, KilnError, type RequestContext } from '../core/index.js';
import type { RegistryEventHub } from './events.js';
import type { RegistryTag } from './model.js';
import { checkTagKey, checkTagValue } from './rules.js';
import type { ArtifactRoot } from './source.js';
import type {
  ModelRecord,
  PendingEvent,
  RegistryReader,
  RegistryStore,
  RegistryWriter,
  VersionRecord,
} from './store.js';

/**
 * The tracking side of the registry, as the registry needs it: find a run in the caller's
 * workspace. The lead wires the tracking service in; tests use a map.
 *
 * @example
 * const runs: RunLookup = { async getRun(ctx, runId) { const run = await tracking.getRun(ctx, runId); … } };
 */
export interface RunLookup {
  /** The run with this id in `ctx.workspace`, or undefined when there is none. */
  getRun(ctx: RequestContext, runId: string): Promise<{ runId: string; artifactUri: string } | undefined>;
}

/** What the use cases share: persistence, the source allow-list root, runs and event delivery. */
export interface RegistryDeps {
  readonly store: RegistryStore;
  readonly root: ArtifactRoot;
  readonly runs: RunLookup;
  readonly hub: RegistryEventHub;
  /** Epoch milliseconds; replaceable so that tests can pin times. */
  readonly clock: () => number;
}

/** What a change callback gets: the transaction, a way to record events, and the change's time. */
export interface ChangeScope {
  readonly tx: RegistryWriter;
  /** Epoch milliseconds, one value for the whole change. */
  readonly now: number;
  record(event: PendingEvent): void;
}

/**
 * Runs one registry change: `fn` and the events it records commit together or not at all, and
 * the events reach subscribers only after the commit.
 *
 * @example
 * await applyChange(deps, ctx, async ({ tx, now, record }) => { …; record({ type: 'registered_model.updated', … }); });
 */
export async function applyChange<T>(
  deps: RegistryDeps,
  ctx: RequestContext,
  fn: (scope: ChangeScope) => Promise<T>,
): Promise<T> {
  const { result, events } = await deps.store.write(async (tx) => {
    const now = deps.clock();
    const pending: PendingEvent[] = [];
    const result = await fn({ tx, now, record: (event) => pending.push(event) });
    const author = { workspace: ctx.workspace, actor: ctx.actor, requestId: ctx.requestId };
    const events = await tx.appendEvents(author, pending, new Date(now).toISOString());
    return { result, events };
  });
  deps.hub.publish(events);
  return result;
}

/** RESOURCE_DOES_NOT_EXIST for a model name, worded the same everywhere. */
export function modelNotFound(name: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Registered model '${name}' does not exist`, { name });
}

/** RESOURCE_DOES_NOT_EXIST for a model version, worded the same everywhere. */
export function versionNotFound(name: string, version: number): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Model version '${name}' version ${version} does not exist`, {
    name,
    version,
  });
}

/** The model named `name` in the caller's workspace, locked when `lock`; RESOURCE_DOES_NOT_EXIST otherwise. */
export async function requireModel(
  reader: RegistryReader,
  ctx: RequestContext,
  name: string,
  lock = false,
): Promise<ModelRecord> {
  const model = await reader.findModel(ctx.workspace, name, { lock });
  if (model === undefined) throw modelNotFound(name);
  return model;
}

/** A live version of `model`; RESOURCE_DOES_NOT_EXIST when it was never created or is deleted. */
export async function requireVersion(
  reader: RegistryReader,
  model: ModelRecord,
  version: number,
): Promise<VersionRecord> {
  const found = await reader.findVersion(model, version);
  if (found === undefined) throw versionNotFound(model.name, version);
  return found;
}

/** Most tags one create call may carry. */
export const MAX_TAGS_PER_CALL = 100;

/**
 * Checks the tags given to a create call: a list of `{ key, value }`, each key once.
 *
 * @example
 * checkTags([{ key: 'team', value: 'risk' }]); // same list
 */
export function checkTags(value: unknown, field = 'tags'): RegistryTag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParameter(field, 'must be a list of {key, value}');
  if (value.length > MAX_TAGS_PER_CALL) throw invalidParameter(field, `may hold at most ${MAX_TAGS_PER_CALL} tags`);
  const seen = new Set<string>();
  return value.map((tag: unknown, i) => {
    if (typeof tag !== 'object' || tag === null) throw invalidParameter(`${field}[${i}]`, 'must be {key, value}');
    const { key, value: tagValue } = tag as { key?: unknown; value?: unknown };
    const checkedKey = checkTagKey(key, `${field}[${i}].key`);
    if (seen.has(checkedKey)) throw invalidParameter(field, `key '${checkedKey}' appears twice`, checkedKey);
    seen.add(checkedKey);
    return { key: checkedKey, value: checkTagValue(tagValue, `${field}[${i}].value`) };
  });
}
