import type { Selectable, Updateable } from 'kysely';
import { type LifecycleStage, RUN_NAME_TAG, type RunStatus } from '../model.js';
import { applySearch } from '../search/index.js';
import type { PageRequest, RunColumnChanges, RunRecord, RunWriteOutcome, TrackingStore } from '../store.js';
import { inTransaction, int, inValues, rollback, type StoreHandle, type TrackingDb } from './db.js';
import { RUNS_SEARCH } from './descriptors.js';
import { stagesOf } from './experiments.js';
import type { TrackingTables } from './tables.js';

type RunRow = Selectable<TrackingTables['runs']>;

/** Longest experiment-id list bound as separate parameters; longer lists bind as one array. */
const INLINE_IDS = 500;

function toRecord(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    workspace: row.workspace,
    experimentId: int(row.experiment_id),
    name: row.name,
    status: row.status as RunStatus,
    startTime: int(row.start_time),
    endTime: row.end_time === null ? null : int(row.end_time),
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    deletedTime: row.deleted_time === null ? null : int(row.deleted_time),
    userId: row.user_id,
    sourceType: row.source_type,
    sourceName: row.source_name,
    artifactUri: row.artifact_uri,
    parentRunId: row.parent_run_id,
  };
}

/** Column updates for mirrored tags; empty when nothing changes. */
export function columnUpdates(columns: RunColumnChanges): Updateable<TrackingTables['runs']> {
  const set: Updateable<TrackingTables['runs']> = {};
  if (columns.name !== undefined) set.name = columns.name;
  if (columns.userId !== undefined) set.user_id = columns.userId;
  if (columns.parentRunId !== undefined) set.parent_run_id = columns.parentRunId;
  return set;
}

/**
 * Inside a run transaction: resolves the run's lifecycle stage, rolling back with 'missing' when
 * the workspace has no such run and 'deleted' when it is not active.
 */
export async function requireActiveRun(db: TrackingDb, workspace: string, runId: string): Promise<number> {
  const row = await db
    .selectFrom('runs')
    .select(['lifecycle_stage', 'experiment_id'])
    .where('run_id', '=', runId)
    .where('workspace', '=', workspace)
    .executeTakeFirst();
  if (row === undefined) rollback({ kind: 'missing' });
  if (row.lifecycle_stage !== 'active') rollback({ kind: 'deleted' });
  return int(row.experiment_id);
}

/** {@link TrackingStore.insertRun}: the run row and its tags in one transaction. */
export const insertRun =
  (handle: StoreHandle): TrackingStore['insertRun'] =>
  (run, tags) =>
    handle.database.transaction(async (trx) => {
      const db = trx.withTables<TrackingTables>();
      await db
        .insertInto('runs')
        .values({
          run_id: run.runId,
          workspace: run.workspace,
          experiment_id: run.experimentId,
          name: run.name,
          status: run.status,
          start_time: run.startTime,
          end_time: run.endTime,
          lifecycle_stage: run.lifecycleStage,
          deleted_time: run.deletedTime,
          user_id: run.userId,
          source_type: run.sourceType,
          source_name: run.sourceName,
          artifact_uri: run.artifactUri,
          parent_run_id: run.parentRunId,
        })
        .execute();
      if (tags.length > 0) {
        await db
          .insertInto('run_tags')
          .values(tags.map((tag) => ({ run_id: run.runId, key: tag.key, value: tag.value })))
          .execute();
      }
    });

/** {@link TrackingStore.getRun}. */
export const getRun =
  (handle: StoreHandle): TrackingStore['getRun'] =>
  async (workspace, runId) => {
    const row = await handle.db
      .selectFrom('runs')
      .selectAll()
      .where('run_id', '=', runId)
      .where('workspace', '=', workspace)
      .executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  };

