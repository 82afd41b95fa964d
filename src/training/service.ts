import { hexId, invalidParameter, KILN_VERSION, KilnError, type Logger, type RequestContext } from '../core/index.js';
import type { DatasetService, DatasetVersion } from '../data/index.js';
import type { Frame } from '../learn/index.js';
import {
  featureColumns,
  holdoutSplit,
  type IterationHook,
  type TrainResult,
  withDefaults,
  writeModelPackage,
} from '../learn/index.js';
import { checkModelName, type RegistryService } from '../registry/index.js';
import {
  type Database,
  type JobContext,
  type JobPageRequest,
  nowIso,
  pageJobRecords,
  type Queue,
  settleGivenUpJob,
  type Worker,
} from '../store/index.js';
import type { ArtifactService, TrackingServices } from '../tracking/index.js';
import { fitInThread } from './fit-thread.js';
import { type TrainingJob, TrainingJobStore, type TrainingProgress } from './jobs.js';
import {
  type CheckedRequest,
  checkTrainingRequest,
  type DatasetRef,
  type TrainingRequest,
  validationShare,
} from './request.js';
import { registrySignature, trainingRunTags } from './run-facts.js';
import { datasetInput, MetricBuffer, paramValue } from './run-log.js';

/** The queue training jobs travel on. */
export const TRAINING_QUEUE = 'training';

/** What a finished training run produced. */
export interface TrainOutcome {
  runId: string;
  experimentId: string;
  /** `runs:/<runId>/model`: the Kiln model package. */
  modelUri: string;
  metrics: Record<string, number>;
  modelVersion?: { name: string; version: number };
}

/** How a caller follows and steers {@link TrainingService.run}. */
export interface RunHooks {
  /** Makes the run a nested run of this one (MLflow tag `mlflow.parentRunId`), e.g. a study's trial. */
  parentRunId?: string;
  /** Every iteration's metrics; returning true stops training early (pruning), keeping the model so far. */
  onIteration?: IterationHook;
  signal?: AbortSignal;
  /** Tags the run with `kiln.job_id`. */
  jobId?: string;
  /** Called once the tracked run exists, before any data is read. */
  onRunCreated?: (runId: string) => void | Promise<void>;
  /** Extra run tags, e.g. a study's trial number. */
  tags?: Record<string, string>;
}

/** Data of a queued training job. */
interface TrainJobData {
  jobId: string;
  workspace: string;
  actor: string;
  request: TrainingRequest;
}

/** A request's datasets, resolved to versions, and its feature columns. */
interface ResolvedInputs {
  data: DatasetVersion;
  evalData?: DatasetVersion;
  features: string[];
}

/** What {@link TrainingService} works with: the contexts it records into, the queue and the database. */
export interface TrainingServiceDeps {
  database: Database;
  queue: Queue;
  datasets: DatasetService;
  tracking: TrackingServices;
  artifacts: ArtifactService;
  registry: RegistryService;
  logger: Logger;
}

const PROGRESS_EVERY_MS = 1000;

/**
 * Training jobs: `submit` checks a request against the data (unknown dataset, column, parameter
 * or a task that does not fit the target are refused before anything is queued) and queues it;
 * a worker (`process`) trains it with `run`, which records everything in a tracked run: params,
 * per-iteration and final metrics, dataset inputs, feature importance and the model package, and
 * registers a model version on request. Fitting runs in a worker thread, so the process stays responsive.
 *
 * @example
 * const job = await training.submit(ctx, { data: 'penguins', target: 'species', task: 'classification', model: 'gbdt' });
 * const worker = training.process({ concurrency: 1 });
 * const done = await training.get(ctx, job.id); // state, progress, runId, modelUri, metrics
 */
export class TrainingService {
  private readonly jobs: TrainingJobStore;

  constructor(private readonly deps: TrainingServiceDeps) {
    this.jobs = new TrainingJobStore(deps.database);
  }

