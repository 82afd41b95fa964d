import { hexId, invalidParameter, KilnError, type Logger, type RequestContext } from '../../core/index.js';
import {
  type AppendedColumn,
  type AppendedValues,
  type AppendProgress,
  checkReadable,
  type DatasetService,
  type DatasetVersion,
} from '../../data/index.js';
import type { Frame } from '../../learn/index.js';
import {
  type Database,
  type JobContext,
  type JobPageRequest,
  nowIso,
  pageJobRecords,
  type Queue,
  settleGivenUpJob,
  type Worker,
} from '../../store/index.js';
import type { DatasetRef } from '../../training/index.js';
import type { LoadedModel, ModelLoader, ModelRef, Predictor, PredictorOutput } from '../types.js';
import { type ScoringJob, ScoringJobStore, type ScoringProgress } from './jobs.js';
import { type CheckedScoringRequest, checkScoringRequest } from './request.js';

/** The queue scoring jobs travel on. */
export const SCORING_QUEUE = 'scoring';

/** The column every scored version gets: the predicted number, or the predicted class label. */
export const PREDICTION_COLUMN = 'prediction';
/** Classifiers add one column per class, `probability_<class>`, in the model's class order. */
export const PROBABILITY_PREFIX = 'probability_';

/** What {@link ScoringService} works with. */
export interface ScoringServiceDeps {
  database: Database;
  queue: Queue;
  datasets: DatasetService;
  /** Resolves and loads registered models (`RegistryModelLoader` in the server). */
  loader: ModelLoader;
  logger: Logger;
}

/** What a finished scoring job produced. */
export interface ScoringOutcome {
  output: { dataset: string; version: number };
  rows: number;
}

/** Data of a queued scoring job: the row holds the rest. */
interface ScoreJobData {
  jobId: string;
  workspace: string;
  actor: string;
}

type VersionRef = Extract<ModelRef, { kind: 'version' }>;

const PROGRESS_EVERY_MS = 1000;

/**
 * Batch scoring: applies a registered model version to a dataset version on the queue, chunk by
 * chunk, and records the input's columns with `prediction` (and for classifiers one
 * `probability_<class>` column per class) as the next version of the output dataset, with lineage
 * to the input version and the model version in its provenance. `submit` resolves the model (an
 * alias to its version now) and the data, loads the model and checks that the data has every
 * column it needs before anything is queued; a worker (`process`) scores. Predictions go to DuckDB
 * a chunk at a time, so a 3-million-row version never has its predictions in the JS heap at once;
 * a job that fails records no version.
 *
 * @example
 * const scoring = new ScoringService({ database, queue, datasets, loader, logger });
 * const job = await scoring.submit(ctx, { model: 'models:/flights@champion', data: 'flights@4', out: 'scored' });
 * const worker = scoring.process({ concurrency: 1 });
 * const done = await scoring.get(ctx, job.id); // state, progress, output: { dataset: 'scored', version: 1 }
 */
export class ScoringService {
  private readonly jobs: ScoringJobStore;

  constructor(private readonly deps: ScoringServiceDeps) {
    this.jobs = new ScoringJobStore(deps.database);
  }

  /**
   * Checks and queues a scoring job; answers it in state `queued`. Unknown model, dataset or
   * version: 404 naming `model` or `data`; data without a column the model needs, or with one of a
   * type it cannot read: 400 naming `data` and the column.
   */
  async submit(ctx: RequestContext, raw: unknown): Promise<ScoringJob> {
    const checked = checkScoringRequest(raw);
    const model = await this.resolveModel(ctx, checked.model);
    const input = await this.inputVersion(ctx, checked.data);
    const loaded = await this.load(ctx, model);
    try {
      checkInputs(loaded, input);
      outputColumns(loaded.predictor);
    } finally {
      await this.close(loaded);
    }
    const { chunkRows } = checked.request;
    const now = nowIso();
    const job: ScoringJob = {
      id: `score-${hexId()}`,
      workspace: ctx.workspace,
      state: 'queued',
      request: checked.request,
      model: { name: model.name, version: model.version },
      input: { dataset: input.datasetName, version: input.version },
      progress: {
        rowsScored: 0,
        totalRows: input.rowCount,
        chunksDone: 0,
        totalChunks: Math.ceil(input.rowCount / chunkRows),
      },
      createdBy: ctx.actor,
      createdAt: now,
      updatedAt: now,
    };
    await this.jobs.insert(job);
    const data: ScoreJobData = { jobId: job.id, workspace: ctx.workspace, actor: ctx.actor };
    try {
      await this.deps.queue.enqueue(SCORING_QUEUE, 'score', data, { jobId: job.id, attempts: 1 });
    } catch (err) {
      const finishedAt = nowIso();
      await this.jobs.update(
        job.id,
        { state: 'failed', error: `queueing failed: ${messageOf(err)}`, finishedAt },
        finishedAt,
      );
      throw err;
    }
    return job;
  }

