import type { SearchDescriptor } from '../search/index.js';

/**
 * How the search compiler sees the runs schema: attributes are `runs` columns, metrics the
 * `latest_metrics` table (NaN as value 0 with `is_nan` set), params and tags their keyed tables,
 * dataset filters the `run_inputs` links joined to `datasets`. Experiment ids are integers, so
 * they sort as numbers. `start_time` is NOT NULL, so the default order can read `runs_search`.
 *
 * @example
 * applySearch(db.selectFrom('runs').selectAll('runs'), plan, RUNS_SEARCH, database.dialect);
 */
export const RUNS_SEARCH: SearchDescriptor = {
  owner: ['runs.run_id'],
  attributes: {
    run_id: { column: 'runs.run_id', type: 'text' },
    run_name: { column: 'runs.name', type: 'text' },
    status: { column: 'runs.status', type: 'text' },
    user_id: { column: 'runs.user_id', type: 'text' },
    artifact_uri: { column: 'runs.artifact_uri', type: 'text' },
    start_time: { column: 'runs.start_time', type: 'number', notNull: true },
    end_time: { column: 'runs.end_time', type: 'number' },
    experiment_id: { column: 'runs.experiment_id', type: 'number' },
  },
  keyed: {
    metric: { table: 'latest_metrics', owner: ['run_id'], key: 'key', value: 'value', nan: 'is_nan' },
    param: { table: 'params', owner: ['run_id'], key: 'key', value: 'value' },
    tag: { table: 'run_tags', owner: ['run_id'], key: 'key', value: 'value' },
  },
  dataset: {
    table: 'run_inputs',
    owner: ['run_id'],
    join: { table: 'datasets', on: ['dataset_id', 'dataset_id'] },
    fields: {
      name: { column: 'name', joined: true },
      digest: { column: 'digest', joined: true },
      context: { column: 'context' },
    },
  },
};

/**
 * How the search compiler sees experiments: name and times are columns, tags the
 * `experiment_tags` table.
 *
 * @example
 * applySearch(db.selectFrom('experiments').selectAll('experiments'), plan, EXPERIMENTS_SEARCH, dialect);
 */
export const EXPERIMENTS_SEARCH: SearchDescriptor = {
  owner: ['experiments.experiment_id'],
  attributes: {
    experiment_id: { column: 'experiments.experiment_id', type: 'number' },
    name: { column: 'experiments.name', type: 'text' },
    creation_time: { column: 'experiments.creation_time', type: 'number' },
    last_update_time: { column: 'experiments.last_update_time', type: 'number' },
  },
  keyed: { tag: { table: 'experiment_tags', owner: ['experiment_id'], key: 'key', value: 'value' } },
};
