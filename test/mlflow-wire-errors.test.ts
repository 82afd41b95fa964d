import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';
import { mlflowWire, type WireAnswer } from './support/mlflow-wire.js';

// The MLflow adapter's edges: prefixes, unknown endpoints, body parsing, MLflow's limits and
// messages, and that no ordinary error is a 5xx (the MLflow client retries those).

const NOW = 1795784734181;

describe('the MLflow API at its edges', () => {
  let t: TestApp;
  let mlflow: ReturnType<typeof mlflowWire>;
  let runId: string;
  const statuses: number[] = [];

  before(async () => {
    t = await createTestApp();
    const send = mlflowWire(t.app);
    mlflow = async (...args) => {
      const res = await send(...args);
      statuses.push(res.status);
      return res;
    };
    const run = await mlflow('POST', '/runs/create', { experiment_id: '0', start_time: NOW });
    runId = run.json().run.info.run_id;
  });
  after(() => t.close());

  function fails(res: WireAnswer, status: number, errorCode: string, message?: string | RegExp): void {
    assert.equal(res.status, status, res.body);
    assert.equal(res.json().error_code, errorCode, res.body);
    if (typeof message === 'string') assert.equal(res.json().message, message);
    else if (message !== undefined) assert.match(res.json().message, message);
  }

  it('answers the same under /api/2.0/mlflow, /ajax-api/2.0/mlflow and /api/2.0/preview/mlflow', async () => {
    const fields = { experiment_id: '0' };
    const api = await mlflow('GET', '/experiments/get', fields);
    assert.equal(api.status, 200);
    for (const prefix of ['/ajax-api/2.0/mlflow', '/api/2.0/preview/mlflow']) {
      const other = await mlflow('GET', '/experiments/get', fields, { prefix });
      assert.equal(other.status, 200, prefix);
      assert.deepEqual(other.json(), api.json(), prefix);
    }
  });

  it('answers unknown endpoints and wrong methods with 404 ENDPOINT_NOT_FOUND', async () => {
    for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow', '/api/2.0/preview/mlflow']) {
      fails(await mlflow('POST', '/runs/no-such-thing', {}, { prefix }), 404, 'ENDPOINT_NOT_FOUND');
    }
    fails(await mlflow('GET', '/runs/create'), 404, 'ENDPOINT_NOT_FOUND');
    fails(await mlflow('POST', '/registered-models/delete', { name: 'x' }), 404, 'ENDPOINT_NOT_FOUND');
  });

  it('refuses log-batch over MLflow’s limits with the service’s messages, writing nothing', async () => {
    const metric = (step: number) => ({ key: 'm', value: step, timestamp: NOW, step });
    const tag = (i: number) => ({ key: `t${i}`, value: 'v' });
    const cases = [
      [{ metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) }, /^metrics: .*at most 1000 metrics; got 1001/],
      [{ params: Array.from({ length: 101 }, (_, i) => tag(i)) }, /^params: .*at most 100 params; got 101/],
      [{ tags: Array.from({ length: 101 }, (_, i) => tag(i)) }, /^tags: .*at most 100 tags; got 101/],
      [
        {
          metrics: Array.from({ length: 950 }, (_, i) => metric(i)),
          params: Array.from({ length: 51 }, (_, i) => tag(i)),
        },
        /at most 1000 metrics, params and tags in all; got 1001/,
      ],
    ] as const;
    for (const [batch, message] of cases) {
      fails(
        await mlflow('POST', '/runs/log-batch', { run_id: runId, ...batch }),
        400,
        'INVALID_PARAMETER_VALUE',
        message,
      );
    }
    const run = await mlflow('GET', '/runs/get', { run_id: runId });
    assert.equal(run.json().run.data.metrics, undefined);
  });

  it('refuses a log-batch body over 1 MB with MLflow’s message, and accepts one just under', async () => {
    const body = (size: number) => {
      const json = `{"run_id": "${runId}", "tags": [{"key": "size", "value": "x"}]}`;
      return json + ' '.repeat(size - Buffer.byteLength(json));
    };
    fails(
      await mlflow('POST', '/runs/log-batch', {}, { raw: body(1_000_001) }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Batched logging API requests must be at most 1000000 bytes, got a request of size 1000001.',
    );
    assert.equal((await mlflow('POST', '/runs/log-batch', {}, { raw: body(1_000_000) })).status, 200);
    const bigMetric = `{"run_id": "${runId}", "key": "big", "value": 1, "timestamp": ${NOW}}${' '.repeat(1_100_000)}`;
    assert.equal(
      (await mlflow('POST', '/runs/log-metric', {}, { raw: bigMetric })).status,
      200,
      'only log-batch has the limit',
    );
  });

  it('names missing and mistyped fields with MLflow’s wording', async () => {
    fails(
      await mlflow('POST', '/runs/log-metric', { key: 'k', value: 1, timestamp: NOW }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.",
    );
    fails(
      await mlflow('POST', '/runs/log-metric', { run_id: runId, key: 'k', value: 1 }),
      400,
      'INVALID_PARAMETER_VALUE',
      /required parameter 'timestamp'/,
    );
    fails(await mlflow('POST', '/experiments/create', { name: '' }), 400, 'INVALID_PARAMETER_VALUE', /'name'/);
    fails(
      await mlflow('GET', '/experiments/search', { max_results: 'abc' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid value 'abc' for parameter 'max_results' supplied: must be a whole number.",
    );
    fails(
      await mlflow('POST', '/runs/log-metric', { run_id: runId, key: 'k', value: 'lots', timestamp: NOW }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^value: must be a number/,
    );
    fails(
      await mlflow('POST', '/runs/search', { experiment_ids: ['0'], run_view_type: 'SOME' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /run_view_type.*ACTIVE_ONLY, DELETED_ONLY, ALL/,
    );
  });

  it('enforces max_results caps: 50,000 for runs and experiments, 1000 for registered models', async () => {
    const runs = await mlflow('POST', '/runs/search', { experiment_ids: ['0'], max_results: 50000 });
    assert.equal(runs.status, 200);
    fails(
      await mlflow('POST', '/runs/search', { experiment_ids: ['0'], max_results: 50001 }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    fails(await mlflow('GET', '/experiments/search', { max_results: 50001 }), 400, 'INVALID_PARAMETER_VALUE');
    assert.equal((await mlflow('GET', '/registered-models/search', { max_results: 1000 })).status, 200);
    fails(await mlflow('GET', '/registered-models/search', { max_results: 1001 }), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('reads bodies as JSON whatever the content type, and refuses what is not a JSON object', async () => {
    const tag = { run_id: runId, key: 'via', value: 'text' };
    assert.equal(
      (await mlflow('POST', '/runs/set-tag', {}, { raw: JSON.stringify(tag), contentType: 'text/plain' })).status,
      200,
    );
    const doubled = JSON.stringify(JSON.stringify({ ...tag, value: 'double' }));
    assert.equal((await mlflow('POST', '/runs/set-tag', {}, { raw: doubled })).status, 200);
    const tags = (await mlflow('GET', '/runs/get', { run_id: runId })).json().run.data.tags;
    assert.equal(tags.find((x: { key: string }) => x.key === 'via').value, 'double');

    fails(await mlflow('POST', '/runs/set-tag', {}, { raw: '{"run_id": ' }), 400, 'MALFORMED_REQUEST');
    fails(await mlflow('POST', '/runs/set-tag', {}, { raw: '[1, 2]' }), 400, 'MALFORMED_REQUEST');
    fails(await mlflow('POST', '/runs/set-tag', {}, { raw: '{"key": NaNa}' }), 400, 'MALFORMED_REQUEST');
    fails(await mlflow('POST', '/runs/set-tag', {}, { raw: '' }), 400, 'INVALID_PARAMETER_VALUE', /'run_id'/);
  });

  it('reads a bare NaN outside a metric value as the number it is, so string fields refuse it', async () => {
    fails(
      await mlflow('POST', '/runs/set-tag', {}, { raw: `{"run_id": "${runId}", "key": "k", "value": NaN}` }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid value NaN for parameter 'value' supplied: must be a string.",
    );
    const quoted = `{"run_id": "${runId}", "key": "k", "value": "NaN Infinity"}`;
    assert.equal((await mlflow('POST', '/runs/set-tag', {}, { raw: quoted })).status, 200);
  });

  it('answers MLflow’s plain /health and /version', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.body, 'OK');
    assert.match(String(health.headers['content-type']), /^text\/plain/);
    const version = await t.app.inject({ method: 'GET', url: '/version' });
    assert.equal(version.statusCode, 200);
    assert.match(version.body, /^2\.\d+\.\d+$/);
  });

  it('answered no request of this file with a 5xx', () => {
    assert.ok(statuses.length > 20);
    assert.deepEqual(
      statuses.filter((status) => status >= 500),
      [],
    );
  });
});
