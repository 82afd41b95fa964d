import type { RequestContext } from '../core/index.js';
import type { DatasetVersion } from '../data/index.js';
import { LIMITS, type MetricInput, type TrackingServices } from '../tracking/index.js';

/** The MLflow dataset context tag of a run input. */
const CONTEXT_TAG = 'mlflow.data.context';

/**
 * Buffers a run's metrics and writes them with `logBatch` once `batchSize` have gathered or
 * `intervalMs` has passed since the last write, so a 1,000-round boosting job does not make 1,000
 * round trips to the database. `flush` writes what is left.
 *
 * @example
 * const metrics = new MetricBuffer(tracking, ctx, runId);
 * metrics.add({ validation_logloss: 0.41 }, 3);
 * await metrics.flush();
 */
export class MetricBuffer {
  private pending: MetricInput[] = [];
  private lastWrite = Date.now();
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly tracking: TrackingServices,
    private readonly ctx: RequestContext,
    private readonly runId: string,
    private readonly intervalMs = 1000,
    private readonly batchSize = LIMITS.batchMetrics,
  ) {}

  /** Queues `metrics` at `step`; starts a write in the background when one is due. */
  add(metrics: Record<string, number>, step: number): void {
    const timestamp = Date.now();
    for (const [key, value] of Object.entries(metrics)) this.pending.push({ key, value, timestamp, step });
    if (this.pending.length >= this.batchSize || timestamp - this.lastWrite >= this.intervalMs) this.startWrite();
  }

  private startWrite(): void {
    const batch = this.pending.splice(0, this.batchSize);
    if (batch.length === 0) return;
    this.lastWrite = Date.now();
    this.writing = this.writing
      .then(() => this.tracking.runData.logBatch(this.ctx, this.runId, { metrics: batch }))
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  /** Writes every queued metric; rethrows the first write failure. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) this.startWrite();
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }
}

/**
 * A dataset version as an MLflow dataset input of a run (source type `kiln`, its digest, schema
 * as MLflow column specs and row count), so the lineage walk from a dataset version finds the run.
 */
export function datasetInput(version: DatasetVersion, context: 'training' | 'validation' | 'eval') {
  return {
    dataset: {
      name: version.datasetName,
      digest: version.digest,
      sourceType: 'kiln',
      source: JSON.stringify({ uri: `kiln://datasets/${version.datasetName}/versions/${version.version}` }),
      schema: JSON.stringify({
        mlflow_colspec: version.schema.columns.map((c) => ({
          type: mlflowType(c.logicalType),
          name: c.name,
          required: !c.nullable,
        })),
      }),
      profile: JSON.stringify({ num_rows: version.rowCount, num_elements: version.rowCount * version.columnCount }),
    },
    tags: [{ key: CONTEXT_TAG, value: context }],
  };
}

function mlflowType(logicalType: string): string {
  if (logicalType === 'integer') return 'long';
  if (logicalType === 'float') return 'double';
  if (logicalType === 'boolean' || logicalType === 'datetime') return logicalType;
  return 'string';
}

/** A param value cut to MLflow's limit (feature lists can be long). */
export function paramValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > LIMITS.paramValueLength ? `${text.slice(0, LIMITS.paramValueLength - 1)}…` : text;
}
