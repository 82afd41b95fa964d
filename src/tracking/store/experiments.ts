import type { Selectable } from 'kysely';
import { isUniqueViolation } from '../../store/index.js';
import type { LifecycleStage, Tag, ViewType } from '../model.js';
import { applySearch } from '../search/index.js';
import type { ExperimentRecord, PageRequest, TrackingStore } from '../store.js';
import { int, inValues, type StoreHandle } from './db.js';
import { EXPERIMENTS_SEARCH } from './descriptors.js';
import type { TrackingTables } from './tables.js';

type ExperimentRow = Selectable<TrackingTables['experiments']>;

/** The lifecycle stages a view type selects. */
export function stagesOf(view: ViewType): LifecycleStage[] {
  if (view === 'ALL') return ['active', 'deleted'];
  return view === 'DELETED_ONLY' ? ['deleted'] : ['active'];
}

async function withTags(handle: StoreHandle, rows: readonly ExperimentRow[]): Promise<ExperimentRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => int(row.experiment_id));
  const tagRows = await handle.db
    .selectFrom('experiment_tags')
    .select(['experiment_id', 'key', 'value'])
    .where(inValues(handle.dialect, 'experiment_tags.experiment_id', ids, 'bigint'))
    .orderBy('key')
    .execute();
  const tags = new Map<number, Tag[]>();
  for (const row of tagRows) {
    const id = int(row.experiment_id);
    let list = tags.get(id);
    if (list === undefined) {
      list = [];
      tags.set(id, list);
    }
    list.push({ key: row.key, value: row.value });
  }
  return rows.map((row) => ({
    experimentId: int(row.experiment_id),
    workspace: row.workspace,
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    creationTime: int(row.creation_time),
    lastUpdateTime: int(row.last_update_time),
    tags: tags.get(int(row.experiment_id)) ?? [],
  }));
}

/** {@link TrackingStore.insertExperiment}: the experiment row and its tags in one transaction. */
export const insertExperiment =
  (handle: StoreHandle): TrackingStore['insertExperiment'] =>
  async (experiment) => {
    try {
      return await handle.database.transaction(async (trx) => {
        const db = trx.withTables<TrackingTables>();
        const row = await db
          .insertInto('experiments')
          .values({
            workspace: experiment.workspace,
            name: experiment.name,
            artifact_location: experiment.artifactLocation,
            lifecycle_stage: 'active',
            creation_time: experiment.time,
            last_update_time: experiment.time,
          })
          .returning('experiment_id')
          .executeTakeFirstOrThrow();
        const id = int(row.experiment_id);
        if (experiment.tags.length > 0) {
          await db
            .insertInto('experiment_tags')
            .values(experiment.tags.map((tag) => ({ experiment_id: id, key: tag.key, value: tag.value })))
            .execute();
        }
        return id;
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  };

/** One experiment of a workspace, by id or by name, with its tags. */
export async function getExperiment(
  handle: StoreHandle,
  workspace: string,
  where: { id: number } | { name: string },
): Promise<ExperimentRecord | undefined> {
  let query = handle.db.selectFrom('experiments').selectAll().where('workspace', '=', workspace);
  query = 'id' in where ? query.where('experiment_id', '=', where.id) : query.where('name', '=', where.name);
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : (await withTags(handle, [row]))[0];
}

/** {@link TrackingStore.renameExperiment}: a conditional update; a unique violation means the name is taken. */
export const renameExperiment =
  (handle: StoreHandle): TrackingStore['renameExperiment'] =>
  async (workspace, experimentId, name, time) => {
    try {
      const result = await handle.db
        .updateTable('experiments')
        .set({ name, last_update_time: time })
        .where('workspace', '=', workspace)
        .where('experiment_id', '=', experimentId)
        .where('lifecycle_stage', '=', 'active')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n ? 'renamed' : 'missing';
    } catch (err) {
      if (isUniqueViolation(err)) return 'name-taken';
      throw err;
    }
  };

/** {@link TrackingStore.setExperimentLifecycle}. */
export const setExperimentLifecycle =
  (handle: StoreHandle): TrackingStore['setExperimentLifecycle'] =>
  (workspace, experimentId, stage, time) =>
    handle.database.transaction(async (trx) => {
      const db = trx.withTables<TrackingTables>();
      const from: LifecycleStage = stage === 'deleted' ? 'active' : 'deleted';
      const before = await db
        .selectFrom('experiments')
        .select('last_update_time')
        .where('workspace', '=', workspace)
        .where('experiment_id', '=', experimentId)
        .where('lifecycle_stage', '=', from)
        .executeTakeFirst();
      if (before === undefined) return false;
      await db
        .updateTable('experiments')
        .set({ lifecycle_stage: stage, last_update_time: time })
        .where('experiment_id', '=', experimentId)
        .execute();
      let runs = db.updateTable('runs').where('experiment_id', '=', experimentId).where('lifecycle_stage', '=', from);
      // A deleted experiment's last_update_time is when it was deleted (it cannot change while
      // deleted), and its runs were deleted at that very time: those are the ones to restore.
      if (stage === 'active') runs = runs.where('deleted_time', '=', int(before.last_update_time));
      await runs.set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? time : null }).execute();
      return true;
    });

/** {@link TrackingStore.writeExperimentTag}: bumps last_update_time and upserts or deletes the tag. */
export const writeExperimentTag =
  (handle: StoreHandle): TrackingStore['writeExperimentTag'] =>
  (workspace, experimentId, key, value, time) =>
    handle.database
      .transaction(async (trx) => {
        const db = trx.withTables<TrackingTables>();
        const touched = await db
          .updateTable('experiments')
          .set({ last_update_time: time })
          .where('workspace', '=', workspace)
          .where('experiment_id', '=', experimentId)
          .where('lifecycle_stage', '=', 'active')
          .executeTakeFirst();
        if (touched.numUpdatedRows === 0n) return 'missing';
        if (value === undefined) {
          const removed = await db
            .deleteFrom('experiment_tags')
            .where('experiment_id', '=', experimentId)
            .where('key', '=', key)
            .executeTakeFirst();
          // Nothing changed: undo the last_update_time bump with the rest of the transaction.
          if (removed.numDeletedRows === 0n) throw new NoTag();
          return 'ok';
        }
        await db
          .insertInto('experiment_tags')
          .values({ experiment_id: experimentId, key, value })
          .onConflict((conflict) => conflict.columns(['experiment_id', 'key']).doUpdateSet({ value }))
          .execute();
        return 'ok';
      })
      .catch((err: unknown) => {
        if (err instanceof NoTag) return 'no-tag';
        throw err;
      });

class NoTag {}

/** {@link TrackingStore.searchExperiments}: the compiled search over the workspace, tags loaded in one query. */
export async function searchExperiments(handle: StoreHandle, page: PageRequest): Promise<ExperimentRecord[]> {
  const query = handle.db
    .selectFrom('experiments')
    .selectAll('experiments')
    .where('experiments.workspace', '=', page.workspace)
    .where('experiments.lifecycle_stage', 'in', stagesOf(page.viewType));
  const rows = await applySearch(query, page.plan, EXPERIMENTS_SEARCH, handle.dialect)
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return withTags(handle, rows);
}
