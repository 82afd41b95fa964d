import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mlflowScoringRoutes } from '../src/compat/mlflow/scoring.js';
import { oipRoutes } from '../src/compat/oip/index.js';
import {
  endpointLookup,
  PENGUIN_MEASUREMENTS,
  PENGUINS,
  penguinRows,
  TrainedModelEndpoint,
  trainPenguinClassifier,
  trainPenguinRegressor,
  trainTypedPenguinClassifier,
  typedPenguinRows,
} from '../src/compat/oip/testing/endpoint.js';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';
import { kilnPredictRoutes, type ServingInput } from '../src/serving/index.js';

// The Open Inference Protocol v2 REST surface walked item by item through the conformance
// checklist of serving.md §1.14, mounted as `kiln server` mounts it (here under /conformance/<deployment>, beside kiln server's own /serve routes, in
// the real application with its error handler, request ids and permission check), over real Kiln
// GBDTs trained on the penguins data.

type Row = Record<string, unknown>;
type Tensor = { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: Row };

// Every 29th penguin: all three species, and the row of missing measurements (index 3) left out.
const ROWS = PENGUINS.filter((_, i) => i % 29 === 0);
const BODY_LIMIT = 256 * 1024;

/** One tensor per model input, [N], BYTES for text inputs and FP64 for numbers. */
function columnTensors(inputs: readonly ServingInput[], rows: readonly Row[]): Tensor[] {
  return inputs.map((input) => ({
    name: input.name,
    datatype: input.kind === 'float' ? 'FP64' : 'BYTES',
    shape: [rows.length],
    data: rows.map((r) => r[input.name] ?? null),
  }));
}

function assertErrorBody(res: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.body);
  assert.equal(typeof body, 'object');
  assert.equal(typeof body.error, 'string', res.body);
  assert.ok(body.error.length > 0);
  return body.error as string;
}

/** A binary FP64 chunk. */
function fp64(values: readonly (number | null)[]): Buffer {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => {
    out.writeDoubleLE(v ?? Number.NaN, i * 8);
  });
  return out;
}

