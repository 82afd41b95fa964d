import { KilnError } from '../../core/index.js';
import type { RegistryEvent, RegistryEventType } from '../events.js';
import type { EventAuthor, EventQuery, PendingEvent } from '../store.js';
import type { RegistryDb } from './rows.js';
import { EVENT_SEQUENCE, type RegistryTables } from './tables.js';

type EventRow = RegistryTables['registry_events'];

function toEvent(row: EventRow): RegistryEvent {
  return {
    id: Number(row.id),
    workspace: row.workspace,
    type: row.type as RegistryEventType,
    model: row.model,
    ...(row.version === null ? {} : { version: Number(row.version) }),
    ...(row.alias === null ? {} : { alias: row.alias }),
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    actor: row.actor,
    requestId: row.request_id,
    createdAt: row.created_at,
  };
}

/**
 * Records events with ids taken from the one-row sequence table. Bumping that row locks it until
 * the transaction ends, so transactions that record events take their ids one after another and
 * commit in the same order: a poller reading `id > last seen` can never miss an event that
 * commits late with a smaller id, as it could with an identity column. Call it last in a
 * transaction, to hold that lock only briefly.
 */
export async function appendEvents(
  { db }: RegistryDb,
  author: EventAuthor,
  events: readonly PendingEvent[],
  createdAt: string,
): Promise<RegistryEvent[]> {
  if (events.length === 0) return [];
  const bumped = await db
    .updateTable('registry_event_sequence')
    .set((eb) => ({ last_id: eb('last_id', '+', events.length) }))
    .where('name', '=', EVENT_SEQUENCE)
    .returning('last_id')
    .executeTakeFirst();
  if (bumped === undefined) throw new KilnError('INVALID_STATE', 'registry_event_sequence has no row; run migrations');
  const first = Number(bumped.last_id) - events.length + 1;
  const rows: EventRow[] = events.map((event, i) => ({
    id: first + i,
    workspace: author.workspace,
    type: event.type,
    model: event.model,
    model_id: event.modelId,
    version: event.version ?? null,
    alias: event.alias ?? null,
    payload: JSON.stringify(event.payload),
    actor: author.actor,
    request_id: author.requestId,
    created_at: createdAt,
  }));
  await db.insertInto('registry_events').values(rows).execute();
  return rows.map(toEvent);
}

/** Events of a workspace after an id, optionally about one model (by recorded name or current id). */
export async function listEvents({ db }: RegistryDb, query: EventQuery): Promise<RegistryEvent[]> {
  let select = db
    .selectFrom('registry_events')
    .selectAll()
    .where('workspace', '=', query.workspace)
    .where('id', '>', query.afterId);
  const name = query.model;
  if (name !== undefined) {
    const current = await db
      .selectFrom('registered_models')
      .select('id')
      .where('workspace', '=', query.workspace)
      .where('name', '=', name)
      .executeTakeFirst();
    select = select.where((eb) =>
      current === undefined ? eb('model', '=', name) : eb.or([eb('model', '=', name), eb('model_id', '=', current.id)]),
    );
  }
  const rows = await select.orderBy('id').limit(query.limit).execute();
  return rows.map(toEvent);
}