/** {@link TrackingStore.updateRun}. */
export const updateRun =
  (handle: StoreHandle): TrackingStore['updateRun'] =>
  (workspace, runId, changes) =>
    inTransaction(handle, async (db): Promise<RunWriteOutcome> => {
      await requireActiveRun(db, workspace, runId);
      const set = columnUpdates(changes.columns ?? {});
      if (changes.status !== undefined) set.status = changes.status;
      if (changes.endTime !== undefined) set.end_time = changes.endTime;
      if (Object.keys(set).length > 0) await db.updateTable('runs').set(set).where('run_id', '=', runId).execute();
      const name = changes.columns?.name;
      if (name !== undefined) {
        await db
          .insertInto('run_tags')
          .values({ run_id: runId, key: RUN_NAME_TAG, value: name })
          .onConflict((conflict) => conflict.columns(['run_id', 'key']).doUpdateSet({ value: name }))
          .execute();
      }
      return { kind: 'ok' };
    });

/** {@link TrackingStore.setRunLifecycle}: one conditional update. */
export const setRunLifecycle =
  (handle: StoreHandle): TrackingStore['setRunLifecycle'] =>
  async (workspace, runId, stage, deletedTime) => {
    const result = await handle.db
      .updateTable('runs')
      .set({ lifecycle_stage: stage, deleted_time: deletedTime })
      .where('run_id', '=', runId)
      .where('workspace', '=', workspace)
      .where('lifecycle_stage', '!=', stage)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  };

/** {@link TrackingStore.deleteRunTag}. */
export const deleteRunTag =
  (handle: StoreHandle): TrackingStore['deleteRunTag'] =>
  (workspace, runId, key, columns) =>
    inTransaction(handle, async (db): Promise<RunWriteOutcome> => {
      await requireActiveRun(db, workspace, runId);
      const removed = await db
        .deleteFrom('run_tags')
        .where('run_id', '=', runId)
        .where('key', '=', key)
        .executeTakeFirst();
      if (removed.numDeletedRows === 0n) return { kind: 'no-tag' };
      const set = columnUpdates(columns);
      if (Object.keys(set).length > 0) await db.updateTable('runs').set(set).where('run_id', '=', runId).execute();
      return { kind: 'ok' };
    });

/** {@link TrackingStore.searchRuns}: the compiled search over the workspace's runs of the given experiments. */
export async function searchRuns(
  handle: StoreHandle,
  page: PageRequest & { experimentIds: readonly number[] },
): Promise<RunRecord[]> {
  if (page.experimentIds.length === 0) return [];
  let query = handle.db
    .selectFrom('runs')
    .selectAll('runs')
    .where('runs.workspace', '=', page.workspace)
    .where('runs.lifecycle_stage', 'in', stagesOf(page.viewType));
  query =
    page.experimentIds.length <= INLINE_IDS
      ? query.where('runs.experiment_id', 'in', [...page.experimentIds])
      : query.where(inValues(handle.dialect, 'runs.experiment_id', page.experimentIds, 'bigint'));
  const rows = await applySearch(query, page.plan, RUNS_SEARCH, handle.dialect)
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map(toRecord);
}

/**
 * {@link TrackingStore.updateRunTag}: a read-modify-write of one tag in one transaction. The run
 * row is read `FOR UPDATE` on PostgreSQL, so concurrent updates of the same run queue behind each
 * other there (a tag row cannot be locked before it exists); SQLite transactions take the write
 * lock up front (BEGIN IMMEDIATE), which serialises them already.
 */
export const updateRunTag =
  (handle: StoreHandle): TrackingStore['updateRunTag'] =>
  (workspace, runId, key, update) =>
    inTransaction(handle, async (db): Promise<RunWriteOutcome> => {
      const run = await db
        .selectFrom('runs')
        .select('lifecycle_stage')
        .where('run_id', '=', runId)
        .where('workspace', '=', workspace)
        .$if(handle.dialect === 'postgres', (query) => query.forUpdate())
        .executeTakeFirst();
      if (run === undefined) return { kind: 'missing' };
      if (run.lifecycle_stage !== 'active') return { kind: 'deleted' };
      const current = await db
        .selectFrom('run_tags')
        .select('value')
        .where('run_id', '=', runId)
        .where('key', '=', key)
        .executeTakeFirst();
      const value = update(current?.value);
      await db
        .insertInto('run_tags')
        .values({ run_id: runId, key, value })
        .onConflict((conflict) => conflict.columns(['run_id', 'key']).doUpdateSet({ value }))
        .execute();
      return { kind: 'ok' };
    });
