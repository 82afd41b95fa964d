import type { Kysely } from 'kysely';
import type { ParamValue, TrialRecord } from '../learn/index.js';
import { type Database, type FoundationTables, isUniqueViolation } from '../store/index.js';

/** Where a study is: trials still to run, finished, stopped by a user, or given up on. */
export type StudyState = 'running' | 'complete' | 'stopped' | 'failed';

/** A study as stored. The spec is its wire form (see `studySpecToWire`). */
export interface StudyRecord {
  id: string;
  workspace: string;
  name: string;
  spec: Record<string, unknown>;
  state: StudyState;
  nTrials: number;
  parallelism: number;
  /** The next trial number to hand out; numbers below it are claimed. */
  nextNumber: number;
  /** Bumped by each resume, so its re-enqueued jobs get ids of their own. */
  generation: number;
  experimentId: string;
  parentRunId: string;
  /** ISO time after which no new trial starts. */
  deadline?: string;
  bestNumber?: number;
  bestValue?: number;
  registered?: { name: string; version: string };
  error?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

/** A trial as stored: the sampler's record plus its run, its job and its timing. */
export interface TrialRow extends TrialRecord {
  runId?: string;
  modelUri?: string;
  /** The queue job that runs (or last ran) it; writes are fenced on it. */
  jobId: string;
  /** How many times the trial was started (a crashed worker's trial is re-run with the same params). */
  attempts: number;
  error?: string;
  startedAt: string;
  finishedAt?: string;
}

/** How a trial ended. */
export interface TrialEnd {
  state: 'complete' | 'pruned' | 'failed';
  value?: number;
  intermediate: [number, number][];
  runId?: string;
  modelUri?: string;
  error?: string;
  finishedAt: string;
}

/** Tables the training context owns. */
export type StudyTables = {
  training_studies: {
    id: string;
    workspace: string;
    name: string;
    spec: string;
    state: string;
    n_trials: number;
    parallelism: number;
    next_number: number;
    generation: number;
    experiment_id: string;
    parent_run_id: string;
    deadline: string | null;
    best_number: number | null;
    best_value: number | null;
    registered: string | null;
    error: string | null;
    created_by: string;
    created_at: string;
    updated_at: string;
    finished_at: string | null;
  };
  training_trials: {
    study_id: string;
    number: number;
    state: string;
    params: string;
    value: number | null;
    intermediate: string;
    run_id: string | null;
    model_uri: string | null;
    job_id: string;
    attempts: number;
    /** The trial number this trial's job claimed after it (-1: none was left); null until it did. */
    successor: number | null;
    error: string | null;
    started_at: string;
    finished_at: string | null;
  };
};

type StudyColumns = StudyTables['training_studies'];
type TrialColumns = StudyTables['training_trials'];

function toStudy(row: StudyColumns): StudyRecord {
  const study: StudyRecord = {
    id: row.id,
    workspace: row.workspace,
    name: row.name,
    spec: JSON.parse(row.spec) as Record<string, unknown>,
    state: row.state as StudyState,
    nTrials: Number(row.n_trials),
    parallelism: Number(row.parallelism),
    nextNumber: Number(row.next_number),
    generation: Number(row.generation),
    experimentId: row.experiment_id,
    parentRunId: row.parent_run_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.deadline !== null) study.deadline = row.deadline;
  if (row.best_number !== null) study.bestNumber = Number(row.best_number);
  if (row.best_value !== null) study.bestValue = Number(row.best_value);
  if (row.registered !== null) study.registered = JSON.parse(row.registered) as StudyRecord['registered'];
  if (row.error !== null) study.error = row.error;
  if (row.finished_at !== null) study.finishedAt = row.finished_at;
  return study;
}

function toTrial(row: TrialColumns): TrialRow {
  const trial: TrialRow = {
    number: Number(row.number),
    state: row.state as TrialRow['state'],
    params: JSON.parse(row.params) as Record<string, ParamValue>,
    intermediate: JSON.parse(row.intermediate) as [number, number][],
    jobId: row.job_id,
    attempts: Number(row.attempts),
    startedAt: row.started_at,
  };
  if (row.value !== null) trial.value = Number(row.value);
  if (row.run_id !== null) trial.runId = row.run_id;
  if (row.model_uri !== null) trial.modelUri = row.model_uri;
  if (row.error !== null) trial.error = row.error;
  if (row.finished_at !== null) trial.finishedAt = row.finished_at;
  return trial;
}

/** Changes to a study row; absent fields stay. */
export interface StudyChanges {
  state?: StudyState;
  error?: string | null;
  finishedAt?: string | null;
  deadline?: string | null;
  registered?: { name: string; version: string };
}

/**
 * The studies and trials tables, on SQLite and PostgreSQL alike. Every write that could race is a
 * single conditional statement: trial numbers are claimed by incrementing `next_number` below
 * `n_trials`, a trial row is inserted under its (study, number) primary key, and a trial's
 * progress and end are written only while its row still names the writing job and is running, so a
 * job that lost its trial to a retry can no longer change it.
 *
 * @example
 * const store = new StudyStore(database);
 * const number = await store.claimNumber(study.id); // 0, 1, … or undefined once n_trials are claimed
 */
export class StudyStore {
  private readonly db: Kysely<FoundationTables & StudyTables>;

