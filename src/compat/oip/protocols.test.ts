import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { predictModel, type TrainedModel } from '../../learn/index.js';
import { penguinFrame } from '../../learn/testing/vega.js';
import { internalError, kilnPredictRoutes, requestFailure } from '../../serving/index.js';
import { mlflowScoringRoutes } from '../mlflow/scoring.js';
import { oipRoutes } from './routes.js';
import {
  endpointLookup,
  PENGUIN_MEASUREMENTS,
  PENGUINS,
  penguinRows,
  TrainedModelEndpoint,
  trainPenguinClassifier,
  trainPenguinRegressor,
} from './testing/endpoint.js';

// Kiln REST, MLflow scoring and OIP v2 side by side over the same real models: the same rows must
// give the same answers through each, and Kiln's own /predict must refuse bad input naming the
// field. The app is a bare Fastify with an error handler writing Kiln's error body, as the server's.

type Row = Record<string, unknown>;

/** A bare app with the three protocols under /serve/:deployment, errors in Kiln's body. */
async function protocolApp(endpoints: TrainedModelEndpoint[], bodyLimit?: number): Promise<FastifyInstance> {
  const app = Fastify(bodyLimit === undefined ? {} : { bodyLimit });
  app.setErrorHandler((error, request, reply) => {
    const known = requestFailure(error, request) ?? internalError(request);
    return reply.code(known.status).send(known.toBody(request.id));
  });
  const endpoint = endpointLookup(endpoints);
  for (const plugin of [kilnPredictRoutes, mlflowScoringRoutes, oipRoutes]) {
    await app.register(plugin, { prefix: '/serve/:deployment', endpoint });
  }
  await app.ready();
  return app;
}

function csvOf(rows: readonly Row[]): string {
  const names = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v);
  return `${names.map(cell).join(',')}\n${rows.map((r) => names.map((n) => cell(r[n])).join(',')).join('\n')}\n`;
}

describe('the three protocols give the same answers', () => {
  let app: FastifyInstance;
  let classifier: TrainedModel;
  let regressor: TrainedModel;
  let numeric: TrainedModel;
  let penguins: TrainedModelEndpoint;
  let mass: TrainedModelEndpoint;
  let measures: TrainedModelEndpoint;
  // Every 9th penguin: all species, missing sexes and the row of missing measurements included.
  const sample = PENGUINS.filter((_, i) => i % 9 === 3);

  before(async () => {
    [classifier, regressor, numeric] = await Promise.all([
      trainPenguinClassifier(),
      trainPenguinRegressor(),
      trainPenguinClassifier(PENGUIN_MEASUREMENTS),
    ]);
    penguins = new TrainedModelEndpoint(classifier, { name: 'penguins' });
    mass = new TrainedModelEndpoint(regressor, { name: 'mass' });
    measures = new TrainedModelEndpoint(numeric, { name: 'measures' });
    app = await protocolApp([penguins, mass, measures]);
  });
  after(() => app.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload: payload as string, headers });

  /** Every request shape of every protocol for `rows`, answered as (label, predictions, probabilities?). */
  async function everyProtocol(deployment: string, endpoint: TrainedModelEndpoint, rows: Row[]) {
    const names = endpoint.inputs.map((i) => i.name);
    const columns = Object.fromEntries(names.map((n) => [n, rows.map((r) => r[n] ?? null)]));
    const lists = rows.map((r) => names.map((n) => r[n] ?? null));
    const base = `/serve/${deployment}`;
    const answers: [string, unknown[], number[] | undefined][] = [];
    const kiln = async (label: string, payload: unknown) => {
      const res = await post(`${base}/predict`, payload);
      assert.equal(res.statusCode, 200, `${label}: ${res.body}`);
      const body = res.json();
      answers.push([label, body.predictions, body.probabilities?.flat()]);
    };
    await kiln('kiln rows', { rows });
    await kiln('kiln columns', { columns });
    const mlflow = async (label: string, payload: unknown, headers?: Record<string, string>) => {
      const res = await post(`${base}/invocations`, payload, headers);
      assert.equal(res.statusCode, 200, `${label}: ${res.body}`);
      answers.push([label, res.json().predictions, undefined]);
    };
    await mlflow('mlflow dataframe_split', {
      dataframe_split: { columns: names, data: lists, index: rows.map((_, i) => i) },
    });
    await mlflow('mlflow dataframe_split by position', { dataframe_split: { data: lists } });
    await mlflow('mlflow dataframe_records', { dataframe_records: rows });
    await mlflow('mlflow instances of records', { instances: rows });
    await mlflow('mlflow instances of lists', { instances: lists });
    await mlflow('mlflow inputs of columns', { inputs: columns, params: { threshold: 0.5 } });
    await mlflow('mlflow inputs of records', { inputs: rows });
    await mlflow('mlflow csv', csvOf(rows.map((r) => Object.fromEntries(names.map((n) => [n, r[n]])))), {
      'content-type': 'text/csv',
    });
    const oip = async (label: string, inputs: unknown) => {
      const res = await post(`${base}/v2/models/${deployment}/infer`, { inputs });
      assert.equal(res.statusCode, 200, `${label}: ${res.body}`);
      const outputs = res.json().outputs as { name: string; data: unknown[] }[];
      answers.push([label, outputs[0]?.data ?? [], outputs[1]?.data as number[] | undefined]);
    };
    await oip(
      'oip tensors per column',
      endpoint.inputs.map((input) => ({
        name: input.name,
        datatype: input.kind === 'float' ? 'FP64' : 'BYTES',
        shape: [rows.length, 1],
        data: rows.map((r) => [r[input.name] ?? null]),
      })),
    );
    if (endpoint.inputs.every((input) => input.kind === 'float')) {
      await oip('oip 2-D tensor', [
        { name: 'x', datatype: 'FP64', shape: [rows.length, names.length], data: lists.flat() },
      ]);
    }
    return answers;
  }

  it('classifier: labels (and probabilities) agree across Kiln REST, every MLflow format, CSV and OIP, and with predictModel', async () => {
    const rows = penguinRows(sample);
    const expected = predictModel(classifier, penguinFrame(sample));
    const labels = expected.prediction as string[];
    assert.ok(new Set(labels).size === 3, 'the sample covers the three species');
    const answers = await everyProtocol('penguins', penguins, rows);
    assert.equal(answers.length, 11);
    for (const [label, predictions, probabilities] of answers) {
      assert.deepEqual(predictions, labels, label);
      if (probabilities !== undefined) assert.deepEqual(probabilities, Array.from(expected.probabilities ?? []), label);
    }
  });

  it('regressor: numbers agree across the protocols, and with predictModel', async () => {
    const records = sample.filter((r) => r['Body Mass (g)'] !== null);
    const rows = penguinRows(records, 'Body Mass (g)');
    const expected = Array.from(predictModel(regressor, penguinFrame(records)).prediction as Float64Array);
    for (const [label, predictions] of await everyProtocol('mass', mass, rows)) {
      assert.deepEqual(predictions, expected, label);
    }
  });

  it('all-numeric model: the 2-D OIP tensor agrees with the other layouts', async () => {
    const records = sample.filter((r) => r['Beak Length (mm)'] !== null);
    const rows = records.map((r) => Object.fromEntries(PENGUIN_MEASUREMENTS.map((n) => [n, r[n]])));
    const answers = await everyProtocol('measures', measures, rows);
    assert.ok(answers.some(([label]) => label === 'oip 2-D tensor'));
    const first = answers[0]?.[1];
    for (const [label, predictions] of answers) assert.deepEqual(predictions, first, label);
  });
});

