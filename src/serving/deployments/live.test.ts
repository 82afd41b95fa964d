import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.js';
import { predictModel } from '../../learn/index.js';
import { penguinFrame, penguinRecords } from '../../learn/testing/vega.js';
import { RegistryModelLoader } from '../predictors/registry-loader.js';
import { ServingRuntime } from '../runtime/runtime.js';
import { DeploymentService } from './service.js';
import { LIVE_MODEL, type LiveDeployments, openLiveDeployments } from './testing/live.js';

// biome-ignore lint/suspicious/noExplicitAny: response JSON is read by path in assertions
type Json = any;

const BASE = '/api/v1/deployments';

describe('deployments on the real runtime with registered penguin models', () => {
  let live: LiveDeployments;
  before(async () => {
    live = await openLiveDeployments();
  });
  after(() => live?.close());

  async function call(method: string, url: string, payload?: unknown): Promise<{ status: number; body: Json }> {
    const res = await live.app.inject({
      method: method as 'GET',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json() };
  }

  /** Labels the model gives every penguin, straight from src/learn. */
  function expectedLabels(which: 'gbdt' | 'logistic'): unknown[] {
    return [...predictModel(live.models[which], penguinFrame(penguinRecords())).prediction];
  }

  it('creates a deployment that loads, warms and answers as the registered model does', async () => {
    const created = await call('POST', BASE, {
      name: 'penguins',
      targets: [{ model: `models:/${LIVE_MODEL}@champion` }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.deployment.status.ready, true);
    assert.equal(created.body.deployment.status.targets[0].version, '1');
    const answer = await call('POST', '/serve/penguins/predict', { rows: live.rows });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.model, LIVE_MODEL);
    assert.equal(answer.body.version, '1');
    assert.deepEqual(answer.body.predictions, expectedLabels('gbdt'));
  });

  it('a version that fails to load is refused; nothing is stored and the old version keeps answering', async () => {
    const failed = await call('PATCH', `${BASE}/penguins`, {
      targets: [{ model: `models:/${LIVE_MODEL}@champion` }, { model: `models:/${LIVE_MODEL}/3`, role: 'canary' }],
    });
    assert.equal(failed.status, 400, JSON.stringify(failed.body));
    assert.match(failed.body.message, /^targets\[1\]\.model: learner\.json: does not match its checksum/);
    assert.equal(failed.body.details.field, 'targets[1].model');
    const stored = await call('GET', `${BASE}/penguins`);
    assert.equal(stored.body.deployment.revision, 1);
    assert.equal(stored.body.deployment.strategy, 'single');
    const answer = await call('POST', '/serve/penguins/predict', { rows: live.rows.slice(0, 5) });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.version, '1');

    const refused = await call('POST', BASE, { name: 'damaged', targets: [{ model: `models:/${LIVE_MODEL}/3` }] });
    assert.equal(refused.status, 400);
    assert.equal((await call('GET', `${BASE}/damaged`)).status, 404);
    assert.equal((await call('POST', '/serve/damaged/predict', { rows: live.rows.slice(0, 1) })).status, 404);
  });

  it('a canary at 100 % answers every request; promote makes it the primary; rollback brings version 1 back', async () => {
    const canary = await call('PATCH', `${BASE}/penguins`, {
      targets: [
        { model: `models:/${LIVE_MODEL}@champion` },
        { model: `models:/${LIVE_MODEL}/2`, role: 'canary', weight: 100 },
      ],
    });
    assert.equal(canary.status, 200, JSON.stringify(canary.body));
    assert.equal(canary.body.deployment.revision, 2);
    for (let i = 0; i < 3; i++) {
      const answer = await call('POST', '/serve/penguins/predict', { rows: live.rows });
      assert.equal(answer.body.version, '2');
      assert.deepEqual(answer.body.predictions, expectedLabels('logistic'));
    }

    const promoted = await call('POST', `${BASE}/penguins/promote`, {});
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.deepEqual(promoted.body.deployment.targets, [
      { model: `models:/${LIVE_MODEL}/2`, role: 'primary', weight: 100 },
    ]);
    assert.deepEqual(
      promoted.body.deployment.status.targets.map((t: Json) => [t.model, t.version, t.ready]),
      [[`models:/${LIVE_MODEL}/2`, '2', true]],
    );
    assert.equal((await call('POST', '/serve/penguins/predict', { rows: live.rows.slice(0, 3) })).body.version, '2');

    const back = await call('POST', `${BASE}/penguins/rollback`, { revision: 1 });
    assert.equal(back.status, 200);
    assert.equal(back.body.deployment.revision, 4);
    const answer = await call('POST', '/serve/penguins/predict', { rows: live.rows });
    assert.equal(answer.body.version, '1');
    assert.deepEqual(answer.body.predictions, expectedLabels('gbdt'));
  });

  it('a shadow is mirrored and compared, never returned', async () => {
    const shadowed = await call('PATCH', `${BASE}/penguins`, {
      targets: [
        { model: `models:/${LIVE_MODEL}/1` },
        { model: `models:/${LIVE_MODEL}/2`, role: 'shadow', weight: 100 },
      ],
    });
    assert.equal(shadowed.status, 200, JSON.stringify(shadowed.body));
    assert.equal(shadowed.body.deployment.strategy, 'shadow');
    for (let i = 0; i < 4; i++) {
      const answer = await call('POST', '/serve/penguins/predict', { rows: live.rows });
      assert.equal(answer.body.version, '1');
    }
    // Shadow calls finish after the answer; wait until the report counts all four.
    let report: Json;
    for (let tries = 0; tries < 200; tries++) {
      report = (await call('GET', `${BASE}/penguins/shadow-report`)).body.report;
      if (report.comparisons[0]?.mirrored === 4) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(report.deployment, 'penguins');
    const [comparison] = report.comparisons;
    assert.equal(comparison.shadow_version, '2');
    assert.equal(comparison.mirrored, 4);
    const gbdt = expectedLabels('gbdt');
    const logistic = expectedLabels('logistic');
    const agree = gbdt.filter((label, i) => label === logistic[i]).length / gbdt.length;
    assert.ok(Math.abs(comparison.label_agreement - agree) < 1e-9, `${comparison.label_agreement} vs ${agree}`);
  });

  it('a restarted server restores the stored deployment on a fresh runtime', async () => {
    const runtime = new ServingRuntime({
      loader: new RegistryModelLoader({
        registry: live.harness.registry,
        artifacts: live.harness.artifacts,
        blobs: live.harness.blobs,
      }),
      metrics: new Registry(),
      logger: silentLogger(),
    });
    try {
      const service = new DeploymentService({
        database: live.harness.database,
        registry: live.harness.registry,
        runtime,
        logger: silentLogger(),
      });
      const report = await service.restoreAll(live.harness.ctx);
      assert.deepEqual(report.failed, []);
      assert.deepEqual(
        report.restored.map((r) => `${r.name}@${r.revision}`),
        ['penguins@5'],
      );
      const endpoint = runtime.get('default', 'penguins');
      assert.ok(endpoint?.ready());
      const status = await service.status(live.harness.ctx, 'penguins');
      assert.deepEqual(
        status.targets.map((t) => [t.role, t.version, t.ready]),
        [
          ['primary', '1', true],
          ['shadow', '2', true],
        ],
      );
    } finally {
      await runtime.close();
    }
  });
});