  constructor(private readonly database: Database) {
    this.db = database.kysely.withTables<StudyTables>();
  }

  async insertStudy(study: StudyRecord): Promise<void> {
    await this.db
      .insertInto('training_studies')
      .values({
        id: study.id,
        workspace: study.workspace,
        name: study.name,
        spec: JSON.stringify(study.spec),
        state: study.state,
        n_trials: study.nTrials,
        parallelism: study.parallelism,
        next_number: study.nextNumber,
        generation: study.generation,
        experiment_id: study.experimentId,
        parent_run_id: study.parentRunId,
        deadline: study.deadline ?? null,
        best_number: null,
        best_value: null,
        registered: null,
        error: null,
        created_by: study.createdBy,
        created_at: study.createdAt,
        updated_at: study.updatedAt,
        finished_at: null,
      })
      .execute();
  }

  async getStudy(workspace: string, id: string): Promise<StudyRecord | undefined> {
    const row = await this.db
      .selectFrom('training_studies')
      .selectAll()
      .where('workspace', '=', workspace)
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toStudy(row);
  }

  /** Studies of a workspace, newest first, after the study created at `before` (keyset by created_at, id). */
  async listStudies(
    workspace: string,
    limit: number,
    before?: { createdAt: string; id: string },
  ): Promise<StudyRecord[]> {
    let query = this.db
      .selectFrom('training_studies')
      .selectAll()
      .where('workspace', '=', workspace)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (before !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('created_at', '<', before.createdAt),
          eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
        ]),
      );
    }
    return (await query.execute()).map(toStudy);
  }

  /** Studies in `state` across workspaces: what a starting server resumes. */
  async studiesIn(state: StudyState): Promise<StudyRecord[]> {
    return (await this.db.selectFrom('training_studies').selectAll().where('state', '=', state).execute()).map(toStudy);
  }

  /** Applies `changes` when the study is in one of `from` (any state when absent); false when it was not. */
  async updateStudy(
    id: string,
    changes: StudyChanges,
    updatedAt: string,
    from?: readonly StudyState[],
  ): Promise<boolean> {
    let query = this.db
      .updateTable('training_studies')
      .set({
        updated_at: updatedAt,
        ...(changes.state === undefined ? {} : { state: changes.state }),
        ...(changes.error === undefined ? {} : { error: changes.error }),
        ...(changes.finishedAt === undefined ? {} : { finished_at: changes.finishedAt }),
        ...(changes.deadline === undefined ? {} : { deadline: changes.deadline }),
        ...(changes.registered === undefined ? {} : { registered: JSON.stringify(changes.registered) }),
      })
      .where('id', '=', id);
    if (from !== undefined) query = query.where('state', 'in', [...from]);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Marks a running study as finishing (sets `finished_at`); false when it is not running or another caller did first. */
  async claimFinish(id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('training_studies')
      .set({ finished_at: at, updated_at: at })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Increments the generation and returns the study as it now is. */
  async nextGeneration(id: string, updatedAt: string): Promise<StudyRecord | undefined> {
    await this.db
      .updateTable('training_studies')
      .set((eb) => ({ generation: eb('generation', '+', 1), updated_at: updatedAt }))
      .where('id', '=', id)
      .execute();
    const row = await this.db.selectFrom('training_studies').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toStudy(row);
  }

  /**
   * Claims the next trial number of a running study in one UPDATE, so two workers never get the
   * same one; undefined when all `n_trials` numbers are claimed or the study is not running.
   */
  async claimNumber(id: string): Promise<number | undefined> {
    const row = await this.db
      .updateTable('training_studies')
      .set((eb) => ({ next_number: eb('next_number', '+', 1) }))
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where((eb) => eb('next_number', '<', eb.ref('n_trials')))
      .returning('next_number')
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.next_number) - 1;
  }

  /**
   * The trial number that follows a finished trial: claimed once and remembered on the trial's row
   * in the same transaction, so a job retried after a crash re-enqueues the same successor instead
   * of claiming another. Undefined when every number is claimed or the study is not running.
   */
  async claimSuccessor(studyId: string, number: number): Promise<number | undefined> {
    return this.database.transaction(async (trx) => {
      const tx = trx.withTables<StudyTables>();
      const trial = await tx
        .selectFrom('training_trials')
        .select('successor')
        .where('study_id', '=', studyId)
        .where('number', '=', number)
        .executeTakeFirst();
      if (trial === undefined) return undefined;
      if (trial.successor !== null) return Number(trial.successor) < 0 ? undefined : Number(trial.successor);
      const claimed = await tx
        .updateTable('training_studies')
        .set((eb) => ({ next_number: eb('next_number', '+', 1) }))
        .where('id', '=', studyId)
        .where('state', '=', 'running')
        .where((eb) => eb('next_number', '<', eb.ref('n_trials')))
        .returning('next_number')
        .executeTakeFirst();
      const successor = claimed === undefined ? -1 : Number(claimed.next_number) - 1;
      await tx
        .updateTable('training_trials')
        .set({ successor })
        .where('study_id', '=', studyId)
        .where('number', '=', number)
        .execute();
      return successor < 0 ? undefined : successor;
    });
  }

  /**
   * Records a better value when it beats the stored best in `direction` (or none is stored yet);
   * true when it did. One conditional UPDATE, so concurrent trials can only move the best forward.
   */
  async offerBest(id: string, number: number, value: number, direction: 'minimize' | 'maximize'): Promise<boolean> {
    const result = await this.db
      .updateTable('training_studies')
      .set({ best_number: number, best_value: value })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('best_value', 'is', null),
          direction === 'maximize' ? eb('best_value', '<', value) : eb('best_value', '>', value),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Inserts a running trial; false when the study already has a trial of that number. */
  async insertTrial(studyId: string, number: number, params: Record<string, ParamValue>, jobId: string, now: string) {
    try {
      await this.db
        .insertInto('training_trials')
        .values({
          study_id: studyId,
          number,
          state: 'running',
          params: JSON.stringify(params),
          value: null,
          intermediate: '[]',
          run_id: null,
          model_uri: null,
          job_id: jobId,
          attempts: 1,
          successor: null,
          error: null,
          started_at: now,
          finished_at: null,
        })
        .execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /**
   * Hands a running trial to `jobId` (a retry of a job whose worker died, or a resumed study's new
   * job), clearing what the lost attempt reported; false when the trial is no longer running or
   * `previousJobId` no longer holds it.
   */
  async takeOverTrial(studyId: string, number: number, previousJobId: string, jobId: string, now: string) {
    const result = await this.db
      .updateTable('training_trials')
      .set((eb) => ({
        job_id: jobId,
        intermediate: '[]',
        run_id: null,
        started_at: now,
        attempts: eb('attempts', '+', 1),
      }))
      .where('study_id', '=', studyId)
      .where('number', '=', number)
      .where('state', '=', 'running')
      .where('job_id', '=', previousJobId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Stores the values reported so far and the trial's run; false when `jobId` no longer holds the trial. */
  async reportProgress(
    studyId: string,
    number: number,
    jobId: string,
    progress: { intermediate?: [number, number][]; runId?: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('training_trials')
      .set({
        ...(progress.intermediate === undefined ? {} : { intermediate: JSON.stringify(progress.intermediate) }),
        ...(progress.runId === undefined ? {} : { run_id: progress.runId }),
      })
      .where('study_id', '=', studyId)
      .where('number', '=', number)
      .where('job_id', '=', jobId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records how a trial ended; false when `jobId` no longer held it (its outcome is then discarded). */
  async finishTrial(studyId: string, number: number, jobId: string, end: TrialEnd): Promise<boolean> {
    const result = await this.db
      .updateTable('training_trials')
      .set({
        state: end.state,
        value: end.value ?? null,
        intermediate: JSON.stringify(end.intermediate),
        run_id: end.runId ?? null,
        model_uri: end.modelUri ?? null,
        error: end.error ?? null,
        finished_at: end.finishedAt,
      })
      .where('study_id', '=', studyId)
      .where('number', '=', number)
      .where('job_id', '=', jobId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Every trial of a study in number order: the history the sampler and the pruner read. */
  async allTrials(studyId: string): Promise<TrialRow[]> {
    const rows = await this.db
      .selectFrom('training_trials')
      .selectAll()
      .where('study_id', '=', studyId)
      .orderBy('number')
      .execute();
    return rows.map(toTrial);
  }

  /** One page of trials in number order, after `afterNumber`. */
  async pageTrials(studyId: string, limit: number, afterNumber = -1): Promise<TrialRow[]> {
    const rows = await this.db
      .selectFrom('training_trials')
      .selectAll()
      .where('study_id', '=', studyId)
      .where('number', '>', afterNumber)
      .orderBy('number')
      .limit(limit)
      .execute();
    return rows.map(toTrial);
  }

  async getTrial(studyId: string, number: number): Promise<TrialRow | undefined> {
    const row = await this.db
      .selectFrom('training_trials')
      .selectAll()
      .where('study_id', '=', studyId)
      .where('number', '=', number)
      .executeTakeFirst();
    return row === undefined ? undefined : toTrial(row);
  }
}