  /**
   * The job as its row says. A job the queue gave up on without its processor recording it (the
   * process running it died and its lease ran out) is recorded as failed here, with the queue's reason.
   */
  async get(ctx: RequestContext, id: string): Promise<ScoringJob> {
    const job = typeof id === 'string' && id.length <= 200 ? await this.jobs.get(ctx.workspace, id) : undefined;
    if (job === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `scoring job '${id}' does not exist`, { field: 'id', id });
    }
    return settleGivenUpJob(this.deps.queue, SCORING_QUEUE, job, this.jobs);
  }

  /** The workspace's jobs, newest first, `maxResults` (default 50, at most 500) at a time. */
  async list(ctx: RequestContext, page: JobPageRequest = {}): Promise<{ jobs: ScoringJob[]; nextPageToken?: string }> {
    return pageJobRecords(page, (limit, before) => this.jobs.list(ctx.workspace, limit, before));
  }

  /**
   * Consumes the scoring queue in this process (`kiln server` with the local queue, `kiln worker`).
   * Each job's row follows it: running with throttled progress (rows and chunks scored), then
   * succeeded with the output version, or failed with the error.
   */
  process(options: { concurrency?: number } = {}): Worker {
    return this.deps.queue.process<ScoreJobData, ScoringOutcome>(SCORING_QUEUE, (job) => this.processJob(job), options);
  }

  private async processJob(job: JobContext<ScoreJobData>): Promise<ScoringOutcome> {
    const { jobId, workspace, actor } = job.data;
    const ctx: RequestContext = { actor, workspace, requestId: jobId };
    const record = await this.jobs.get(workspace, jobId);
    if (record === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `scoring job '${jobId}' has no record`, { id: jobId });
    }
    const startedAt = nowIso();
    await this.jobs.update(jobId, { state: 'running', startedAt }, startedAt);
    try {
      const outcome = await this.score(ctx, record, job);
      const finishedAt = nowIso();
      const progress: ScoringProgress = {
        ...record.progress,
        rowsScored: outcome.rows,
        chunksDone: record.progress.totalChunks,
      };
      await this.jobs.update(jobId, { state: 'succeeded', output: outcome.output, progress, finishedAt }, finishedAt);
      return outcome;
    } catch (err) {
      const finishedAt = nowIso();
      await this.jobs.update(jobId, { state: 'failed', error: messageOf(err), finishedAt }, finishedAt);
      throw err;
    }
  }

  /** Loads the job's model version and writes the scored version through the data context. */
  private async score(ctx: RequestContext, record: ScoringJob, job: JobContext<ScoreJobData>): Promise<ScoringOutcome> {
    const loaded = await this.load(ctx, { kind: 'version', ...record.model });
    try {
      const { predictor } = loaded;
      const append = outputColumns(predictor);
      let lastReport = 0;
      const report = async (progress: AppendProgress) => {
        const final = progress.chunks === progress.totalChunks;
        if (!final && Date.now() - lastReport < PROGRESS_EVERY_MS) return;
        lastReport = Date.now();
        const current: ScoringProgress = {
          rowsScored: progress.rows,
          totalRows: progress.totalRows,
          chunksDone: progress.chunks,
          totalChunks: progress.totalChunks,
        };
        await this.jobs.update(record.id, { progress: current }, nowIso());
        job.updateProgress({ ...current }).catch(() => undefined);
      };
      const version = await this.deps.datasets.appendColumns(ctx, record.request.out, {
        dataset: record.input.dataset,
        version: record.input.version,
        read: predictor.inputs.map((input) => ({ name: input.name, kind: input.kind })),
        chunkRows: record.request.chunkRows,
        append,
        role: 'predict',
        provenance: {
          step: 'predict',
          job: record.id,
          model: record.model,
          params: { chunkRows: record.request.chunkRows },
        },
        signal: job.signal,
        compute: async (frame: Frame) => predictionValues(predictor, await predictor.predict(frame), frame.rows),
        onProgress: report,
      });
      return { output: { dataset: version.datasetName, version: version.version }, rows: version.rowCount };
    } finally {
      await this.close(loaded);
    }
  }

  /** The version an alias names now (a version reference as is, after checking it exists); 404 naming `model`. */
  private async resolveModel(ctx: RequestContext, ref: CheckedScoringRequest['model']): Promise<VersionRef> {
    let resolved: ModelRef;
    try {
      resolved = await this.deps.loader.resolve(ctx, ref);
    } catch (err) {
      throw withField(err, 'model');
    }
    if (resolved.kind !== 'version') {
      throw new KilnError('INTERNAL_ERROR', `the model loader resolved ${ref.name} to a ${resolved.kind} reference`);
    }
    return resolved;
  }

  private async load(ctx: RequestContext, ref: VersionRef): Promise<LoadedModel> {
    try {
      return await this.deps.loader.load(ctx, ref);
    } catch (err) {
      throw withField(err, 'model');
    }
  }

  private async close(loaded: LoadedModel): Promise<void> {
    await loaded.predictor
      .close()
      .catch((err: unknown) => this.deps.logger.warn({ err, model: loaded.name }, 'closing a predictor failed'));
  }

  /** The named version, or the latest when none is named; 404 naming `data`. */
  private async inputVersion(ctx: RequestContext, ref: DatasetRef): Promise<DatasetVersion> {
    const { datasets } = this.deps;
    try {
      if (ref.version !== undefined) return await datasets.getVersion(ctx, ref.name, ref.version);
      const latest = (await datasets.listVersions(ctx, ref.name)).at(-1);
      if (latest === undefined) {
        throw new KilnError('RESOURCE_DOES_NOT_EXIST', `dataset '${ref.name}' has no versions`, { name: ref.name });
      }
      return latest;
    } catch (err) {
      throw withField(err, 'data');
    }
  }
}

