import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PENGUINS_JSON } from '../src/data/testing/fixtures.js';
import { KilnClient } from '../src/sdk/index.js';
import { deleteKeys, redisUnavailable, TEST_REDIS_URL } from '../src/store/queue/testing/redis.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const postgres = (await testDatabases()).find((t) => t.name === 'postgres');
const skip = postgres?.skip || (await redisUnavailable());

interface Child {
  process: ChildProcess;
  firstLine: string;
  exited: Promise<number | null>;
}

/** Starts `kiln <args>` in `env` and resolves with its first stdout line (what server and worker print once up). */
async function startKiln(args: string[], env: NodeJS.ProcessEnv): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`kiln ${args[0]} exited with ${code}: ${stderr}`)));
  });
  return { process: child, firstLine, exited };
}

describe('training on PostgreSQL + BullMQ, fitted by a separate kiln worker', { skip }, () => {
  let db: TestDatabase;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let server: Child;
  const prefix = `kiln-train-${randomBytes(4).toString('hex')}`;

  before(async () => {
    db = await (postgres as NonNullable<typeof postgres>).create();
    home = await mkdtemp(join(tmpdir(), 'kiln-scaleout-'));
    env = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
    Object.assign(env, {
      KILN_HOME: home,
      KILN_DATABASE_URL: db.url,
      KILN_QUEUE_URL: TEST_REDIS_URL,
      KILN_QUEUE_PREFIX: prefix,
      KILN_LOG_LEVEL: 'warn',
    });
    server = await startKiln(['server', '--port', '0'], env);
  });
  after(async () => {
    server?.process.kill('SIGTERM');
    await server?.exited;
    await deleteKeys(prefix);
    await db?.cleanup();
    await rm(home, { recursive: true, force: true });
  });

  it('queues the job on Redis; a kiln worker process trains it into the shared database and artifacts', async () => {
    const url = /listening on (http:\/\/\S+)$/.exec(server.firstLine)?.[1] as string;
    const kiln = new KilnClient({ baseUrl: url, retryDelayMs: 1, timeoutMs: 120_000 });
    await kiln.data.createDataset('penguins');
    await kiln.data.uploadFile('penguins', PENGUINS_JSON);
    const job = await kiln.training.submit({
      data: 'penguins',
      target: 'Species',
      task: 'classification',
      model: 'gbdt',
      params: { n_estimators: 10 },
      register: 'penguins-scaleout',
    });
    assert.equal(job.state, 'queued');
    assert.equal((await kiln.training.get(job.id)).state, 'queued', 'the server does not fit jobs of a Redis queue');
    const worker = await startKiln(['worker', '--concurrency', '1'], env);
    try {
      assert.match(worker.firstLine, /^Kiln worker on bullmq queue, postgres/);
      const done = await kiln.training.wait(job.id, { pollMs: 200, timeoutMs: 120_000 });
      assert.equal(done.state, 'completed', done.error);
      assert.deepEqual(done.model_version, { name: 'penguins-scaleout', version: 1 });
      const run = await kiln.tracking.getRun(done.run_id as string);
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(run.data.tags.find((t) => t.key === 'kiln.job_id')?.value, job.id);
      const files = await kiln.tracking.artifacts.list(done.run_id as string, 'model');
      assert.ok(
        files.files.some((f) => f.path === 'model/kiln-model.json'),
        JSON.stringify(files),
      );
    } finally {
      worker.process.kill('SIGTERM');
      assert.equal(await worker.exited, 0, 'the worker stops cleanly on SIGTERM');
    }
  });
});
