import type { Kysely, Selectable } from 'kysely';
import type { Database, FoundationTables } from '../database/database.js';
import { LEASE_EXPIRED } from './events.js';
import type { JobsTable, QueueTables } from './migrations.js';
import type { JobInfo, JobState } from './queue.js';
import type { CheckedEnqueue } from './validate.js';

/** One row of `kiln_jobs` as read back. */
export type JobRow = Selectable<JobsTable>;

/** What one claim round took: jobs to run now, and jobs given up because their last worker died. */
export interface Claim {
  claimed: JobRow[];
  /** Jobs whose worker died during an attempt that leaves more attempts: they are in `claimed` too. */
  reclaimed: JobRow[];
  /** Jobs whose worker died during their last attempt: now failed. */
  lost: JobRow[];
}

/** What a failed attempt led to; undefined when the worker no longer held the job. */
export interface FailOutcome {
  willRetry: boolean;
  /** When the retry is due, in ms from now. */
  retryInMs: number;
}

/** Retry delays are capped so that `run_at` stays a valid date however many attempts a job has. */
const MAX_RETRY_DELAY_MS = 30 * 24 * 3600 * 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A row as the queue API reports it; a waiting row not yet due is `delayed`. */
export function toJobInfo(row: JobRow, now: string = new Date().toISOString()): JobInfo {
  const state: JobState = row.state === 'waiting' && row.run_at > now ? 'delayed' : row.state;
  const info: JobInfo = {
    id: row.id,
    queue: row.queue,
    name: row.name,
    data: JSON.parse(row.data),
    state,
    attemptsMade: row.attempts_made,
    maxAttempts: row.max_attempts,
    progress: JSON.parse(row.progress),
    createdAt: new Date(row.created_at),
  };
  if (row.state === 'completed') info.result = row.result === null ? null : JSON.parse(row.result);
  if (row.error !== null) info.error = row.error;
  if (row.finished_at !== null) info.finishedAt = new Date(row.finished_at);
  return info;
}

/**
 * The SQL of the local queue, over `kiln_jobs`. Every write by a worker is guarded by
 * `locked_by = worker and state = 'active'`, so a worker that lost its lease (and whose job was
 * reclaimed by another) can no longer change the job.
 *
 * @example
 * const jobs = new JobTable(database);
 * const { claimed } = await jobs.claim('train', workerId, 2, 30_000);
 */
export class JobTable {
  constructor(private readonly database: Database) {}

