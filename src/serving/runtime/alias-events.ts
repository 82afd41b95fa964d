import { type Logger, systemContext } from '../../core/index.js';
import type { RegistryEvent, RegistryService } from '../../registry/index.js';

/** An alias of a registered model was created, moved or deleted. */
export interface AliasEvent {
  workspace: string;
  /** The registered model's name. */
  name: string;
  alias: string;
}

/**
 * Tells the runtime when an alias moves, so deployments that follow `models:/name@alias` can load
 * the new version. `watch` (optional) asks the source to cover a workspace; the runtime calls it
 * before it resolves an alias there, so a move that happens during the first load is not missed.
 *
 * @example
 * const off = source.subscribe((e) => console.log(`${e.name}@${e.alias} moved in ${e.workspace}`));
 */
export interface AliasEventSource {
  subscribe(listener: (event: AliasEvent) => void): () => void;
  watch?(workspace: string): Promise<void>;
}

/** Options of {@link registryAliasEvents}. */
export interface RegistryAliasEventsOptions {
  /** How often to read the event log for changes other processes made; default 2000 ms, 0 turns polling off. */
  pollMs?: number;
  /** Where failed polls are reported. */
  logger?: Logger;
}

const ALIAS_EVENTS = new Set<string>([
  'model_version_alias.created',
  'model_version_alias.moved',
  'model_version_alias.deleted',
]);

/** Events per poll request (the registry's maximum page). */
const PAGE = 1000;

/** How many delivered event ids are remembered to drop the copy the other path brings. */
const REMEMBERED = 4096;

/**
 * Alias events from the registry, by two paths: changes this process commits arrive at once
 * through `registry.onEvent`; changes other processes commit (a `kiln serve` replica while the
 * server moves `@champion`) are found by polling `registry.listEvents` after the last id seen, for
 * every workspace the runtime watches. An event that arrives both ways is delivered once. Polling
 * starts with the first subscriber and stops with the last; its timer never keeps the process
 * alive.
 *
 * @example
 * const runtime = new ServingRuntime({ loader, metrics, logger, aliases: registryAliasEvents(registry, { pollMs: 1000 }) });
 */
export function registryAliasEvents(
  registry: RegistryService,
  options: RegistryAliasEventsOptions = {},
): AliasEventSource {
  const pollMs = options.pollMs ?? 2000;
  const listeners = new Set<(event: AliasEvent) => void>();
  /** Workspace → the last event id read from its log. */
  const cursors = new Map<string, number>();
  const starting = new Map<string, Promise<void>>();
  const delivered = new Set<number>();
  let unsubscribeRegistry: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  const deliver = (event: RegistryEvent) => {
    if (!ALIAS_EVENTS.has(event.type) || event.alias === undefined) return;
    if (delivered.has(event.id)) return;
    delivered.add(event.id);
    if (delivered.size > REMEMBERED) {
      const oldest = delivered.values().next().value;
      if (oldest !== undefined) delivered.delete(oldest);
    }
    const alias: AliasEvent = { workspace: event.workspace, name: event.model, alias: event.alias };
    for (const listener of [...listeners]) {
      try {
        listener(alias);
      } catch (err) {
        options.logger?.warn({ err, eventId: event.id }, 'alias event listener failed');
      }
    }
  };

  /** Reads `workspace`'s log after its cursor to the end, delivering alias events when `emit`. */
  const read = async (workspace: string, from: number, emit: boolean): Promise<number> => {
    const ctx = systemContext('serving-alias-events', workspace);
    let cursor = from;
    for (;;) {
      const events = await registry.listEvents(ctx, { afterId: cursor, limit: PAGE });
      for (const event of events) {
        if (emit) deliver(event);
        cursor = Math.max(cursor, event.id);
      }
      if (events.length < PAGE) return cursor;
    }
  };

  const pollOnce = async () => {
    for (const [workspace, from] of [...cursors]) {
      try {
        const cursor = await read(workspace, from, true);
        cursors.set(workspace, Math.max(cursor, cursors.get(workspace) ?? 0));
      } catch (err) {
        options.logger?.warn({ err, workspace }, 'reading the registry event log failed; retrying on the next poll');
      }
    }
  };

  const start = () => {
    unsubscribeRegistry = registry.onEvent(deliver);
    if (pollMs > 0) {
      timer = setInterval(() => {
        // A slow database must not stack polls.
        if (polling) return;
        polling = true;
        void pollOnce().finally(() => {
          polling = false;
        });
      }, pollMs);
      timer.unref();
    }
  };

  const stop = () => {
    unsubscribeRegistry?.();
    unsubscribeRegistry = undefined;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return {
    subscribe(listener) {
      if (listeners.size === 0) start();
      const entry = (event: AliasEvent) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
        if (listeners.size === 0) stop();
      };
    },
    watch(workspace) {
      if (pollMs <= 0 || cursors.has(workspace)) return Promise.resolve();
      let pending = starting.get(workspace);
      if (pending === undefined) {
        // Skip the history: only moves after this point matter to a deployment resolving now.
        pending = read(workspace, 0, false)
          .then((cursor) => {
            cursors.set(workspace, cursor);
          })
          .finally(() => starting.delete(workspace));
        starting.set(workspace, pending);
      }
      return pending;
    },
  };
}
