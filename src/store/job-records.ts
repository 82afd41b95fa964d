import { type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { invalidParameter } from '../core/index.js';
import { nowIso } from './database/sql.js';
import { decodeKeysetToken, encodeKeysetToken } from './keyset-token.js';
import type { Queue } from './queue/queue.js';

/**
 * Where a job record stands in its table's newest-first order: `created_at`, then `id` to break
 * ties. Contexts that keep one row per queued job (training jobs, scoring jobs) page by it, so a
 * deep page costs what the first does and a token stays valid while new jobs arrive.
 */
export interface JobRecordKey {
  createdAt: string;
  id: string;
}

/** A caller's page of job records: `maxResults` from 1 to {@link MAX_JOB_PAGE}, and the previous page's token. */
export interface JobPageRequest {
  maxResults?: number;
  pageToken?: string;
}

/** How many job records a page holds when the caller does not say. */
export const DEFAULT_JOB_PAGE = 50;
/** The most job records one page holds. */
export const MAX_JOB_PAGE = 500;

/**
 * One newest-first page of job records: checks `maxResults` (400 naming `max_results`) and the page
 * token (400 naming `page_token`), asks `fetch` for one record more than the page holds, and
 * answers the page with the token of the next one when there is more.
 *
 * @example
 * const page = await pageJobRecords(request, (limit, before) => jobs.list(ctx.workspace, limit, before));
 * // { jobs: [...50 newest], nextPageToken: 'MjAyNS0w…' }
 */
export async function pageJobRecords<T extends JobRecordKey>(
  page: JobPageRequest,
  fetch: (limit: number, before: JobRecordKey | undefined) => Promise<T[]>,
): Promise<{ jobs: T[]; nextPageToken?: string }> {
  const limit = page.maxResults ?? DEFAULT_JOB_PAGE;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_JOB_PAGE)) {
    throw invalidParameter('max_results', `must be a whole number from 1 to ${MAX_JOB_PAGE}`, limit);
  }
  let before: JobRecordKey | undefined;
  if (page.pageToken !== undefined) {
    const key = decodeKeysetToken(page.pageToken, 'page_token', (k) => k.includes('|'));
    const [createdAt = '', id = ''] = key.split('|');
    before = { createdAt, id };
  }
  const jobs = await fetch(limit + 1, before);
  if (jobs.length <= limit) return { jobs };
  const last = jobs[limit - 1] as T;
  return { jobs: jobs.slice(0, limit), nextPageToken: encodeKeysetToken(`${last.createdAt}|${last.id}`) };
}

/**
 * Narrows a query over a job record table (one with `created_at` and `id` columns) to the `limit`
 * rows after `before`, newest first: the database side of {@link pageJobRecords}.
 *
 * @example
 * const query = db.selectFrom('training_jobs').selectAll().where('workspace', '=', workspace);
 * const rows = await newestJobRecords(query, limit, before).execute();
 */
export function newestJobRecords<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  limit: number,
  before?: JobRecordKey,
): SelectQueryBuilder<DB, TB, O> {
  const createdAt = sql.ref('created_at');
  const id = sql.ref('id');
  const after =
    before === undefined
      ? query
      : query.where(
          sql<SqlBool>`(${createdAt} < ${before.createdAt} or (${createdAt} = ${before.createdAt} and ${id} < ${before.id}))`,
        );
  return after.orderBy(createdAt, 'desc').orderBy(id, 'desc').limit(limit);
}

/** What {@link settleGivenUpJob} writes to a job record the queue gave up on. */
export interface GivenUpChanges {
  state: 'failed';
  error: string;
  finishedAt: string;
}

/**
 * A queued or running job record whose queue job has failed for good without its processor
 * recording it (the process running it died and its lease ran out): recorded as failed here, with
 * the queue's reason, and answered as it now stands. Any other record is answered as is.
 *
 * @example
 * const job = await settleGivenUpJob(queue, TRAINING_QUEUE, await jobs.get(workspace, id), jobs);
 * job.state; // 'failed', error 'the queue gave the job up: lease expired'
 */
export async function settleGivenUpJob<
  T extends { id: string; state: string; updatedAt: string; error?: string; finishedAt?: string },
>(
  queue: Queue,
  queueName: string,
  record: T,
  store: { update(id: string, changes: GivenUpChanges, now: string): Promise<void> },
): Promise<T> {
  if (record.state !== 'queued' && record.state !== 'running') return record;
  const queued = await queue.getJob(queueName, record.id);
  if (queued?.state !== 'failed') return record;
  const finishedAt = nowIso();
  const error = `the queue gave the job up: ${queued.error ?? 'no reason given'}`;
  await store.update(record.id, { state: 'failed', error, finishedAt }, finishedAt);
  return { ...record, state: 'failed', error, finishedAt, updatedAt: finishedAt };
}
