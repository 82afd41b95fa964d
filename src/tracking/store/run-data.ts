import type { DatasetInput, Metric, Tag } from '../model.js';
import type { RunData, TrackingStore } from '../store.js';
import { flag, int, inValues, type StoreHandle } from './db.js';

function entry(data: Map<string, RunData>, runId: string): RunData {
  let found = data.get(runId);
  if (found === undefined) {
    found = { params: [], tags: [], metrics: [], inputs: [] };
    data.set(runId, found);
  }
  return found;
}

/**
 * Loads the data of a page of runs with one query per child table — params, tags, latest metrics,
 * inputs (joined to their datasets) and input tags — whatever the page size: the id list is bound
 * as a single array parameter. Children come back ordered by key, inputs by dataset name.
 *
 * @example
 * const data = await loadRunData(handle)(runs.map((r) => r.runId));
 */
export const loadRunData =
  (handle: StoreHandle): TrackingStore['loadRunData'] =>
  async (runIds) => {
    const data = new Map<string, RunData>();
    for (const runId of runIds) entry(data, runId);
    if (runIds.length === 0) return data;
    const { db, dialect } = handle;
    const [params, tags, metrics, inputs, inputTags] = await Promise.all([
      db
        .selectFrom('params')
        .select(['run_id', 'key', 'value'])
        .where(inValues(dialect, 'params.run_id', runIds, 'text'))
        .orderBy('key')
        .execute(),
      db
        .selectFrom('run_tags')
        .select(['run_id', 'key', 'value'])
        .where(inValues(dialect, 'run_tags.run_id', runIds, 'text'))
        .orderBy('key')
        .execute(),
      db
        .selectFrom('latest_metrics')
        .select(['run_id', 'key', 'value', 'timestamp', 'step', 'is_nan'])
        .where(inValues(dialect, 'latest_metrics.run_id', runIds, 'text'))
        .orderBy('key')
        .execute(),
      db
        .selectFrom('run_inputs')
        .innerJoin('datasets', 'datasets.dataset_id', 'run_inputs.dataset_id')
        .select([
          'run_inputs.run_id',
          'run_inputs.dataset_id',
          'datasets.name',
          'datasets.digest',
          'datasets.source_type',
          'datasets.source',
          'datasets.schema',
          'datasets.profile',
        ])
        .where(inValues(dialect, 'run_inputs.run_id', runIds, 'text'))
        .orderBy('datasets.name')
        .orderBy('datasets.digest')
        .execute(),
      db
        .selectFrom('run_input_tags')
        .select(['run_id', 'dataset_id', 'key', 'value'])
        .where(inValues(dialect, 'run_input_tags.run_id', runIds, 'text'))
        .orderBy('key')
        .execute(),
    ]);
    for (const row of params) entry(data, row.run_id).params.push({ key: row.key, value: row.value });
    for (const row of tags) entry(data, row.run_id).tags.push({ key: row.key, value: row.value });
    for (const row of metrics) {
      const metric: Metric = {
        key: row.key,
        value: flag(row.is_nan) ? Number.NaN : row.value,
        timestamp: int(row.timestamp),
        step: int(row.step),
      };
      entry(data, row.run_id).metrics.push(metric);
    }
    const tagsOfInput = new Map<string, Tag[]>();
    for (const row of inputTags) {
      const id = `${row.run_id}/${row.dataset_id}`;
      let list = tagsOfInput.get(id);
      if (list === undefined) {
        list = [];
        tagsOfInput.set(id, list);
      }
      list.push({ key: row.key, value: row.value });
    }
    for (const row of inputs) {
      const input: DatasetInput = {
        dataset: {
          name: row.name,
          digest: row.digest,
          sourceType: row.source_type,
          source: row.source,
          schema: row.schema,
          profile: row.profile,
        },
        tags: tagsOfInput.get(`${row.run_id}/${row.dataset_id}`) ?? [],
      };
      entry(data, row.run_id).inputs.push(input);
    }
    return data;
  };
