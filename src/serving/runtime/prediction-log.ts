import type { Kysely } from 'kysely';
import { hexId, type Logger } from '../../core/index.js';
import type { Database, FoundationTables, Migration } from '../../store/index.js';
import type { PredictionRecord, PredictionSink } from '../types.js';

/** The `serving_predictions` row: one logged answer (or shadow answer), inputs and outputs as JSON text. */
export type ServingPredictionRow = {
  id: string;
  workspace: string;
  deployment: string;
  model: string;
  version: string;
  role: string;
  request_id: string;
  /** ISO-8601 UTC. */
  created_at: string;
  inputs: string;
  outputs: string;
  latency_ms: number;
  error: string | null;
};

/** Tables of the prediction log, for `database.kysely.withTables<ServingLogTables>()`. */
export type ServingLogTables = {
  serving_predictions: ServingPredictionRow;
};

/**
 * Schema of the prediction log: one row per logged request per target, the primary's and a
 * shadow's answers to one request sharing `request_id`, so feedback and offline comparisons join
 * on it. Indexed for the monitoring reads: a deployment's rows over time, and lookups by request.
 */
export const SERVING_LOG_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261128-01-serving-predictions',
    async up(db) {
      await db.schema
        .createTable('serving_predictions')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('deployment', 'text', (col) => col.notNull())
        .addColumn('model', 'text', (col) => col.notNull())
        .addColumn('version', 'text', (col) => col.notNull())
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('inputs', 'text', (col) => col.notNull())
        .addColumn('outputs', 'text', (col) => col.notNull())
        .addColumn('latency_ms', 'double precision', (col) => col.notNull())
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('serving_predictions_deployment_created')
        .on('serving_predictions')
        .columns(['workspace', 'deployment', 'created_at'])
        .execute();
      await db.schema
        .createIndex('serving_predictions_request')
        .on('serving_predictions')
        .columns(['workspace', 'request_id'])
        .execute();
    },
  },
];

/** Options of {@link BufferedPredictionLog}. */
export interface BufferedPredictionLogOptions {
  database: Database;
  logger?: Logger;
  /** Records held while waiting to be written; beyond it new records are dropped and counted. Default 10,000. */
  capacity?: number;
  /** Rows per INSERT statement; a flush starts as soon as this many are waiting. Default 500. */
  batchSize?: number;
  /** A flush also starts this often when anything is waiting. Default 1000 ms. */
  flushIntervalMs?: number;
}

/**
 * The {@link PredictionSink} that writes to the metadata database: `record` only appends to a
 * bounded in-memory buffer (never blocks, never throws); batches are written asynchronously with
 * multi-row INSERTs. When the buffer is full, or a batch cannot be written, the records are
 * dropped and counted in `dropped` (exported as `kiln_serving_predictions_dropped_total` by the
 * runtime): serving never waits for, or fails because of, its log. `close` writes what is left.
 *
 * @example
 * const log = new BufferedPredictionLog({ database, logger });
 * const runtime = new ServingRuntime({ loader, metrics, logger, sink: log });
 * // … on shutdown
 * await runtime.close();
 * await log.close();
 */
export class BufferedPredictionLog implements PredictionSink {
  readonly #db: Kysely<FoundationTables & ServingLogTables>;
  readonly #logger: Logger | undefined;
  readonly #capacity: number;
  readonly #batchSize: number;
  #buffer: PredictionRecord[] = [];
  #dropped = 0;
  #written = 0;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: BufferedPredictionLogOptions) {
    this.#db = options.database.kysely.withTables<ServingLogTables>();
    this.#logger = options.logger;
    this.#capacity = positive(options.capacity, 10_000);
    this.#batchSize = positive(options.batchSize, 500);
    const interval = positive(options.flushIntervalMs, 1000);
    this.#timer = setInterval(() => this.#kick(), interval);
    this.#timer.unref();
  }

  /** Records dropped so far (buffer full, log closed, or a failed write). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Records written so far. */
  get written(): number {
    return this.#written;
  }

  /** Records waiting to be written. */
  get buffered(): number {
    return this.#buffer.length;
  }

  record(entry: PredictionRecord): void {
    if (this.#closed || this.#buffer.length >= this.#capacity) {
      this.#dropped++;
      return;
    }
    this.#buffer.push(entry);
    if (this.#buffer.length >= this.#batchSize) this.#kick();
  }

  /** Resolves once everything recorded before the call is written (or dropped because writing failed). */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0 || this.#writing !== undefined) {
      this.#kick();
      await this.#writing;
    }
  }

  /** Stops taking records and writes the ones waiting. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #kick(): void {
    if (this.#writing !== undefined || this.#buffer.length === 0) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      try {
        await this.#db.insertInto('serving_predictions').values(batch.map(toRow)).execute();
        this.#written += batch.length;
      } catch (err) {
        this.#dropped += batch.length;
        this.#logger?.warn({ err, records: batch.length }, 'writing prediction records failed; they were dropped');
      }
    }
  }
}

function toRow(record: PredictionRecord): ServingPredictionRow {
  return {
    id: hexId(),
    workspace: record.workspace,
    deployment: record.deployment,
    model: record.model,
    version: record.version,
    role: record.role,
    request_id: record.requestId,
    created_at: new Date(record.timestamp).toISOString(),
    inputs: JSON.stringify(record.inputs),
    outputs: JSON.stringify(record.outputs),
    latency_ms: record.latencyMs,
    error: record.error ?? null,
  };
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
