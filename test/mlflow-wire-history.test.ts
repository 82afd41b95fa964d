import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';
import { METRIC, mlflowWire, ok, okEmpty, shapeOf, type WireAnswer } from './support/mlflow-wire.js';

// The web UI's bulk metric-history endpoints (get-history-bulk-interval, get-history-bulk) and
// concurrent runs/log-model calls, on SQLite and PostgreSQL.

const NOW = 1795784734181;
const INTERVAL = '/metrics/get-history-bulk-interval';
const BULK = '/metrics/get-history-bulk';
/** Run `long`: 1000 points at steps 0, 50, …, 49,950 — wide enough for the rollup path — with a spike at step 35,000. */
const LONG_POINTS = 1000;
const STEP = 50;
const SPIKE_STEP = 35_000;

interface WirePoint {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  run_id: string;
}

function fails(res: WireAnswer, status: number, errorCode: string, field?: string): void {
  assert.equal(res.status, status, res.body);
  assert.equal(res.json().error_code, errorCode, res.body);
  if (field !== undefined) assert.equal(res.json().details?.field, field, res.body);
}

function assertStepOrder(points: readonly WirePoint[]): void {
  for (let i = 1; i < points.length; i++) {
    assert.ok((points[i - 1] as WirePoint).step <= (points[i] as WirePoint).step, `step order at ${i}`);
  }
}