/**
 * The columns a predictor's output becomes: `prediction` (a number, or a class label), and for a
 * classifier `probability_<class>` per class in the model's class order. A classifier that does not
 * name its classes, or two classes whose column names differ only in case (Parquet readers such
 * as DuckDB match names ignoring case), is refused with a 400 naming `model`.
 */
export function outputColumns(predictor: Pick<Predictor, 'task' | 'classes'>): AppendedColumn[] {
  if (predictor.task === 'regression') return [{ name: PREDICTION_COLUMN, type: 'double' }];
  const classes = predictor.classes ?? [];
  if (classes.length === 0) throw invalidParameter('model', 'is a classifier that does not name its classes');
  const columns: AppendedColumn[] = [{ name: PREDICTION_COLUMN, type: 'category', categories: classes }];
  const seen = new Set([PREDICTION_COLUMN]);
  for (const label of classes) {
    const name = `${PROBABILITY_PREFIX}${label}`;
    if (seen.has(name.toLowerCase())) {
      throw invalidParameter('model', `has classes whose probability columns collide ignoring case ('${name}')`);
    }
    seen.add(name.toLowerCase());
    columns.push({ name, type: 'double' });
  }
  return columns;
}

/** One chunk's predictor output as the values of {@link outputColumns}: labels as codes into the classes. */
function predictionValues(predictor: Predictor, output: PredictorOutput, rows: number): AppendedValues {
  const { prediction, probabilities } = output;
  if (predictor.task === 'regression') {
    if (!(prediction instanceof Float64Array)) {
      throw new KilnError('INTERNAL_ERROR', 'a regression model answered labels instead of numbers');
    }
    return [prediction];
  }
  const classes = predictor.classes ?? [];
  const k = classes.length;
  const index = new Map(classes.map((label, i) => [label, i]));
  const codes = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = String(prediction[r]);
    const code = index.get(label);
    if (code === undefined)
      throw new KilnError('INTERNAL_ERROR', `the model answered '${label}', which is not one of its classes`);
    codes[r] = code;
  }
  if (probabilities?.length !== rows * k) {
    throw new KilnError(
      'INTERNAL_ERROR',
      `the model answered ${probabilities?.length ?? 0} probabilities for ${rows} rows of ${k} classes`,
    );
  }
  const perClass = classes.map(() => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < k; c++) (perClass[c] as Float64Array)[r] = probabilities[r * k + c] as number;
  }
  return [codes, ...perClass];
}

/** Every input of the model is a column of the data with a type it can read: 400 naming `data` and the column. */
function checkInputs(loaded: LoadedModel, input: DatasetVersion): void {
  const read = loaded.predictor.inputs.map((i) => ({ name: i.name, kind: i.kind }));
  try {
    checkReadable(input.schema, read, 'data');
  } catch (err) {
    if (!(err instanceof KilnError)) throw err;
    throw new KilnError(
      err.code,
      `${err.message} (dataset ${input.datasetName}@${input.version}; model ${loaded.name} version ${loaded.version} needs it)`,
      err.details,
    );
  }
}

/** A client error from another context, with the request field it concerns named if it names none. */
function withField(err: unknown, field: string): unknown {
  if (!(err instanceof KilnError) || err.status >= 500) return err;
  if (err.details?.field === field) return err;
  const original = err.details?.field;
  return new KilnError(
    err.code,
    err.message,
    { ...err.details, field, ...(original === undefined ? {} : { cause_field: original }) },
    { cause: err },
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