  /** Checks and queues a training job; answers the job in state `queued`. */
  async submit(ctx: RequestContext, raw: unknown): Promise<TrainingJob> {
    await this.check(ctx, raw);
    const checked = checkTrainingRequest(raw);
    const now = nowIso();
    const job: TrainingJob = {
      id: `train-${hexId()}`,
      workspace: ctx.workspace,
      state: 'queued',
      request: checked.request,
      createdBy: ctx.actor,
      createdAt: now,
      updatedAt: now,
    };
    await this.jobs.insert(job);
    const data: TrainJobData = { jobId: job.id, workspace: ctx.workspace, actor: ctx.actor, request: checked.request };
    try {
      await this.deps.queue.enqueue(TRAINING_QUEUE, 'train', data, { jobId: job.id, attempts: 1 });
    } catch (err) {
      await this.jobs.update(
        job.id,
        { state: 'failed', error: `queueing failed: ${messageOf(err)}`, finishedAt: nowIso() },
        nowIso(),
      );
      throw err;
    }
    return job;
  }

  /**
   * Checks a request against the data as `submit` does (the datasets, target, features, task and
   * parameters) without queueing anything; a study checks its trial template this way.
   */
  async check(ctx: RequestContext, request: unknown): Promise<void> {
    const checked = checkTrainingRequest(request);
    if (checked.request.register !== undefined) checkModelName('register', checked.request.register);
    await this.resolveInputs(ctx, checked);
  }

