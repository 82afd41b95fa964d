import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger, systemContext } from '../../core/index.js';
import { type Database, migrate } from '../../store/index.js';
import { type TestDatabase, testDatabases } from '../../store/testing/databases.js';
import type { PredictionRecord } from '../types.js';
import { BufferedPredictionLog, SERVING_LOG_MIGRATIONS, type ServingLogTables } from './prediction-log.js';
import { ServingRuntime } from './runtime.js';
import { MemoryModelLoader } from './testing/memory-loader.js';
import { requestOf, runtimeModels } from './testing/models.js';

function recordOf(i: number, extra: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    workspace: 'default',
    deployment: 'churn',
    model: 'churn',
    version: '3',
    role: 'primary',
    requestId: `req-${i}`,
    timestamp: Date.UTC(2026, 10, 28, 12, 0, 0, i),
    inputs: { distance: [i, null], origin: ['SEA', 'PDX'] },
    outputs: {
      prediction: ['yes', 'no'],
      probabilities: [
        [0.25, 0.75],
        [0.5, 0.5],
      ],
    },
    latencyMs: 0.5 + i,
    ...extra,
  };
}

for (const target of await testDatabases()) {
  describe(`BufferedPredictionLog on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    const rows = () =>
      database.kysely
        .withTables<ServingLogTables>()
        .selectFrom('serving_predictions')
        .selectAll()
        .orderBy('request_id');

    before(async () => {
      db = await target.create();
      database = await db.open();
      const report = await migrate(database, SERVING_LOG_MIGRATIONS, silentLogger());
      assert.equal(report.error, undefined, report.error?.message);
    });
    after(() => db.cleanup());

    it('writes records in batches, inputs and outputs as JSON, and a shadow failure with its error', async () => {
      const log = new BufferedPredictionLog({ database, batchSize: 100, flushIntervalMs: 60_000 });
      for (let i = 0; i < 1234; i++) log.record(recordOf(i));
      log.record(recordOf(5000, { role: 'shadow', error: 'challenger exploded', outputs: { prediction: [] } }));
      await log.flush();
      assert.equal(log.written, 1235);
      assert.equal(log.dropped, 0);
      const written = await rows().execute();
      assert.equal(written.length, 1235);
      const first = written.find((r) => r.request_id === 'req-7');
      assert.ok(first);
      assert.equal(first.workspace, 'default');
      assert.equal(first.deployment, 'churn');
      assert.equal(first.version, '3');
      assert.equal(first.role, 'primary');
      assert.equal(first.created_at, '2026-11-28T12:00:00.007Z');
      assert.deepEqual(JSON.parse(first.inputs), { distance: [7, null], origin: ['SEA', 'PDX'] });
      assert.deepEqual(JSON.parse(first.outputs).probabilities[0], [0.25, 0.75]);
      assert.equal(Number(first.latency_ms), 7.5);
      assert.equal(first.error, null);
      const shadow = written.find((r) => r.request_id === 'req-5000');
      assert.equal(shadow?.role, 'shadow');
      assert.equal(shadow?.error, 'challenger exploded');
      await log.close();
      await database.kysely.withTables<ServingLogTables>().deleteFrom('serving_predictions').execute();
    });

    it('drops and counts records beyond its capacity without blocking or throwing; close writes the rest', async () => {
      const log = new BufferedPredictionLog({ database, capacity: 50, batchSize: 1000, flushIntervalMs: 60_000 });
      for (let i = 0; i < 80; i++) log.record(recordOf(i));
      assert.equal(log.buffered, 50);
      assert.equal(log.dropped, 30);
      await log.close();
      log.record(recordOf(99));
      assert.equal(log.dropped, 31, 'a closed log drops');
      assert.equal((await rows().execute()).length, 50);
      await database.kysely.withTables<ServingLogTables>().deleteFrom('serving_predictions').execute();
    });

    it('counts a batch the database refuses as dropped, and keeps going', async () => {
      const bare = await target.create();
      try {
        const unmigrated = await bare.open();
        const log = new BufferedPredictionLog({ database: unmigrated, batchSize: 10, logger: silentLogger() });
        for (let i = 0; i < 25; i++) log.record(recordOf(i));
        await log.flush();
        assert.equal(log.dropped, 25);
        assert.equal(log.written, 0);
        await log.close();
      } finally {
        await bare.cleanup();
      }
    });

    it('logs what a deployment answers and what its shadow answers, joined by request id', async () => {
      const models = await runtimeModels();
      const loader = new MemoryModelLoader();
      loader.register('penguins', 1, models.penguinGbdt);
      loader.register('penguins', 2, models.penguinLogistic);
      const log = new BufferedPredictionLog({ database, flushIntervalMs: 10 });
      const registry = new Registry();
      const runtime = new ServingRuntime({ loader, metrics: registry, sink: log, logger: silentLogger() });
      await runtime.apply(systemContext('log-test'), {
        workspace: 'default',
        name: 'penguins',
        strategy: 'shadow',
        targets: [
          { model: 'models:/penguins/1', role: 'primary', weight: 0 },
          { model: 'models:/penguins/2', role: 'shadow', weight: 100 },
        ],
        maxQueue: 100,
        timeoutMs: 5000,
        input: { extraColumns: 'ignore', maxBatchRows: 100 },
        logging: { sampleRate: 1 },
      });
      const endpoint = runtime.get('default', 'penguins');
      assert.ok(endpoint);
      const answer = await endpoint.infer(requestOf(models.penguins.slice(0, 3), 'joined-1'));
      const until = performance.now() + 10_000;
      while ((runtime.shadowReport('default', 'penguins')?.comparisons[0]?.mirrored ?? 0) < 1) {
        assert.ok(performance.now() < until, 'the shadow answered');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await runtime.close();
      await log.close();
      const logged = await rows().where('request_id', '=', 'joined-1').orderBy('role').execute();
      assert.deepEqual(
        logged.map((r) => [r.deployment, r.role, r.version]),
        [
          ['penguins', 'primary', '1'],
          ['penguins', 'shadow', '2'],
        ],
      );
      assert.deepEqual(JSON.parse(logged[0]?.outputs ?? '{}').prediction, answer.prediction);
      assert.equal(JSON.parse(logged[0]?.inputs ?? '{}')['Island'].length, 3);
      assert.match(await registry.metrics(), /kiln_serving_predictions_dropped_total 0/);
    });
  });
}