  get #db(): Kysely<FoundationTables & QueueTables> {
    return this.database.kysely.withTables<QueueTables>();
  }

  /** Inserts the job unless its queue already holds the id; returns the stored row either way. */
  async insert(job: CheckedEnqueue, id: string): Promise<{ row: JobRow; created: boolean }> {
    const now = Date.now();
    const row: JobRow = {
      queue: job.queue,
      id,
      name: job.name,
      data: job.dataJson,
      state: 'waiting',
      attempts_made: 0,
      max_attempts: job.attempts,
      backoff_ms: job.backoffMs,
      run_at: iso(now + job.delayMs),
      progress: '0',
      result: null,
      error: null,
      created_at: iso(now),
      started_at: null,
      finished_at: null,
      locked_by: null,
      lease_until: null,
    };
    const inserted = await this.#db
      .insertInto('kiln_jobs')
      .values(row)
      .onConflict((conflict) => conflict.columns(['queue', 'id']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { row, created: true };
    const existing = await this.find(job.queue, id);
    if (existing === undefined) throw new Error(`Job '${id}' conflicted on insert but cannot be read back`);
    return { row: existing, created: false };
  }

  async find(queue: string, id: string): Promise<JobRow | undefined> {
    return this.#db
      .selectFrom('kiln_jobs')
      .selectAll()
      .where('queue', '=', queue)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Takes up to `limit` jobs for `workerId` in one transaction: first those whose lease expired
   * (their worker died), then due waiting jobs, oldest first. On PostgreSQL the candidate rows are
   * locked with SKIP LOCKED so concurrent claimers take different jobs; SQLite's write lock
   * (BEGIN IMMEDIATE) already serialises claimers.
   */
  async claim(queue: string, workerId: string, limit: number, leaseMs: number): Promise<Claim> {
    const postgres = this.database.dialect === 'postgres';
    if (!(await this.#anyClaimable(queue))) return { claimed: [], reclaimed: [], lost: [] };
    return this.database.transaction(async (trx) => {
      const db = trx.withTables<QueueTables>();
      const nowMs = Date.now();
      const now = iso(nowMs);
      const expired = await db
        .selectFrom('kiln_jobs')
        .selectAll()
        .where('queue', '=', queue)
        .where('state', '=', 'active')
        .where('lease_until', '<', now)
        .orderBy('lease_until')
        .limit(limit)
        .$if(postgres, (query) => query.forUpdate().skipLocked())
        .execute();
      const lost = expired.filter((row) => row.attempts_made >= row.max_attempts);
      const reclaimed = expired.filter((row) => row.attempts_made < row.max_attempts);
      const clear = { locked_by: null, lease_until: null, error: LEASE_EXPIRED };
      if (lost.length > 0) {
        await db
          .updateTable('kiln_jobs')
          .set({ ...clear, state: 'failed', finished_at: now })
          .where('queue', '=', queue)
          .where(
            'id',
            'in',
            lost.map((row) => row.id),
          )
          .execute();
      }
      const room = limit - reclaimed.length;
      const due =
        room <= 0
          ? []
          : await db
              .selectFrom('kiln_jobs')
              .select('id')
              .where('queue', '=', queue)
              .where('state', '=', 'waiting')
              .where('run_at', '<=', now)
              .orderBy('run_at')
              .orderBy('created_at')
              .limit(room)
              .$if(postgres, (query) => query.forUpdate().skipLocked())
              .execute();
      const ids = [...reclaimed.map((row) => row.id), ...due.map((row) => row.id)];
      if (ids.length === 0) return { claimed: [], reclaimed: [], lost };
      if (reclaimed.length > 0) {
        await db
          .updateTable('kiln_jobs')
          .set({ error: LEASE_EXPIRED })
          .where('queue', '=', queue)
          .where(
            'id',
            'in',
            reclaimed.map((row) => row.id),
          )
          .execute();
      }
      const claimed = await db
        .updateTable('kiln_jobs')
        .set((eb) => ({
          state: 'active',
          locked_by: workerId,
          lease_until: iso(nowMs + leaseMs),
          started_at: now,
          attempts_made: eb('attempts_made', '+', 1),
        }))
        .where('queue', '=', queue)
        .where('id', 'in', ids)
        .returningAll()
        .execute();
      const order = new Map(ids.map((id, index) => [id, index]));
      claimed.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      const again = new Set(reclaimed.map((row) => row.id));
      return { claimed, reclaimed: claimed.filter((row) => again.has(row.id)), lost };
    });
  }

  /** A plain read, so an idle worker's poll takes no write lock (SQLite) and locks no rows. */
  async #anyClaimable(queue: string): Promise<boolean> {
    const now = iso(Date.now());
    const row = await this.#db
      .selectFrom('kiln_jobs')
      .select('id')
      .where('queue', '=', queue)
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'waiting'), eb('run_at', '<=', now)]),
          eb.and([eb('state', '=', 'active'), eb('lease_until', '<', now)]),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Extends the leases `workerId` still holds among `ids`; returns the ids it still holds. */
  async renew(queue: string, workerId: string, ids: string[], leaseMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const held = await this.#db
      .updateTable('kiln_jobs')
      .set({ lease_until: iso(Date.now() + leaseMs) })
      .where('queue', '=', queue)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'active')
      .where('id', 'in', ids)
      .returning('id')
      .execute();
    return new Set(held.map((row) => row.id));
  }

  /** Records success; false when `workerId` no longer held the job. */
  async complete(row: JobRow, workerId: string, resultJson: string): Promise<boolean> {
    const done = await this.#db
      .updateTable('kiln_jobs')
      .set({ state: 'completed', result: resultJson, finished_at: iso(Date.now()), locked_by: null, lease_until: null })
      .where('queue', '=', row.queue)
      .where('id', '=', row.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(done.numUpdatedRows) === 1;
  }

  /**
   * Records a failed attempt: back to waiting after `backoff_ms * 2^(attempt-1)` while attempts
   * remain, else failed for good.
   */
  async fail(row: JobRow, workerId: string, error: string): Promise<FailOutcome | undefined> {
    const now = Date.now();
    const willRetry = row.attempts_made < row.max_attempts;
    const delay = Math.min(row.backoff_ms * 2 ** Math.max(row.attempts_made - 1, 0), MAX_RETRY_DELAY_MS);
    const outcome = willRetry
      ? { state: 'waiting' as const, run_at: iso(now + delay) }
      : { state: 'failed' as const, finished_at: iso(now) };
    const done = await this.#db
      .updateTable('kiln_jobs')
      .set({ ...outcome, error, locked_by: null, lease_until: null })
      .where('queue', '=', row.queue)
      .where('id', '=', row.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(done.numUpdatedRows) === 1 ? { willRetry, retryInMs: delay } : undefined;
  }

  /** Stores progress; false when `workerId` no longer held the job. */
  async progress(row: JobRow, workerId: string, progressJson: string): Promise<boolean> {
    const done = await this.#db
      .updateTable('kiln_jobs')
      .set({ progress: progressJson })
      .where('queue', '=', row.queue)
      .where('id', '=', row.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(done.numUpdatedRows) === 1;
  }

  async counts(queue: string): Promise<Record<JobState, number>> {
    const now = iso(Date.now());
    const byState = await this.#db
      .selectFrom('kiln_jobs')
      .select((eb) => ['state', eb.fn.countAll().as('count')])
      .where('queue', '=', queue)
      .groupBy('state')
      .execute();
    const notDue = await this.#db
      .selectFrom('kiln_jobs')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('queue', '=', queue)
      .where('state', '=', 'waiting')
      .where('run_at', '>', now)
      .executeTakeFirstOrThrow();
    const counts: Record<JobState, number> = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
    for (const row of byState) counts[row.state] = Number(row.count);
    counts.delayed = Number(notDue.count);
    counts.waiting -= counts.delayed;
    return counts;
  }

  /** Deletes jobs of every queue that finished before `before` (ISO text); returns how many. */
  async prune(before: string): Promise<number> {
    const done = await this.#db
      .deleteFrom('kiln_jobs')
      .where('state', 'in', ['completed', 'failed'])
      .where('finished_at', '<', before)
      .executeTakeFirst();
    return Number(done.numDeletedRows);
  }
}