for (const target of await testDatabases()) {
  describe(`MLflow bulk metric history and log-model on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TestApp;
    let mlflow: ReturnType<typeof mlflowWire>;
    let long: string;
    let short: string;

    const createRun = async () => {
      const res = await mlflow('POST', '/runs/create', { experiment_id: '0', start_time: NOW });
      ok(res);
      return res.json().run.info.run_id as string;
    };

    before(async () => {
      db = await target.create();
      t = await createTestApp({ KILN_DATABASE_URL: db.url });
      mlflow = mlflowWire(t.app);
      long = await createRun();
      short = await createRun();
      const metrics = Array.from({ length: LONG_POINTS }, (_, i) => ({
        key: 'loss',
        value: i * STEP === SPIKE_STEP ? 100 : 1 / (i + 1),
        timestamp: NOW + i,
        step: i * STEP,
      }));
      okEmpty(await mlflow('POST', '/runs/log-batch', { run_id: long, metrics }));
      const few = [1, 'NaN', 'Infinity', '-Infinity', 0.5].map((value, step) => ({
        key: 'loss',
        value,
        timestamp: NOW + step,
        step,
      }));
      okEmpty(await mlflow('POST', '/runs/log-batch', { run_id: short, metrics: few }));
    });
    after(async () => {
      await t?.close();
      await db?.cleanup();
    });

    it('get-history-bulk-interval: runs in request order, each by step, ≤ 320 points by default', async () => {
      const res = await mlflow('GET', INTERVAL, { run_ids: [short, long], metric_key: 'loss' });
      ok(res);
      const points: WirePoint[] = res.json().metrics;
      assert.deepEqual(shapeOf(res.json()), { metrics: [{ ...METRIC, run_id: 'string' }] });
      const ofShort = points.filter((p) => p.run_id === short);
      const ofLong = points.filter((p) => p.run_id === long);
      assert.deepEqual(points, [...ofShort, ...ofLong]);
      assert.deepEqual(
        ofShort.map((p) => p.value),
        [1, 'NaN', 'Infinity', '-Infinity', 0.5],
      );
      assert.ok(ofLong.length > 100 && ofLong.length <= 320, String(ofLong.length));
      assertStepOrder(ofLong);
      assert.equal(ofLong[0]?.step, 0);
      assert.equal(ofLong.at(-1)?.step, (LONG_POINTS - 1) * STEP);
      assert.ok(
        ofLong.some((p) => p.step === SPIKE_STEP && p.value === 100),
        'the spike survives',
      );
      assert.ok(ofLong.every((p) => p.key === 'loss'));
    });

    it('get-history-bulk-interval: honours start_step/end_step and max_results', async () => {
      const whole = await mlflow('GET', INTERVAL, {
        run_ids: long,
        metric_key: 'loss',
        start_step: 1000,
        end_step: 5999,
        max_results: 2500,
      });
      ok(whole);
      assert.deepEqual(
        whole.json().metrics.map((p: WirePoint) => p.step),
        Array.from({ length: 100 }, (_, i) => 1000 + i * STEP),
      );

      const sampled = await mlflow('GET', INTERVAL, {
        run_ids: long,
        metric_key: 'loss',
        start_step: 30_000,
        end_step: 40_000,
        max_results: 8,
      });
      ok(sampled);
      const points: WirePoint[] = sampled.json().metrics;
      assert.ok(points.length > 0 && points.length <= 8, String(points.length));
      assertStepOrder(points);
      assert.ok(points.every((p) => p.step >= 30_000 && p.step <= 40_000));
      assert.equal(points[0]?.step, 30_000);
      assert.equal(points.at(-1)?.step, 40_000);
      assert.ok(
        points.some((p) => p.step === SPIKE_STEP && p.value === 100),
        'the range maximum survives',
      );

      // A range covering every point answers as no range does (the rollup path).
      const all = await mlflow('GET', INTERVAL, {
        run_ids: long,
        metric_key: 'loss',
        start_step: -5,
        end_step: 10 ** 9,
      });
      const none = await mlflow('GET', INTERVAL, { run_ids: long, metric_key: 'loss' });
      assert.deepEqual(all.json(), none.json());

      const empty = await mlflow('GET', INTERVAL, { run_ids: long, metric_key: 'loss', start_step: 1, end_step: 49 });
      ok(empty);
      assert.deepEqual(empty.json(), {});
    });

    it('get-history-bulk-interval: refuses bad parameters with INVALID_PARAMETER_VALUE', async () => {
      const base = { run_ids: long, metric_key: 'loss' };
      for (const max_results of [0, 2501, 'abc']) {
        fails(await mlflow('GET', INTERVAL, { ...base, max_results }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
      }
      ok(await mlflow('GET', INTERVAL, { ...base, max_results: 2500 }));
      fails(await mlflow('GET', INTERVAL, { ...base, start_step: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'end_step');
      fails(await mlflow('GET', INTERVAL, { ...base, end_step: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'start_step');
      const reversed = await mlflow('GET', INTERVAL, { ...base, start_step: 9, end_step: 3 });
      fails(reversed, 400, 'INVALID_PARAMETER_VALUE', 'start_step');
      fails(await mlflow('GET', INTERVAL, { ...base, start_step: 1.5, end_step: 3 }), 400, 'INVALID_PARAMETER_VALUE');
      fails(await mlflow('GET', INTERVAL, { metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
      const many = Array.from({ length: 101 }, (_, i) => `${i}`.padStart(32, '0'));
      fails(await mlflow('GET', INTERVAL, { run_ids: many, metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE');
      fails(await mlflow('GET', INTERVAL, { run_ids: long }), 400, 'INVALID_PARAMETER_VALUE', 'metric_key');
      const missing = 'f'.repeat(32);
      const res = await mlflow('GET', INTERVAL, { run_ids: [long, missing], metric_key: 'loss' });
      fails(res, 404, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(res.json().message, `Run with id=${missing} not found`);
    });

    it('get-history-bulk: every point of each run, in request order, under every prefix', async () => {
      for (const prefix of ['/ajax-api/2.0/mlflow', '/api/2.0/mlflow']) {
        const res = await mlflow('GET', BULK, { run_id: [long, short], metric_key: 'loss' }, { prefix });
        ok(res);
        assert.deepEqual(shapeOf(res.json()), { metrics: [{ ...METRIC, run_id: 'string' }] });
        const points: WirePoint[] = res.json().metrics;
        assert.equal(points.length, LONG_POINTS + 5);
        assert.ok(points.slice(0, LONG_POINTS).every((p) => p.run_id === long));
        assertStepOrder(points.slice(0, LONG_POINTS));
        assert.deepEqual(
          points.slice(LONG_POINTS).map((p) => [p.run_id, p.step, p.value]),
          [
            [short, 0, 1],
            [short, 1, 'NaN'],
            [short, 2, 'Infinity'],
            [short, 3, '-Infinity'],
            [short, 4, 0.5],
          ],
        );
      }
      const capped = await mlflow('GET', BULK, { run_id: [long, short], metric_key: 'loss', max_results: 3 });
      assert.deepEqual(
        capped.json().metrics.map((p: WirePoint) => [p.run_id === long, p.step]),
        [
          [true, 0],
          [true, 50],
          [true, 100],
          [false, 0],
          [false, 1],
          [false, 2],
        ],
      );
      assert.deepEqual((await mlflow('GET', BULK, { run_id: short, metric_key: 'none' })).json(), { metrics: [] });
      fails(await mlflow('GET', BULK, { run_id: 'f'.repeat(32), metric_key: 'loss' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      fails(await mlflow('GET', BULK, { metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
      fails(
        await mlflow('GET', BULK, { run_id: short, max_results: 25_001, metric_key: 'x' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('log-model: 20 concurrent calls on one run record 20 models', async () => {
      const runId = await createRun();
      const model = (i: number) =>
        JSON.stringify({ run_id: runId, artifact_path: `m${i}`, utc_time_created: '2026-11-27', flavors: { f: {} } });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          mlflow('POST', '/runs/log-model', { run_id: runId, model_json: model(i) }),
        ),
      );
      for (const res of answers) okEmpty(res);
      const run = (await mlflow('GET', '/runs/get', { run_id: runId })).json().run;
      const tag = run.data.tags.find((x: { key: string }) => x.key === 'mlflow.log-model.history');
      const paths = JSON.parse(tag.value).map((m: { artifact_path: string }) => m.artifact_path);
      assert.deepEqual([...paths].sort(), Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    });

    it('log-model: refuses a history tag that is not a JSON list, and deleted runs', async () => {
      const runId = await createRun();
      okEmpty(await mlflow('POST', '/runs/set-tag', { run_id: runId, key: 'mlflow.log-model.history', value: '{}' }));
      const json = JSON.stringify({ run_id: runId, artifact_path: 'm', utc_time_created: 'x', flavors: {} });
      fails(
        await mlflow('POST', '/runs/log-model', { run_id: runId, model_json: json }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      okEmpty(await mlflow('POST', '/runs/delete', { run_id: runId }));
      fails(
        await mlflow('POST', '/runs/log-model', { run_id: runId, model_json: json }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      const missing = 'e'.repeat(32);
      const res = await mlflow('POST', '/runs/log-model', { run_id: missing, model_json: json });
      fails(res, 404, 'RESOURCE_DOES_NOT_EXIST');
    });
  });
}
