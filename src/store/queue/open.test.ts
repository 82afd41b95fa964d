import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { Database } from '../database/database.js';
import { migrate } from '../database/migrate.js';
import { STORE_MIGRATIONS } from '../database/migrations.js';
import { type TestDatabase, testDatabases } from '../testing/databases.js';
import { openQueue } from './open.js';
import { uniqueName, WAIT_MS } from './testing/helpers.js';
import { deleteKeys, redisUnavailable, TEST_REDIS_URL } from './testing/redis.js';

const [sqlite] = await testDatabases();
const redisSkip = await redisUnavailable();

describe('openQueue', () => {
  let db: TestDatabase;
  let database: Database;
  before(async () => {
    if (sqlite === undefined) throw new Error('no SQLite test target');
    db = await sqlite.create();
    database = await db.open();
    const report = await migrate(database, STORE_MIGRATIONS);
    assert.equal(report.error, undefined, report.error?.message);
  });
  after(() => db?.cleanup());

  it('opens the local queue by default, over the migrated metadata database', async () => {
    const queue = await openQueue({ database });
    try {
      assert.equal(queue.kind, 'local');
      const name = uniqueName();
      const worker = queue.process(name, async (job) => job.name);
      const job = await queue.enqueue(name, 'hello', {});
      assert.equal((await queue.waitFor(name, job.id, WAIT_MS)).result, 'hello');
      await worker.close();
    } finally {
      await queue.close();
    }
    await database.ping();
  });

  it('opens BullMQ for a redis:// URL', { skip: redisSkip }, async () => {
    const prefix = uniqueName('kiln-test');
    const queue = await openQueue({ url: TEST_REDIS_URL, database, prefix });
    try {
      assert.equal(queue.kind, 'bullmq');
      await queue.ping();
    } finally {
      await queue.close();
      await deleteKeys(prefix);
    }
  });

  it('refuses a URL it does not know with INVALID_CONFIGURATION, password masked', async () => {
    await assert.rejects(openQueue({ url: 'amqp://user:secret@host/queue', database }), (err) => {
      assert.ok(err instanceof KilnError);
      assert.equal(err.code, 'INVALID_CONFIGURATION');
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
  });
});
