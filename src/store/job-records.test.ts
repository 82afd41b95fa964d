import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from './database/database.js';
import { migrate } from './database/migrate.js';
import { STORE_MIGRATIONS } from './database/migrations.js';
import {
  type GivenUpChanges,
  type JobRecordKey,
  newestJobRecords,
  pageJobRecords,
  settleGivenUpJob,
} from './job-records.js';
import { encodeKeysetToken } from './keyset-token.js';
import { LocalQueue } from './queue/local.js';
import { hasCode, uniqueName, WAIT_MS } from './queue/testing/helpers.js';
import { type TestDatabase, testDatabases } from './testing/databases.js';

type Tables = { test_job_records: { id: string; workspace: string; created_at: string } };

interface Record {
  id: string;
  state: string;
  updatedAt: string;
  error?: string;
  finishedAt?: string;
}

for (const target of await testDatabases()) {
  describe(`job records on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    let kysely: Kysely<Tables>;
    before(async () => {
      db = await target.create();
      database = await db.open();
      const report = await migrate(database, STORE_MIGRATIONS);
      assert.equal(report.error, undefined, report.error?.message);
      kysely = database.kysely.withTables<Tables>() as unknown as Kysely<Tables>;
      await kysely.schema
        .createTable('test_job_records')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // Two records share a timestamp, so the id has to break the tie across a page boundary.
      const rows = [
        { id: 'a', created_at: '2025-01-01T00:00:01.000Z' },
        { id: 'b', created_at: '2025-01-01T00:00:02.000Z' },
        { id: 'c', created_at: '2025-01-01T00:00:02.000Z' },
        { id: 'd', created_at: '2025-01-01T00:00:03.000Z' },
        { id: 'e', created_at: '2025-01-01T00:00:04.000Z' },
      ];
      await kysely
        .insertInto('test_job_records')
        .values([...rows.map((r) => ({ ...r, workspace: 'w' })), { id: 'z', workspace: 'other', created_at: 'x' }])
        .execute();
    });
    after(() => db?.cleanup());

    const fetch = async (limit: number, before: JobRecordKey | undefined) => {
      const query = kysely.selectFrom('test_job_records').selectAll().where('workspace', '=', 'w');
      const rows = await newestJobRecords(query, limit, before).execute();
      return rows.map((r) => ({ id: r.id, createdAt: r.created_at }));
    };

    it('pages newest first, ties broken by id, until no token is left', async () => {
      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await pageJobRecords({ maxResults: 2, ...(pageToken === undefined ? {} : { pageToken }) }, fetch);
        seen.push(...page.jobs.map((j) => j.id));
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== undefined && pages < 10);
      assert.deepEqual(seen, ['e', 'd', 'c', 'b', 'a']);
      assert.equal(pages, 3);
    });

    it('answers a page that holds everything without a token', async () => {
      const page = await pageJobRecords({}, fetch);
      assert.deepEqual(
        page.jobs.map((j) => j.id),
        ['e', 'd', 'c', 'b', 'a'],
      );
      assert.equal(page.nextPageToken, undefined);
    });

    it('refuses a page size or token it did not issue, naming the field', async () => {
      for (const maxResults of [0, 501, 2.5]) {
        await assert.rejects(pageJobRecords({ maxResults }, fetch), hasCode('INVALID_PARAMETER_VALUE', 'max_results'));
      }
      for (const pageToken of ['nonsense!', encodeKeysetToken('no-separator')]) {
        await assert.rejects(pageJobRecords({ pageToken }, fetch), hasCode('INVALID_PARAMETER_VALUE', 'page_token'));
      }
    });

    it('records a job the queue gave up on as failed, and leaves the others', async () => {
      const queue = await LocalQueue.open({ database });
      const name = uniqueName('records');
      const worker = queue.process(name, async (job) => {
        if (job.data === 'fail') throw new Error('the worker fell over');
        return 'ok';
      });
      try {
        await queue.enqueue(name, 'job', 'fail', { jobId: 'failed-job', attempts: 1 });
        await queue.enqueue(name, 'job', 'ok', { jobId: 'done-job', attempts: 1 });
        await queue.waitFor(name, 'failed-job', WAIT_MS);
        await queue.waitFor(name, 'done-job', WAIT_MS);
        const writes: { id: string; changes: GivenUpChanges; now: string }[] = [];
        const store = {
          update: async (id: string, changes: GivenUpChanges, now: string) => void writes.push({ id, changes, now }),
        };
        const running: Record = { id: 'failed-job', state: 'running', updatedAt: '2025-01-01T00:00:00.000Z' };

        const settled = await settleGivenUpJob(queue, name, running, store);
        assert.equal(settled.state, 'failed');
        assert.equal(settled.error, 'the queue gave the job up: the worker fell over');
        assert.equal(settled.updatedAt, settled.finishedAt);
        assert.deepEqual(writes, [
          {
            id: 'failed-job',
            changes: { state: 'failed', error: settled.error, finishedAt: settled.finishedAt },
            now: settled.finishedAt,
          },
        ]);

        const finished: Record = { ...running, state: 'completed' };
        assert.equal(await settleGivenUpJob(queue, name, finished, store), finished);
        const succeeded: Record = { ...running, id: 'done-job' };
        assert.equal(await settleGivenUpJob(queue, name, succeeded, store), succeeded);
        const unknown: Record = { ...running, id: 'never-queued' };
        assert.equal(await settleGivenUpJob(queue, name, unknown, store), unknown);
        assert.equal(writes.length, 1);
      } finally {
        await worker.close();
        await queue.close();
      }
    });
  });
}