/** A binary BYTES chunk: 4-byte little-endian length, then the UTF-8 bytes, per element. */
function bytesChunk(values: readonly string[]): Buffer {
  return Buffer.concat(
    values.flatMap((v) => {
      const bytes = Buffer.from(v, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** Splits a binary response into its JSON header and the bytes after it. */
function splitBinary(res: { rawPayload: Buffer; headers: Record<string, unknown> }): { json: Row; rest: Buffer } {
  const length = Number(res.headers['inference-header-content-length']);
  assert.ok(Number.isInteger(length) && length > 0, 'Inference-Header-Content-Length is set');
  return {
    json: JSON.parse(res.rawPayload.subarray(0, length).toString('utf8')),
    rest: res.rawPayload.subarray(length),
  };
}

describe('Open Inference Protocol v2 conformance (serving.md §1.14)', () => {
  let t: TestApp;
  let penguins: TrainedModelEndpoint;
  let measures: TrainedModelEndpoint;
  let typed: TrainedModelEndpoint;
  let mass: TrainedModelEndpoint;
  let slow: TrainedModelEndpoint;
  let finishLoading: () => void;
  let rows: Row[];

  const infer = (deployment: string, payload: unknown, model = deployment) =>
    t.app.inject({
      method: 'POST',
      url: `/conformance/${deployment}/v2/models/${model}/infer`,
      payload: payload as object,
    });

  before(async () => {
    const [classifier, numeric, typedModel, regressor] = await Promise.all([
      trainPenguinClassifier(),
      trainPenguinClassifier(PENGUIN_MEASUREMENTS),
      trainTypedPenguinClassifier(),
      trainPenguinRegressor(),
    ]);
    penguins = new TrainedModelEndpoint(classifier, { name: 'penguins', version: '3' });
    measures = new TrainedModelEndpoint(numeric, { name: 'measures', model: 'penguin-measures', version: '1' });
    typed = new TrainedModelEndpoint(typedModel, { name: 'typed' });
    mass = new TrainedModelEndpoint(regressor, { name: 'mass', model: 'penguin-mass', version: '2' });
    slow = new TrainedModelEndpoint(classifier, {
      name: 'slow',
      loaded: new Promise<void>((resolve) => {
        finishLoading = resolve;
      }),
    });
    const endpoint = endpointLookup([penguins, measures, typed, mass, slow]);
    t = await createTestApp({ KILN_BODY_LIMIT: String(BODY_LIMIT) }, (app) => {
      for (const plugin of [kilnPredictRoutes, mlflowScoringRoutes, oipRoutes]) {
        void app.register(plugin, { prefix: '/conformance/:deployment', endpoint });
      }
    });
    rows = penguinRows(ROWS);
  });
  after(() => t.close());

  it('1. live answers 200 {live: true}; ready answers 200 once the model is loaded and non-2xx while it loads', async () => {
    const live = await t.app.inject({ method: 'GET', url: '/conformance/slow/v2/health/live' });
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { live: true });

    const loading = await t.app.inject({ method: 'GET', url: '/conformance/slow/v2/health/ready' });
    assert.equal(loading.statusCode, 503);
    assert.deepEqual(loading.json(), { ready: false });
    assert.equal(loading.headers['retry-after'], '1');
    const modelLoading = await t.app.inject({ method: 'GET', url: '/conformance/slow/v2/models/slow/ready' });
    assert.equal(modelLoading.statusCode, 503);
    assert.deepEqual(modelLoading.json(), { name: 'slow', ready: false });
    const early = await infer('slow', { inputs: columnTensors(slow.inputs, rows.slice(0, 1)) });
    assert.match(assertErrorBody(early, 503), /not ready/);
    assert.equal(early.headers['retry-after'], '1');

    finishLoading();
    await new Promise((resolve) => setImmediate(resolve));
    const ready = await t.app.inject({ method: 'GET', url: '/conformance/slow/v2/health/ready' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { ready: true });
    const answered = await infer('slow', { inputs: columnTensors(slow.inputs, rows.slice(0, 1)) });
    assert.equal(answered.statusCode, 200, answered.body);
  });

  it('2. GET /v2 has name, version and extensions (an array)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.name, 'kiln');
    assert.equal(typeof body.version, 'string');
    assert.ok(Array.isArray(body.extensions));
    assert.ok(body.extensions.includes('binary_tensor_data'));
  });

  it('3. model metadata has name, platform, inputs and outputs with datatypes from the table and -1 for variable dimensions; an unknown model is non-2xx with {error}', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/models/penguins' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.name, 'penguins');
    assert.equal(body.platform, 'kiln_package');
    assert.deepEqual(body.versions, ['3']);
    assert.deepEqual(body.inputs, [
      { name: 'Island', datatype: 'BYTES', shape: [-1] },
      { name: 'Sex', datatype: 'BYTES', shape: [-1] },
      { name: 'Beak Length (mm)', datatype: 'FP64', shape: [-1] },
      { name: 'Beak Depth (mm)', datatype: 'FP64', shape: [-1] },
      { name: 'Flipper Length (mm)', datatype: 'FP64', shape: [-1] },
      { name: 'Body Mass (g)', datatype: 'FP64', shape: [-1] },
    ]);
    assert.deepEqual(body.outputs, [
      { name: 'prediction', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP64', shape: [-1, 3] },
    ]);
    const typedMeta = (await t.app.inject({ method: 'GET', url: '/conformance/typed/v2/models/typed' })).json();
    assert.deepEqual(
      typedMeta.inputs.map((i: Tensor) => i.datatype),
      ['BYTES', 'BOOL', 'INT64', 'FP64'],
    );
    const regressor = (await t.app.inject({ method: 'GET', url: '/conformance/mass/v2/models/penguin-mass' })).json();
    assert.deepEqual(regressor.outputs, [{ name: 'prediction', datatype: 'FP64', shape: [-1] }]);

    const unknown = await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/models/walruses' });
    assert.match(assertErrorBody(unknown, 404), /walruses/);
    const unknownDeployment = await t.app.inject({ method: 'GET', url: '/conformance/walruses/v2/models/walruses' });
    assert.match(assertErrorBody(unknownDeployment, 404), /walruses/);
  });

  it('4. GET /v2/models/{m}/ready gives {name, ready: true}', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/models/penguins/ready' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { name: 'penguins', ready: true });
    // The served model's own name addresses it too.
    const byModel = await t.app.inject({ method: 'GET', url: '/conformance/mass/v2/models/penguin-mass/ready' });
    assert.deepEqual(byModel.json(), { name: 'penguin-mass', ready: true });
  });

  it('5. /versions/{v} paths: a valid version works; an invalid one gives a clear error', async () => {
    const payload = { inputs: columnTensors(penguins.inputs, rows.slice(0, 2)) };
    const meta = await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/models/penguins/versions/3' });
    assert.equal(meta.statusCode, 200);
    assert.deepEqual(meta.json().versions, ['3']);
    const ready = await t.app.inject({
      method: 'GET',
      url: '/conformance/penguins/v2/models/penguins/versions/3/ready',
    });
    assert.deepEqual(ready.json(), { name: 'penguins', ready: true });
    const ok = await t.app.inject({
      method: 'POST',
      url: '/conformance/penguins/v2/models/penguins/versions/3/infer',
      payload,
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().model_version, '3');

    for (const url of [
      '/conformance/penguins/v2/models/penguins/versions/4',
      '/conformance/penguins/v2/models/penguins/versions/4/ready',
    ]) {
      assert.match(
        assertErrorBody(await t.app.inject({ method: 'GET', url }), 404),
        /no version '4'.*serves version 3/,
      );
    }
    const bad = await t.app.inject({
      method: 'POST',
      url: '/conformance/penguins/v2/models/penguins/versions/4/infer',
      payload,
    });
    assert.match(assertErrorBody(bad, 404), /no version '4'/);
  });

  it('6. infer with flattened data and with nested data gives identical outputs', async () => {
    const sample = rows.slice(0, 6);
    const flat = sample.flatMap((r) => PENGUIN_MEASUREMENTS.map((name) => r[name] ?? null));
    const nested = sample.map((r) => PENGUIN_MEASUREMENTS.map((name) => r[name] ?? null));
    const tensor = { name: 'measurements', datatype: 'FP64', shape: [sample.length, 4] };
    const a = await infer('measures', { inputs: [{ ...tensor, data: flat }] }, 'penguin-measures');
    const b = await infer('measures', { inputs: [{ ...tensor, data: nested }] }, 'penguin-measures');
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(b.statusCode, 200, b.body);
    assert.deepEqual(a.json().outputs, b.json().outputs);
    assert.equal(a.json().outputs[0].data.length, sample.length);

    // One tensor per column: [N] flat and [N, 1] nested agree too.
    const columns = columnTensors(penguins.inputs, sample);
    const asColumns = columns.map((c) => ({ ...c, shape: [sample.length, 1], data: (c.data ?? []).map((v) => [v]) }));
    const c = await infer('penguins', { inputs: columns });
    const d = await infer('penguins', { inputs: asColumns });
    assert.equal(d.statusCode, 200, d.body);
    assert.deepEqual(c.json().outputs, d.json().outputs);
  });

  it('7. id is echoed, and absent when not sent; model_name is present, and model_version since Kiln versions models', async () => {
    const inputs = columnTensors(penguins.inputs, rows.slice(0, 1));
    const withId = (await infer('penguins', { id: 'req-42', inputs })).json();
    assert.equal(withId.id, 'req-42');
    assert.equal(withId.model_name, 'penguins');
    assert.equal(withId.model_version, '3');
    const without = (await infer('penguins', { inputs })).json();
    assert.ok(!('id' in without));
    assert.equal(without.model_name, 'penguins');
    assert.equal(without.model_version, '3');
    const massRows = penguinRows(ROWS, 'Body Mass (g)');
    const byModelName = (await infer('mass', { inputs: columnTensors(mass.inputs, massRows) }, 'penguin-mass')).json();
    assert.equal(byModelName.model_name, 'penguin-mass');
    assert.equal(byModelName.model_version, '2');
  });

  it('8. an outputs filter returns only the requested outputs; an unknown output name is an error', async () => {
    const inputs = columnTensors(penguins.inputs, rows.slice(0, 3));
    const all = (await infer('penguins', { inputs })).json();
    assert.deepEqual(
      all.outputs.map((o: Tensor) => o.name),
      ['prediction', 'probabilities'],
    );
    const only = (await infer('penguins', { inputs, outputs: [{ name: 'probabilities' }] })).json();
    assert.deepEqual(
      only.outputs.map((o: Tensor) => o.name),
      ['probabilities'],
    );
    assert.deepEqual(only.outputs[0], all.outputs[1]);
    assert.deepEqual(only.outputs[0].shape, [3, 3]);
    const unknown = await infer('penguins', { inputs, outputs: [{ name: 'prediction' }, { name: 'logits' }] });
    assert.match(assertErrorBody(unknown, 400), /^outputs\[1\]\.name: .*logits/);
    // A regressor offers no probabilities.
    const regressorRows = penguinRows(ROWS, 'Body Mass (g)');
    const noProbabilities = await infer(
      'mass',
      { inputs: columnTensors(mass.inputs, regressorRows), outputs: [{ name: 'probabilities' }] },
      'penguin-mass',
    );
    assert.match(assertErrorBody(noProbabilities, 400), /outputs\[0\]\.name/);
  });

  it('9. 400 with {error} for missing inputs/name/shape/datatype, unknown datatype (fp32), count ≠ product(shape), wrong JSON type, unknown or missing input, wrong rank or fixed dimension', async () => {
    const good = columnTensors(penguins.inputs, rows.slice(0, 2));
    const withFirst = (patch: Row) => [{ ...good[0], ...patch }, ...good.slice(1)];
    const without = (key: string) => [
      Object.fromEntries(Object.entries(good[0] as Row).filter(([k]) => k !== key)),
      ...good.slice(1),
    ];
    const cases: [string, unknown, RegExp][] = [
      ['missing inputs', { id: 'x' }, /^inputs: is required/],
      ['inputs not an array', { inputs: {} }, /^inputs: is an object/],
      ['missing name', { inputs: without('name') }, /^inputs\[0\]\.name: is required/],
      ['missing shape', { inputs: without('shape') }, /^inputs\[0\]\.shape: is required/],
      ['missing datatype', { inputs: without('datatype') }, /^inputs\[0\]\.datatype: is required/],
      ['missing data', { inputs: without('data') }, /^inputs\[0\]\.data: is required/],
      [
        'lowercase datatype',
        { inputs: withFirst({ datatype: 'fp32' }) },
        /^inputs\[0\]\.datatype: is "fp32"; datatypes are case-sensitive/,
      ],
      ['unknown datatype', { inputs: withFirst({ datatype: 'STRING' }) }, /^inputs\[0\]\.datatype: is "STRING"/],
      ['negative dimension', { inputs: withFirst({ shape: [-1] }) }, /^inputs\[0\]\.shape\[0\]: is -1/],
      [
        'count ≠ product(shape)',
        { inputs: withFirst({ shape: [3] }) },
        /^inputs\[0\]\.data: has 2 elements; shape \[3\] needs 3/,
      ],
      [
        'number for BYTES',
        { inputs: withFirst({ data: ['Biscoe', 7] }) },
        /^inputs\[0\]\.data\[1\]: is a number; BYTES data must be strings/,
      ],
      [
        'string for FP64',
        { inputs: good.map((g, i) => (i === 2 ? { ...g, data: ['39.1', 40] } : g)) },
        /^inputs\[2\]\.data\[0\]: is a string; FP64 data must be finite numbers/,
      ],
      [
        'BYTES for a numeric input',
        { inputs: good.map((g, i) => (i === 2 ? { ...g, datatype: 'BYTES', data: ['a', 'b'] } : g)) },
        /^inputs\[2\]\.datatype: is BYTES; the model input "Beak Length \(mm\)"/,
      ],
      [
        'unknown input',
        { inputs: [...good, { name: 'Colour', datatype: 'BYTES', shape: [2], data: ['a', 'b'] }] },
        /^inputs\[6\]\.name: is "Colour", not an input of the model/,
      ],
      ['missing model input', { inputs: good.slice(1) }, /^inputs\.Island: missing; the model needs it/],
      ['repeated input', { inputs: [...good, good[0]] }, /^inputs\[6\]\.name: repeats the input "Island"/],
      [
        'wrong rank',
        { inputs: withFirst({ shape: [1, 1, 2] }) },
        /^inputs\[0\]\.shape: is \[1, 1, 2\]; a tensor for one input is \[N\] or \[N, 1\]/,
      ],
      ['wrong fixed dimension', { inputs: withFirst({ shape: [1, 2] }) }, /^inputs\[0\]\.shape: is \[1, 2\]/],
      [
        'rows disagree',
        { inputs: withFirst({ shape: [1], data: ['Biscoe'] }) },
        /^inputs\[1\]\.shape: has 2 rows but inputs\[0\] has 1/,
      ],
      [
        'null where the model needs a value',
        { inputs: withFirst({ data: ['Biscoe', null] }) },
        /^inputs\[0\]\.data\[1\]: missing; the model needs it/,
      ],
      [
        'matrix of the wrong width',
        { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }] },
        /^inputs\[0\]\.shape: is \[1, 3\]; a single 2-D tensor needs one column per model input, 6/,
      ],
      ['body not an object', [1, 2], /^body: is an array/],
      ['id not a string', { id: 7, inputs: good }, /^id: is a number/],
    ];
    for (const [name, payload, pattern] of cases) {
      const res = await infer('penguins', payload);
      assert.match(assertErrorBody(res, 400), pattern, name);
    }
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/conformance/penguins/v2/models/penguins/infer',
      headers: { 'content-type': 'application/json' },
      payload: '{"inputs": [',
    });
    assert.match(assertErrorBody(malformed, 400), /not valid JSON/);
  });

  it('10. BOOL accepts JSON booleans, BYTES accepts strings, and INT64 edge values (±2^63) are rejected explicitly', async () => {
    const sample = ROWS.slice(0, 8);
    const typedRows = typedPenguinRows(sample);
    const tensors: Tensor[] = [
      { name: 'Island', datatype: 'BYTES', shape: [8], data: typedRows.map((r) => r.Island) },
      { name: 'Male', datatype: 'BOOL', shape: [8], data: typedRows.map((r) => r.Male ?? false) },
      {
        name: 'Flipper Length (mm)',
        datatype: 'INT64',
        shape: [8],
        data: typedRows.map((r) => r['Flipper Length (mm)'] ?? 0),
      },
      { name: 'Beak Length (mm)', datatype: 'FP64', shape: [8], data: typedRows.map((r) => r['Beak Length (mm)']) },
    ];
    const res = await infer('typed', { inputs: tensors });
    assert.equal(res.statusCode, 200, res.body);
    const expected = await t.app.inject({
      method: 'POST',
      url: '/conformance/typed/predict',
      payload: {
        rows: typedRows.map((r) => ({
          ...r,
          Male: r.Male ?? false,
          'Flipper Length (mm)': r['Flipper Length (mm)'] ?? 0,
        })),
      },
    });
    assert.deepEqual(res.json().outputs[0].data, expected.json().predictions);

    const boolAsNumber = await infer('typed', {
      inputs: tensors.map((x) => (x.name === 'Male' ? { ...x, data: (x.data ?? []).map(() => 1) } : x)),
    });
    assert.match(
      assertErrorBody(boolAsNumber, 400),
      /^inputs\[1\]\.data\[0\]: is a number; BOOL data must be true or false/,
    );

    for (const edge of ['9223372036854775807', '-9223372036854775808']) {
      const body = JSON.stringify({ inputs: tensors }).replace(
        /("Flipper Length \(mm\)","datatype":"INT64","shape":\[8\],"data":\[)\d+/,
        `$1${edge}`,
      );
      assert.ok(body.includes(edge));
      const big = await t.app.inject({
        method: 'POST',
        url: '/conformance/typed/v2/models/typed/infer',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      assert.match(
        assertErrorBody(big, 400),
        /^inputs\[2\]\.data\[0\]: is -?9223372036854776000, beyond ±2\^53 - 1: INT64 values/,
      );
    }
  });

  it('11. unknown parameters are ignored, not rejected; parameter values are scalar', async () => {
    const inputs = columnTensors(penguins.inputs, rows.slice(0, 2)).map((x, i) =>
      i === 0 ? { ...x, parameters: { content_type: 'str' } } : x,
    );
    const res = await infer('penguins', { parameters: { priority: 1, trace: true, note: 'hello' }, inputs });
    assert.equal(res.statusCode, 200, res.body);
    const nested = await infer('penguins', { parameters: { headers: { a: 'b' } }, inputs });
    assert.match(
      assertErrorBody(nested, 400),
      /^parameters\.headers: is an object; parameter values are strings, numbers or booleans/,
    );
    const nestedOnInput = await infer('penguins', {
      inputs: inputs.map((x, i) => (i === 1 ? { ...x, parameters: { list: [1] } } : x)),
    });
    assert.match(assertErrorBody(nestedOnInput, 400), /^inputs\[1\]\.parameters\.list: is an array/);
  });

  it('12. binary tensor data: missing header, sizes that do not add up, BYTES length prefixes, binary_data / binary_data_output precedence, response header and chunk order', async () => {
    const sample = rows.slice(0, 4);
    const jsonAnswer = (await infer('penguins', { inputs: columnTensors(penguins.inputs, sample) })).json();
    // Island as binary BYTES, Beak Length as binary FP64, the rest as JSON.
    const island = bytesChunk(sample.map((r) => r.Island as string));
    const beak = fp64(sample.map((r) => r['Beak Length (mm)'] as number | null));
    const tensors = columnTensors(penguins.inputs, sample).map((x) => {
      if (x.name === 'Island')
        return { name: x.name, datatype: 'BYTES', shape: [4], parameters: { binary_data_size: island.length } };
      if (x.name === 'Beak Length (mm)')
        return { name: x.name, datatype: 'FP64', shape: [4], parameters: { binary_data_size: beak.length } };
      return x;
    });
    const send = (json: Row, binary: Buffer, header?: number) =>
      t.app.inject({
        method: 'POST',
        url: '/conformance/penguins/v2/models/penguins/infer',
        headers: {
          'content-type': 'application/octet-stream',
          ...(header === undefined ? {} : { 'inference-header-content-length': String(header) }),
        },
        payload: Buffer.concat([Buffer.from(JSON.stringify(json)), binary]),
      });
    const head = (json: Row) => Buffer.byteLength(JSON.stringify(json));

    const request = { id: 'bin-1', inputs: tensors };
    const ok = await send(request, Buffer.concat([island, beak]), head(request));
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(
      ok.json().outputs,
      jsonAnswer.outputs,
      'binary inputs (BYTES length prefixes walked) answer as JSON ones do',
    );

    // A missing header with trailing bytes.
    assert.match(
      assertErrorBody(await send(request, Buffer.concat([island, beak])), 400),
      /not valid JSON.*Inference-Header-Content-Length/,
    );
    // Sizes that do not add up: too few bytes, too many, and a size that is not the shape's.
    assert.match(
      assertErrorBody(await send(request, island, head(request)), 400),
      /binary_data_size: declares \d+ bytes but only 0 bytes/,
    );
    assert.match(
      assertErrorBody(await send(request, Buffer.concat([island, beak, Buffer.alloc(3)]), head(request)), 400),
      /^Inference-Header-Content-Length: leaves \d+ bytes of binary data but the inputs' binary_data_size add up to/,
    );
    const wrongSize = {
      inputs: tensors.map((x) => (x.name === 'Beak Length (mm)' ? { ...x, parameters: { binary_data_size: 24 } } : x)),
    };
    assert.match(
      assertErrorBody(await send(wrongSize, Buffer.concat([island, beak.subarray(0, 24)]), head(wrongSize)), 400),
      /^inputs\[2\]\.parameters\.binary_data_size: is 24 bytes; shape \[4\] of FP64 needs 32/,
    );
    const badPrefix = bytesChunk(['Torgersen']);
    badPrefix.writeUInt32LE(1000, 0);
    const onlyIsland = {
      inputs: [{ name: 'Island', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: badPrefix.length } }],
    };
    assert.match(
      assertErrorBody(await send(onlyIsland, badPrefix, head(onlyIsland)), 400),
      /length prefix of 1000 bytes/,
    );

    // binary_data_output for all, overridden per output.
    const mixed = {
      inputs: columnTensors(penguins.inputs, sample),
      parameters: { binary_data_output: true },
      outputs: [{ name: 'prediction', parameters: { binary_data: false } }, { name: 'probabilities' }],
    };
    const mixedRes = await infer('penguins', mixed);
    assert.equal(mixedRes.statusCode, 200);
    const split = splitBinary(mixedRes);
    const [prediction, probabilities] = split.json.outputs as Tensor[];
    assert.deepEqual(prediction, jsonAnswer.outputs[0]);
    assert.equal(probabilities?.data, undefined);
    assert.equal(probabilities?.parameters?.binary_data_size, 4 * 3 * 8);
    assert.equal(split.rest.length, 4 * 3 * 8);
    const decoded = Array.from({ length: 12 }, (_, i) => split.rest.readDoubleLE(i * 8));
    assert.deepEqual(decoded, jsonAnswer.outputs[1].data);

    // Per-output binary_data without the global flag; chunks follow the order of the outputs.
    const both = {
      inputs: columnTensors(penguins.inputs, sample),
      outputs: [
        { name: 'prediction', parameters: { binary_data: true } },
        { name: 'probabilities', parameters: { binary_data: true } },
      ],
    };
    const bothRes = await infer('penguins', both);
    assert.equal(bothRes.headers['content-type'], 'application/octet-stream');
    const bothSplit = splitBinary(bothRes);
    const [p, q] = bothSplit.json.outputs as Tensor[];
    const labelBytes = Number(p?.parameters?.binary_data_size);
    assert.equal(labelBytes, bytesChunk(jsonAnswer.outputs[0].data).length);
    assert.deepEqual(bothSplit.rest.subarray(0, labelBytes), bytesChunk(jsonAnswer.outputs[0].data));
    assert.equal(Number(q?.parameters?.binary_data_size), 96);
    assert.equal(bothSplit.rest.length, labelBytes + 96);
    assert.equal(bothSplit.rest.readDoubleLE(labelBytes), jsonAnswer.outputs[1].data[0]);
  });

  it('13. N parallel requests with distinct ids return correctly matched responses', async () => {
    const sample = rows.slice(0, 12);
    const batch = (await infer('penguins', { inputs: columnTensors(penguins.inputs, sample) })).json();
    const answers = await Promise.all(
      sample.map((row, i) => infer('penguins', { id: `parallel-${i}`, inputs: columnTensors(penguins.inputs, [row]) })),
    );
    answers.forEach((res, i) => {
      const body = res.json();
      assert.equal(body.id, `parallel-${i}`);
      assert.deepEqual(body.outputs[0].data, [batch.outputs[0].data[i]]);
      assert.deepEqual(body.outputs[1].data, batch.outputs[1].data.slice(i * 3, i * 3 + 3));
    });
    assert.ok(new Set(batch.outputs[0].data).size > 1, 'the sample has more than one species');
  });

  it('14. error bodies are always JSON objects with a string error, including 404, 405 and 413', async () => {
    assertErrorBody(await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/models/penguins/stats' }), 404);
    assertErrorBody(await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/nothing/here' }), 404);
    assertErrorBody(
      await t.app.inject({ method: 'POST', url: '/conformance/penguins/v2/models/walrus/infer', payload: {} }),
      404,
    );
    const wrongMethod = await t.app.inject({ method: 'GET', url: '/conformance/penguins/v2/models/penguins/infer' });
    assert.match(assertErrorBody(wrongMethod, 405), /GET is not allowed/);
    assert.equal(wrongMethod.headers.allow, 'POST');
    assertErrorBody(await t.app.inject({ method: 'DELETE', url: '/conformance/penguins/v2/health/ready' }), 405);
    const huge = {
      inputs: [{ name: 'Island', datatype: 'BYTES', shape: [40_000], data: new Array(40_000).fill('Biscoe') }],
    };
    assert.match(assertErrorBody(await infer('penguins', huge), 413), /larger than/);
    assert.match(assertErrorBody(await infer('penguins', { inputs: [] }), 400), /^inputs: is empty/);
  });
});

describe('OIP datatypes over HTTP', () => {
  let t: TestApp;
  let typed: TrainedModelEndpoint;
  before(async () => {
    typed = new TrainedModelEndpoint(await trainTypedPenguinClassifier(), { name: 'typed' });
    t = await createTestApp({}, (app) => {
      void app.register(oipRoutes, { prefix: '/conformance/:deployment', endpoint: endpointLookup([typed]) });
    });
  });
  after(() => t.close());

  it('feeds a numeric input from every integer and float datatype that holds its values, and refuses one that does not', async () => {
    const typedRows = typedPenguinRows(
      PENGUINS.slice(0, 5).filter((r) => r.Sex !== null && r['Flipper Length (mm)'] !== null),
    );
    const n = typedRows.length;
    const tensors = (flipperType: string): Tensor[] => [
      { name: 'Island', datatype: 'BYTES', shape: [n], data: typedRows.map((r) => r.Island) },
      { name: 'Male', datatype: 'BOOL', shape: [n], data: typedRows.map((r) => r.Male) },
      {
        name: 'Flipper Length (mm)',
        datatype: flipperType,
        shape: [n],
        data: typedRows.map((r) => r['Flipper Length (mm)']),
      },
      { name: 'Beak Length (mm)', datatype: 'FP32', shape: [n], data: typedRows.map((r) => r['Beak Length (mm)']) },
    ];
    const send = (payload: unknown) =>
      t.app.inject({ method: 'POST', url: '/conformance/typed/v2/models/typed/infer', payload: payload as object });
    const reference = (await send({ inputs: tensors('FP64') })).json().outputs;
    for (const datatype of ['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32']) {
      const res = await send({ inputs: tensors(datatype) });
      assert.equal(res.statusCode, 200, `${datatype}: ${res.body}`);
      assert.deepEqual(res.json().outputs, reference, datatype);
    }
    // Flipper lengths (≈ 180–230 mm) do not fit INT8.
    const int8 = await send({ inputs: tensors('INT8') });
    assert.equal(int8.statusCode, 400);
    assert.match(int8.json().error, /^inputs\[2\]\.data\[0\]: is \d+, out of the INT8 range -128\.\.127/);
    // A fraction is not an integer, and -1 is not unsigned.
    const fraction = await send({
      inputs: tensors('INT32').map((x, i) =>
        i === 2 ? { ...x, data: (x.data ?? []).map((v) => (v as number) + 0.5) } : x,
      ),
    });
    assert.match(fraction.json().error, /^inputs\[2\]\.data\[0\]: is a number; INT32 data must be whole numbers/);
    const negative = await send({
      inputs: tensors('UINT16').map((x, i) => (i === 2 ? { ...x, data: (x.data ?? []).map(() => -1) } : x)),
    });
    assert.match(negative.json().error, /^inputs\[2\]\.data\[0\]: is -1, out of the UINT16 range 0\.\.65535/);
    // A boolean input takes BOOL (or BYTES), not numbers; an integer input refuses BOOL.
    const boolForInt = await send({
      inputs: tensors('BOOL').map((x, i) => (i === 2 ? { ...x, data: (x.data ?? []).map(() => true) } : x)),
    });
    assert.match(
      boolForInt.json().error,
      /^inputs\[2\]\.datatype: is BOOL; the model input "Flipper Length \(mm\)" \(integer\) takes UINT8/,
    );
    const empty = await send({
      inputs: tensors('INT64').map((x) => ({ ...x, shape: [0], data: [] })),
    });
    assert.equal(empty.statusCode, 200, empty.body);
    assert.deepEqual(empty.json().outputs[0], { name: 'prediction', datatype: 'BYTES', shape: [0], data: [] });
  });
});