describe('Kiln REST POST /predict', () => {
  let app: FastifyInstance;
  let penguins: TrainedModelEndpoint;
  let strict: TrainedModelEndpoint;
  let loading: TrainedModelEndpoint;
  const rows = penguinRows(PENGUINS.slice(0, 5));

  before(async () => {
    const model = await trainPenguinClassifier();
    penguins = new TrainedModelEndpoint(model, { name: 'penguins', version: '7' });
    strict = new TrainedModelEndpoint(model, { name: 'strict', policy: { extraColumns: 'reject', maxBatchRows: 3 } });
    loading = new TrainedModelEndpoint(model, { name: 'loading', loaded: new Promise<void>(() => {}) });
    app = await protocolApp([penguins, strict, loading], 64 * 1024);
  });
  after(() => app.close());

  const predict = (deployment: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/serve/${deployment}/predict`, payload: payload as string, headers });

  function assertField(res: { statusCode: number; json(): Row }, status: number, field: string, pattern: RegExp): void {
    assert.equal(res.statusCode, status, JSON.stringify(res.json()));
    const body = res.json() as { error_code: string; message: string; details?: Row; request_id?: string };
    assert.equal(body.details?.field, field, body.message);
    assert.match(body.message, pattern);
    assert.equal(typeof body.request_id, 'string');
  }

  it('answers model, version, predictions, probabilities per class, classes and the request id', async () => {
    const res = await predict('penguins', { rows });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['model', 'version', 'predictions', 'probabilities', 'classes', 'request_id']);
    assert.equal(body.model, 'penguins');
    assert.equal(body.version, '7');
    assert.deepEqual(body.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.equal(body.predictions.length, 5);
    for (const p of body.probabilities) {
      assert.equal(p.length, 3);
      assert.ok(Math.abs(p.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
    }
    const sent = penguins.requests.at(-1);
    assert.equal(body.request_id, sent?.requestId);
    assert.equal(sent?.protocol, 'kiln');
    assert.equal(sent?.routeKey, undefined);
  });

  it('passes a routing key from the x-kiln-route-key header or the body, the header first', async () => {
    await predict('penguins', { rows, route_key: 'customer-1' });
    assert.equal(penguins.requests.at(-1)?.routeKey, 'customer-1');
    await predict('penguins', { rows, route_key: 'customer-1' }, { 'x-kiln-route-key': 'customer-2' });
    assert.equal(penguins.requests.at(-1)?.routeKey, 'customer-2');
    const res = await predict('penguins', { rows, route_key: 12 });
    assertField(res, 400, 'route_key', /is a number; it must be a string/);
  });

  it('refuses a body of the wrong shape, naming the field', async () => {
    assertField(await predict('penguins', [rows]), 400, 'body', /is an array/);
    assertField(await predict('penguins', { rows, columns: {} }), 400, 'columns', /may not be sent together with rows/);
    assertField(await predict('penguins', {}), 400, 'rows', /is required/);
    assertField(await predict('penguins', { row: rows }), 400, 'row', /is not a field of a predict request/);
    assertField(
      await predict('penguins', { rows: { Island: 'Biscoe' } }),
      400,
      'rows',
      /is an object; it must be an array/,
    );
    assertField(await predict('penguins', { rows: [rows[0], 'x'] }), 400, 'rows[1]', /is a string/);
    assertField(
      await predict('penguins', { columns: { Island: ['Biscoe'], Sex: [] } }),
      400,
      'columns.Sex',
      /has 0 values but columns.Island has 1/,
    );
  });

  it('refuses cells the model cannot read, naming the row and column', async () => {
    const bad = rows.map((r, i) => (i === 3 ? { ...r, 'Body Mass (g)': '3750 g' } : r));
    assertField(
      await predict('penguins', { rows: bad }),
      400,
      'rows[3]["Body Mass (g)"]',
      /is a string; the model needs a finite number/,
    );
    const noIsland = rows.map(({ Island: _, ...rest }) => rest);
    assertField(await predict('penguins', { rows: noIsland }), 400, 'rows[0].Island', /missing; the model needs it/);
    const nullIsland = rows.map((r, i) => (i === 2 ? { ...r, Island: null } : r));
    assertField(await predict('penguins', { rows: nullIsland }), 400, 'rows[2].Island', /missing/);
    const objectCell = {
      columns: {
        ...Object.fromEntries(Object.keys(rows[0] ?? {}).map((k) => [k, [rows[0]?.[k] ?? null]])),
        Island: [{ name: 'Biscoe' }],
      },
    };
    assertField(await predict('penguins', objectCell), 400, 'columns.Island[0]', /is an object/);
  });

  it('applies the deployment input policy: extra columns refused and the batch limit', async () => {
    assertField(
      await predict('strict', { rows: rows.slice(0, 2).map((r) => ({ ...r, colour: 'grey' })) }),
      400,
      'rows[0].colour',
      /is not an input of the model/,
    );
    assertField(
      await predict('strict', { rows: rows.slice(0, 4) }),
      400,
      'rows',
      /has 4 rows; one request may carry at most 3/,
    );
    assert.equal((await predict('strict', { rows: rows.slice(0, 3) })).statusCode, 200);
    // The same limit through the other two protocols, named in their terms.
    const oip = await app.inject({
      method: 'POST',
      url: '/serve/strict/v2/models/strict/infer',
      payload: {
        inputs: strict.inputs.map((input) => ({
          name: input.name,
          datatype: input.kind === 'float' ? 'FP64' : 'BYTES',
          shape: [4],
          data: rows.slice(0, 4).map((r) => r[input.name] ?? null),
        })),
      },
    });
    assert.equal(oip.statusCode, 400);
    assert.match(oip.json().error, /^inputs\[0\]\.shape: has 4 rows; one request may carry at most 3/);
    const mlflow = await app.inject({
      method: 'POST',
      url: '/serve/strict/invocations',
      payload: { dataframe_split: { data: rows.slice(0, 4).map((r) => strict.inputs.map((i) => r[i.name] ?? null)) } },
    });
    assert.equal(mlflow.statusCode, 400);
    assert.match(mlflow.json().message, /^dataframe_split\.data: has 4 rows/);
    assert.equal((await predict('penguins', { rows: rows.map((r) => ({ ...r, colour: 'grey' })) })).statusCode, 200);
  });

  it('answers malformed JSON 400, an unknown deployment 404, a loading model 503 with Retry-After, an over-large body 413', async () => {
    const malformed = await predict('penguins', '{"rows": [', { 'content-type': 'application/json' });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error_code, 'MALFORMED_REQUEST');
    const unknown = await predict('walruses', { rows });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.json().message, /walruses/);
    const notReady = await predict('loading', { rows });
    assert.equal(notReady.statusCode, 503);
    assert.equal(notReady.headers['retry-after'], '1');
    assert.equal(notReady.json().error_code, 'TEMPORARILY_UNAVAILABLE');
    const huge = await predict('penguins', { rows: new Array(2000).fill(rows[0]) });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().code, 'PAYLOAD_TOO_LARGE');
  });

  it('answers an empty batch with no predictions', async () => {
    const res = await predict('penguins', { rows: [] });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().predictions, []);
    assert.deepEqual(res.json().probabilities, []);
  });
});
