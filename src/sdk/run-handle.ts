import { KilnError } from '../core/index.js';
import { LogQueue, type MetricPoint } from './log-queue.js';
import type { TrackingApi } from './tracking.js';
import type { DataColumn, DatasetVersion, RunInfo, RunStatus, StoredArtifact } from './types.js';

/** When and at which step {@link RunHandle.logMetrics} records its points. */
export interface MetricOptions {
  /** Training step; default 0. */
  step?: number;
  /** Epoch milliseconds; default now. */
  timestamp?: number;
}

/** A value MLflow accepts as a param or tag; stored as its string form. */
export type LoggableValue = string | number | boolean;

/** A metric value for JSON, which has no NaN or Infinity: those travel as their names. */
export function metricValueToWire(value: number): MetricPoint['value'] {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** What a run used a dataset version for: `training`, `validation`, `test`, or a word of your own. */
export type DatasetContext = 'training' | 'validation' | 'test' | (string & Record<never, never>);

/**
 * A run being recorded, as returned by `kiln.tracking.startRun()`. Params, metrics and tags are
 * buffered and sent in the background in `log-batch` calls, so a training loop never waits on the
 * network; call {@link flush} to wait until everything so far is stored, and {@link end} when
 * done. Artifacts are uploaded at once, streamed from disk.
 *
 * @example
 * const run = await kiln.tracking.startRun({ experimentName: 'churn', runName: 'gbt-1' });
 * run.logParams({ learning_rate: 0.1, depth: 6 });
 * for (let step = 0; step < 100; step++) run.logMetrics({ loss: losses[step] }, { step });
 * await run.logArtifact('model.json', 'model');
 * await run.end();
 */
export class RunHandle {
  readonly runId: string;
  readonly experimentId: string;
  private readonly queue: LogQueue;

  constructor(
    private readonly tracking: TrackingApi,
    info: RunInfo,
    flushIntervalMs?: number,
  ) {
    this.runId = info.run_id;
    this.experimentId = info.experiment_id;
    this.queue = new LogQueue((batch) => tracking.logBatch(this.runId, batch), flushIntervalMs);
  }

  /** Queues params; a param cannot change once logged (the server refuses a different value). */
  logParams(params: Readonly<Record<string, LoggableValue>>): void {
    this.queue.add({ params: entries(params) });
  }

  /** Queues one point per key, all at the same step and timestamp. */
  logMetrics(metrics: Readonly<Record<string, number>>, options: MetricOptions = {}): void {
    const timestamp = options.timestamp ?? Date.now();
    const step = options.step ?? 0;
    const points = Object.entries(metrics).map(([key, value]) => {
      if (typeof value !== 'number') {
        throw new KilnError('INVALID_PARAMETER_VALUE', `metric '${key}': must be a number, got ${typeof value}`, {
          field: key,
        });
      }
      return { key, value: metricValueToWire(value), timestamp, step };
    });
    this.queue.add({ metrics: points });
  }

  /** Queues tags; a later value replaces an earlier one. */
  setTags(tags: Readonly<Record<string, LoggableValue>>): void {
    this.queue.add({ tags: entries(tags) });
  }

  /** Resolves when everything logged so far is stored; rejects with the first failed call's error. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Uploads one file under `artifactPath` (default the root), keeping its base name. */
  logArtifact(localPath: string, artifactPath?: string): Promise<StoredArtifact> {
    return this.tracking.artifacts.upload(this.runId, localPath, artifactPath);
  }

  /** Uploads every file under `dir`, keeping the layout, under `artifactPath` (default the root). */
  logArtifacts(dir: string, artifactPath?: string): Promise<StoredArtifact[]> {
    return this.tracking.artifacts.uploadDirectory(this.runId, dir, artifactPath);
  }

  /**
   * Logs a Kiln dataset version as an input of this run, the way MLflow's `log_input` records a
   * dataset: its name, content digest, `kiln://` source, MLflow column spec and row counts, with
   * `context` as the `mlflow.data.context` tag. The version's lineage then shows this run, and
   * MLflow clients see the input like any other. Sent at once, not buffered; logging it again only
   * updates the tag.
   *
   * @example
   * const v = await kiln.data.getVersion('penguins.train', 1);
   * await run.logDatasetVersion(v, { context: 'training' });
   */
  logDatasetVersion(
    version: Pick<DatasetVersion, 'dataset_name' | 'version' | 'digest' | 'row_count' | 'column_count' | 'schema'>,
    options: { context?: DatasetContext } = {},
  ): Promise<void> {
    const dataset = {
      name: version.dataset_name,
      digest: version.digest,
      source_type: 'kiln',
      source: JSON.stringify({ uri: `kiln://datasets/${version.dataset_name}/versions/${version.version}` }),
      schema: JSON.stringify({ mlflow_colspec: version.schema.columns.map(colSpec) }),
      profile: JSON.stringify({ num_rows: version.row_count, num_elements: version.row_count * version.column_count }),
    };
    const tags = options.context === undefined ? [] : [{ key: 'mlflow.data.context', value: options.context }];
    return this.tracking.logInputs(this.runId, [{ dataset, tags }]);
  }

  /**
   * Flushes, then sets the run's status and end time. The status is set even when the flush
   * failed, and the flush error is then rethrown.
   */
  async end(status: RunStatus = 'FINISHED'): Promise<RunInfo> {
    let failure: { error: unknown } | undefined;
    try {
      await this.flush();
    } catch (error) {
      failure = { error };
    }
    const info = await this.tracking.updateRun(this.runId, { status, endTime: Date.now() });
    if (failure !== undefined) throw failure.error;
    return info;
  }
}

function entries(record: Readonly<Record<string, LoggableValue>>): { key: string; value: string }[] {
  return Object.entries(record).map(([key, value]) => ({ key, value: String(value) }));
}

/** A column as an MLflow `ColSpec` (`{ type, name, required }`), typed by the closest MLflow data type. */
function colSpec(column: DataColumn): { type: string; name: string; required: boolean } {
  return { type: mlflowType(column), name: column.name, required: !column.nullable };
}

function mlflowType(column: DataColumn): string {
  const physical = column.physical_type.toUpperCase();
  switch (column.logical_type) {
    case 'integer':
      return /^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT)$/.test(physical) ? 'integer' : 'long';
    case 'float':
      return physical === 'FLOAT' ? 'float' : 'double';
    case 'boolean':
      return 'boolean';
    case 'datetime':
      return 'datetime';
    case 'string':
    case 'categorical':
      return 'string';
  }
}
