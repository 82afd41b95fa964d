import { hexId } from '../../core/index.js';
import { DATASET_CONTEXT_TAG, type Dataset, type LifecycleStage, type RunStatus, type Tag } from '../model.js';
import type { RunWriteOutcome, TrackingStore } from '../store.js';
import { chunks, inTransaction, type StoreHandle } from './db.js';
import { requireActiveRun } from './runs.js';

/** Datasets per multi-row INSERT: 9 columns × 1000 stays far below both engines' parameter limits. */
const ROWS_PER_STATEMENT = 1000;

interface MergedInput {
  dataset: Dataset;
  tags: Map<string, string>;
}

/**
 * Links datasets to an active run in one transaction (see {@link TrackingStore.logInputs}). A
 * dataset is stored once per experiment by (name, digest) — the first logged source, schema and
 * profile are kept — and a run links to it once; logging it again merges the input tags (last
 * value wins) and updates the `mlflow.data.context` the `datasets.context` filter compares.
 */
export const logInputs =
  (handle: StoreHandle): TrackingStore['logInputs'] =>
  (workspace, runId, inputs, time) =>
    inTransaction(handle, async (db): Promise<RunWriteOutcome> => {
      const experimentId = await requireActiveRun(db, workspace, runId);
      const merged = new Map<string, MergedInput>();
      for (const input of inputs) {
        const id = JSON.stringify([input.dataset.name, input.dataset.digest]);
        let entry = merged.get(id);
        if (entry === undefined) {
          entry = { dataset: input.dataset, tags: new Map() };
          merged.set(id, entry);
        }
        for (const tag of input.tags) entry.tags.set(tag.key, tag.value);
      }
      const entries = [...merged.values()];
      if (entries.length === 0) return { kind: 'ok' };
      for (const part of chunks(entries, ROWS_PER_STATEMENT)) {
        await db
          .insertInto('datasets')
          .values(
            part.map(({ dataset }) => ({
              dataset_id: hexId(),
              experiment_id: experimentId,
              name: dataset.name,
              digest: dataset.digest,
              source_type: dataset.sourceType,
              source: dataset.source,
              schema: dataset.schema,
              profile: dataset.profile,
              creation_time: time,
            })),
          )
          .onConflict((conflict) => conflict.columns(['experiment_id', 'name', 'digest']).doNothing())
          .execute();
      }
      const names = [...new Set(entries.map(({ dataset }) => dataset.name))];
      const ids = new Map<string, string>();
      for (const part of chunks(names, ROWS_PER_STATEMENT)) {
        const rows = await db
          .selectFrom('datasets')
          .select(['dataset_id', 'name', 'digest'])
          .where('experiment_id', '=', experimentId)
          .where('name', 'in', part)
          .execute();
        for (const row of rows) ids.set(JSON.stringify([row.name, row.digest]), row.dataset_id);
      }
      const links = entries.map((entry) => ({
        datasetId: ids.get(JSON.stringify([entry.dataset.name, entry.dataset.digest])) as string,
        context: entry.tags.get(DATASET_CONTEXT_TAG) ?? null,
        tags: [...entry.tags].map(([key, value]): Tag => ({ key, value })),
      }));
      for (const part of chunks(links, ROWS_PER_STATEMENT)) {
        await db
          .insertInto('run_inputs')
          .values(part.map((link) => ({ run_id: runId, dataset_id: link.datasetId, context: link.context })))
          .onConflict((conflict) =>
            conflict
              .columns(['run_id', 'dataset_id'])
              .doUpdateSet((eb) => ({ context: eb.fn.coalesce('excluded.context', 'run_inputs.context') })),
          )
          .execute();
      }
      const tagRows = links.flatMap((link) =>
        link.tags.map((tag) => ({ run_id: runId, dataset_id: link.datasetId, key: tag.key, value: tag.value })),
      );
      for (const part of chunks(tagRows, ROWS_PER_STATEMENT)) {
        await db
          .insertInto('run_input_tags')
          .values(part)
          .onConflict((conflict) =>
            conflict
              .columns(['run_id', 'dataset_id', 'key'])
              .doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
      return { kind: 'ok' };
    });

/**
 * Runs of `workspace` that logged a dataset with this digest as an input, newest first (see
 * {@link TrackingStore.runsUsingDigest}).
 */
export const runsUsingDigest =
  ({ db }: StoreHandle): TrackingStore['runsUsingDigest'] =>
  async (workspace, digest, limit) => {
    const rows = await db
      .selectFrom('datasets')
      .innerJoin('run_inputs', 'run_inputs.dataset_id', 'datasets.dataset_id')
      .innerJoin('runs', 'runs.run_id', 'run_inputs.run_id')
      .select([
        'runs.run_id',
        'runs.experiment_id',
        'runs.name',
        'runs.status',
        'runs.lifecycle_stage',
        'runs.start_time',
        'datasets.name as dataset_name',
        'run_inputs.context',
      ])
      .where('datasets.digest', '=', digest)
      .where('runs.workspace', '=', workspace)
      .orderBy('runs.start_time', 'desc')
      .orderBy('runs.run_id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      runId: row.run_id,
      experimentId: String(row.experiment_id),
      runName: row.name,
      status: row.status as RunStatus,
      lifecycleStage: row.lifecycle_stage as LifecycleStage,
      datasetName: row.dataset_name,
      context: row.context ?? undefined,
    }));
  };
