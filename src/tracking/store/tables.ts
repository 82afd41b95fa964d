import type { Generated } from 'kysely';

/**
 * The tracking tables (see TRACKING_MIGRATIONS for keys and indexes). Times are epoch-ms integers,
 * as on MLflow's wire. Booleans are `boolean` on PostgreSQL and 0/1 on SQLite; columns read back
 * as either, so code reading them uses `Boolean(x)` and code writing them binds 0/1, which both
 * engines accept.
 *
 * @example
 * const db = database.kysely.withTables<TrackingTables>();
 */
export type TrackingTables = {
  experiments: {
    experiment_id: Generated<number>;
    workspace: string;
    name: string;
    /** Null: the default `<artifact root>/<experiment_id>`, resolved when read. */
    artifact_location: string | null;
    lifecycle_stage: string;
    creation_time: number;
    last_update_time: number;
  };
  experiment_tags: { experiment_id: number; key: string; value: string };
  runs: {
    run_id: string;
    workspace: string;
    experiment_id: number;
    name: string;
    status: string;
    start_time: number;
    end_time: number | null;
    lifecycle_stage: string;
    deleted_time: number | null;
    user_id: string;
    source_type: string;
    source_name: string;
    artifact_uri: string;
    parent_run_id: string | null;
  };
  params: { run_id: string; key: string; value: string };
  run_tags: { run_id: string; key: string; value: string };
  metrics: {
    run_id: string;
    key: string;
    step: number;
    timestamp: number;
    value: number;
    is_nan: boolean | number;
  };
  latest_metrics: {
    run_id: string;
    key: string;
    step: number;
    timestamp: number;
    value: number;
    is_nan: boolean | number;
    /** Smallest step logged since the rollups of this metric were last brought up to date; null when current. */
    rollup_from: number | null;
  };
  metric_rollups: {
    run_id: string;
    key: string;
    level: number;
    block: number;
    first_step: number;
    first_timestamp: number;
    first_value: number;
    first_nan: number;
    last_step: number;
    last_timestamp: number;
    last_value: number;
    last_nan: number;
    min_step: number | null;
    min_timestamp: number | null;
    min_value: number | null;
    max_step: number | null;
    max_timestamp: number | null;
    max_value: number | null;
  };
  datasets: {
    dataset_id: string;
    experiment_id: number;
    name: string;
    digest: string;
    source_type: string;
    source: string;
    schema: string | null;
    profile: string | null;
    creation_time: number;
  };
  run_inputs: { run_id: string; dataset_id: string; context: string | null };
  run_input_tags: { run_id: string; dataset_id: string; key: string; value: string };
};