  /**
   * The job as its row says. A job the queue gave up on without its processor recording it (the
   * process running it died and its lease ran out) is recorded as failed here, with the queue's reason.
   */
  async get(ctx: RequestContext, id: string): Promise<TrainingJob> {
    const job = typeof id === 'string' && id.length <= 200 ? await this.jobs.get(ctx.workspace, id) : undefined;
    if (job === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `training job '${id}' does not exist`, { id });
    }
    return settleGivenUpJob(this.deps.queue, TRAINING_QUEUE, job, this.jobs);
  }

  /** The workspace's jobs, newest first, `maxResults` (default 50, at most 500) at a time. */
  async list(ctx: RequestContext, page: JobPageRequest = {}): Promise<{ jobs: TrainingJob[]; nextPageToken?: string }> {
    return pageJobRecords(page, (limit, before) => this.jobs.list(ctx.workspace, limit, before));
  }

  /**
   * Consumes the training queue in this process (`kiln server` with the local queue, `kiln worker`).
   * Each job's row follows it: running (with the run id and throttled progress), then completed
   * with the model URI and metrics, or failed with the error.
   */
  process(options: { concurrency?: number } = {}): Worker {
    return this.deps.queue.process<TrainJobData, TrainOutcome>(TRAINING_QUEUE, (job) => this.processJob(job), options);
  }

  private async processJob(job: JobContext<TrainJobData>): Promise<TrainOutcome> {
    const { jobId, workspace, actor, request } = job.data;
    const ctx: RequestContext = { actor, workspace, requestId: jobId };
    const total =
      request.model === 'gbdt' || request.model === 'forest' ? Number(request.params?.n_estimators ?? 100) : undefined;
    let progress: TrainingProgress | undefined;
    let lastReport = 0;
    await this.jobs.update(jobId, { state: 'running' }, nowIso());
    try {
      const outcome = await this.run(ctx, request, {
        jobId,
        signal: job.signal,
        onRunCreated: (runId) => this.jobs.update(jobId, { runId }, nowIso()),
        onIteration: (step, metrics) => {
          progress = { step: step + 1, ...(total === undefined ? {} : { total }), metrics };
          if (Date.now() - lastReport < PROGRESS_EVERY_MS) return;
          lastReport = Date.now();
          const report = progress;
          this.jobs
            .update(jobId, { progress: report }, nowIso())
            .catch((err: unknown) => this.deps.logger.warn({ err, jobId }, 'recording progress failed'));
          job.updateProgress({ ...report }).catch(() => undefined);
        },
      });
      const finishedAt = nowIso();
      await this.jobs.update(
        jobId,
        {
          state: 'completed',
          runId: outcome.runId,
          modelUri: outcome.modelUri,
          metrics: outcome.metrics,
          ...(outcome.modelVersion === undefined ? {} : { modelVersion: outcome.modelVersion }),
          ...(progress === undefined ? {} : { progress }),
          finishedAt,
        },
        finishedAt,
      );
      return outcome;
    } catch (err) {
      const finishedAt = nowIso();
      await this.jobs.update(jobId, { state: 'failed', error: messageOf(err), finishedAt }, finishedAt);
      throw err;
    }
  }

  /**
   * Trains a request now, in a tracked run (nested under `hooks.parentRunId` when given), and
   * answers the run, the model URI and the final metrics. A failure marks the run FAILED with the
   * error in its `kiln.error` tag and is rethrown.
   */
  async run(ctx: RequestContext, request: TrainingRequest, hooks: RunHooks = {}): Promise<TrainOutcome> {
    const checked = checkTrainingRequest(request);
    const inputs = await this.resolveInputs(ctx, checked);
    const { tracking } = this.deps;
    const experimentId = await this.experimentId(ctx, checked.request.experiment);
    const run = await tracking.runs.create(ctx, {
      experimentId,
      ...(checked.request.runName === undefined ? {} : { runName: checked.request.runName }),
      tags: trainingRunTags(checked, hooks),
    });
    const runId = run.info.runId;
    try {
      await hooks.onRunCreated?.(runId);
      const outcome = await this.trainInRun(ctx, runId, checked, inputs, hooks);
      return { ...outcome, experimentId };
    } catch (err) {
      await tracking.runs
        .setTag(ctx, runId, 'kiln.error', messageOf(err).slice(0, 8000))
        .catch((tagErr: unknown) => this.deps.logger.warn({ err: tagErr, runId }, 'tagging the failed run failed'));
      await tracking.runs
        .update(ctx, runId, { status: 'FAILED', endTime: Date.now() })
        .catch((endErr: unknown) => this.deps.logger.warn({ err: endErr, runId }, 'ending the failed run failed'));
      throw err;
    }
  }

  private async trainInRun(
    ctx: RequestContext,
    runId: string,
    checked: CheckedRequest,
    inputs: ResolvedInputs,
    hooks: RunHooks,
  ): Promise<Omit<TrainOutcome, 'experimentId'>> {
    const { tracking, datasets, artifacts } = this.deps;
    const { spec, request } = checked;
    const share = validationShare(checked);
    const refs = {
      data: versionRef(inputs.data),
      ...(inputs.evalData ? { eval_data: versionRef(inputs.evalData) } : {}),
    };
    const params = {
      ...withDefaults(spec.model, spec.params),
      ...refs,
      target: spec.target,
      task: spec.task,
      model: spec.model,
      features: inputs.features.join(','),
      validation_fraction: share,
    };
    await tracking.runData.logBatch(ctx, runId, {
      params: Object.entries(params).map(([key, value]) => ({ key, value: paramValue(value) })),
    });
    await tracking.runData.logInputs(ctx, runId, [
      datasetInput(inputs.data, 'training'),
      // One input per dataset version (MLflow keys inputs by dataset): the same version as eval data is not repeated.
      ...(inputs.evalData === undefined || inputs.evalData.digest === inputs.data.digest
        ? []
        : [datasetInput(inputs.evalData, share > 0 ? 'eval' : 'validation')]),
    ]);
    const columns = [...inputs.features, spec.target];
    let train: Frame = await datasets.readColumns(ctx, inputs.data.datasetName, inputs.data.version, { columns });
    let validation: Frame | undefined;
    let evaluation: Frame | undefined;
    if (inputs.evalData !== undefined) {
      const frame = await datasets.readColumns(ctx, inputs.evalData.datasetName, inputs.evalData.version, { columns });
      if (share > 0) evaluation = frame;
      else validation = frame;
    }
    if (share > 0) {
      const split = holdoutSplit(train, share, Number(spec.params.seed ?? 0));
      train = split.train;
      validation = split.holdout;
    }
    const metricsLog = new MetricBuffer(tracking, ctx, runId);
    const result = await fitInThread(
      {
        train,
        ...(validation === undefined ? {} : { validation }),
        ...(evaluation === undefined ? {} : { evaluation }),
        spec: { ...spec, features: inputs.features },
        columnTypes: Object.fromEntries(inputs.data.schema.columns.map((c) => [c.name, c.logicalType])),
      },
      {
        ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
        onIteration(step, metrics) {
          metricsLog.add(metrics, step);
          return hooks.onIteration?.(step, metrics);
        },
      },
    );
    await metricsLog.flush();
    const metrics = { ...result.metrics };
    if (inputs.evalData !== undefined && share === 0) {
      for (const [key, value] of Object.entries(result.metrics)) {
        if (key.startsWith('validation_')) metrics[`eval_${key.slice('validation_'.length)}`] = value;
      }
    }
    const finalLog = new MetricBuffer(tracking, ctx, runId, Number.POSITIVE_INFINITY);
    finalLog.add(metrics, 0);
    await finalLog.flush();
    await tracking.runData.logBatch(ctx, runId, { tags: droppedTags(result) });
    const files = writeModelPackage(result.model, {
      metrics,
      trainingData: [inputs.data].map((v) => ({ dataset: v.datasetName, version: v.version, digest: v.digest })),
      createdAt: nowIso(),
      kilnVersion: KILN_VERSION,
    });
    for (const [name, bytes] of files) await artifacts.put(ctx, runId, `model/${name}`, bytes);
    await artifacts.put(ctx, runId, 'feature_importance.json', JSON.stringify(result.importance, null, 2));
    const modelUri = `runs:/${runId}/model`;
    const modelVersion =
      request.register === undefined ? undefined : await this.register(ctx, request.register, runId, modelUri, result);
    await tracking.runs.update(ctx, runId, { status: 'FINISHED', endTime: Date.now() });
    return { runId, modelUri, metrics, ...(modelVersion === undefined ? {} : { modelVersion }) };
  }

  private async register(
    ctx: RequestContext,
    name: string,
    runId: string,
    source: string,
    result: TrainResult,
  ): Promise<{ name: string; version: number }> {
    const { registry } = this.deps;
    await registry.getOrCreateRegisteredModel(ctx, name);
    const version = await registry.createModelVersion(ctx, {
      name,
      source,
      runId,
      signature: registrySignature(result.model.signature),
      tags: [
        { key: 'kiln.learner', value: result.model.learner.kind },
        { key: 'kiln.task', value: result.model.task },
      ],
    });
    return { name, version: Number(version.version) };
  }

  private async experimentId(ctx: RequestContext, name: string | undefined): Promise<string> {
    return (await this.deps.tracking.experiments.getOrCreateByName(ctx, name)).experimentId;
  }

  private async version(ctx: RequestContext, ref: DatasetRef): Promise<DatasetVersion> {
    const { datasets } = this.deps;
    if (ref.version !== undefined) return datasets.getVersion(ctx, ref.name, ref.version);
    const latest = (await datasets.listVersions(ctx, ref.name)).at(-1);
    if (latest === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `dataset '${ref.name}' has no versions`, { field: 'data' });
    }
    return latest;
  }

  /** Resolves the datasets and checks the target and features against their schemas. */
  private async resolveInputs(ctx: RequestContext, checked: CheckedRequest): Promise<ResolvedInputs> {
    const data = await this.version(ctx, checked.data);
    const evalData = checked.evalData === undefined ? undefined : await this.version(ctx, checked.evalData);
    const { spec } = checked;
    const columns = data.schema.columns;
    const target = columns.find((c) => c.name === spec.target);
    const known = columns.map((c) => c.name).join(', ');
    if (target === undefined) {
      throw invalidParameter(
        'target',
        `dataset ${versionRef(data)} has no column '${spec.target}'; columns are ${known}`,
        spec.target,
      );
    }
    const numeric = target.logicalType === 'integer' || target.logicalType === 'float';
    if (spec.task === 'regression' && !numeric) {
      throw invalidParameter(
        'task',
        `regression needs a numeric target; '${spec.target}' is ${target.logicalType}`,
        spec.task,
      );
    }
    if (spec.task !== 'regression' && target.logicalType === 'datetime') {
      throw invalidParameter('task', `'${spec.target}' is a datetime column; it cannot be a class label`, spec.task);
    }
    const domain = target.domain?.length;
    if (spec.task === 'binary' && domain !== undefined && domain !== 2) {
      throw invalidParameter(
        'task',
        `binary needs 2 classes; '${spec.target}' has ${domain}: use multiclass`,
        spec.task,
      );
    }
    const features = featureColumns(
      spec,
      columns.map((c) => c.name),
    );
    if (evalData !== undefined) {
      for (const name of [...features, spec.target]) {
        if (!evalData.schema.columns.some((c) => c.name === name)) {
          throw invalidParameter('evalData', `dataset ${versionRef(evalData)} has no column '${name}'`, name);
        }
      }
    }
    return { data, ...(evalData === undefined ? {} : { evalData }), features };
  }
}

function versionRef(version: DatasetVersion): string {
  return `${version.datasetName}@${version.version}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function droppedTags(result: TrainResult): { key: string; value: string }[] {
  return [
    { key: 'kiln.train.dropped_rows', value: String(result.dropped.train) },
    { key: 'kiln.validation.dropped_rows', value: String(result.dropped.validation) },
  ];
}
