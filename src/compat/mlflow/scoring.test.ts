import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { assertInvalid } from '../../learn/testing/assert.js';
import {
  endpointLookup,
  PENGUINS,
  penguinRows,
  TrainedModelEndpoint,
  trainPenguinClassifier,
} from '../oip/testing/endpoint.js';
import { MLFLOW_WIRE_VERSION } from './routes.js';
import { mlflowScoringRoutes } from './scoring.js';
import { csvTable, parseCsvRecords, parseScoringJson, scoringTable } from './scoring-input.js';

// MLflow's scoring protocol (`mlflow models serve`) over a real Kiln GBDT: every request format,
// CSV, the probes, and MLflow's error body for every kind of bad input.

type Row = Record<string, unknown>;

describe('MLflow scoring protocol', () => {
  let app: FastifyInstance;
  let penguins: TrainedModelEndpoint;
  let small: TrainedModelEndpoint;
  let loading: TrainedModelEndpoint;
  let expected: string[];
  const records = PENGUINS.filter((_, i) => i % 40 === 0);
  const rows = penguinRows(records);
  let names: string[];

  before(async () => {
    const model = await trainPenguinClassifier();
    penguins = new TrainedModelEndpoint(model, { name: 'penguins' });
    small = new TrainedModelEndpoint(model, { name: 'small', policy: { maxBatchRows: 2 } });
    loading = new TrainedModelEndpoint(model, { name: 'loading', loaded: new Promise<void>(() => {}) });
    names = penguins.inputs.map((i) => i.name);
    app = Fastify();
    await app.register(mlflowScoringRoutes, {
      prefix: '/serve/:deployment',
      endpoint: endpointLookup([penguins, small, loading]),
    });
    await app.ready();
    const res = await invocations('penguins', { dataframe_records: rows });
    expected = res.json().predictions;
  });
  after(() => app.close());

  function invocations(deployment: string, payload: unknown, contentType = 'application/json') {
    return app.inject({
      method: 'POST',
      url: `/serve/${deployment}/invocations`,
      headers: { 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  function assertMlflowError(
    res: { statusCode: number; json(): Row },
    status: number,
    errorCode: string,
    pattern: RegExp,
  ): void {
    assert.equal(res.statusCode, status, JSON.stringify(res.json()));
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['error_code', 'message']);
    assert.equal(body.error_code, errorCode);
    assert.match(String(body.message), pattern);
  }

  it('answers {"predictions": [...]} with class labels, the same for every JSON format', async () => {
    assert.equal(expected.length, rows.length);
    assert.ok(expected.every((label) => ['Adelie', 'Chinstrap', 'Gentoo'].includes(label)));
    const lists = rows.map((r) => names.map((n) => r[n] ?? null));
    const columns = Object.fromEntries(names.map((n) => [n, rows.map((r) => r[n] ?? null)]));
    const payloads: unknown[] = [
      { dataframe_split: { columns: names, data: lists } },
      { dataframe_split: { columns: [...names].reverse(), data: lists.map((l) => [...l].reverse()), index: [] } },
      { dataframe_split: { data: lists } },
      { instances: rows },
      { instances: lists },
      { inputs: columns },
      { inputs: rows, params: { temperature: 0 } },
    ];
    for (const payload of payloads) {
      const res = await invocations('penguins', payload);
      assert.equal(res.statusCode, 200, `${JSON.stringify(payload).slice(0, 60)}: ${res.body}`);
      assert.deepEqual(res.json(), { predictions: expected });
    }
  });

  it('reads Python NaN tokens as missing values, as pandas does', async () => {
    const body = JSON.stringify({ dataframe_records: rows }).replace('"Sex":"MALE"', '"Sex":NaN');
    assert.ok(body.includes('NaN'));
    const res = await invocations('penguins', body);
    assert.equal(res.statusCode, 200, res.body);
    const island = JSON.stringify({ dataframe_records: rows }).replace('"Island":"Torgersen"', '"Island":NaN');
    assertMlflowError(
      await invocations('penguins', island),
      400,
      'INVALID_PARAMETER_VALUE',
      /^dataframe_records\[0\]\.Island: missing/,
    );
  });

  it('scores text/csv with a header row, cells typed by the model inputs', async () => {
    const quote = (v: unknown) => (v === null || v === undefined ? '' : `"${String(v).replaceAll('"', '""')}"`);
    const csv = `${names.map(quote).join(',')}\r\n${rows.map((r) => names.map((n) => quote(r[n])).join(',')).join('\r\n')}\r\n`;
    const res = await invocations('penguins', csv, 'text/csv');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { predictions: expected });
    const utf8 = await invocations('penguins', csv, 'text/csv; charset=utf-8');
    assert.equal(utf8.statusCode, 200);

    const badNumber = csv.replace(/,"3750"/, ',"heavy"');
    assert.notEqual(badNumber, csv);
    assertMlflowError(
      await invocations('penguins', badNumber, 'text/csv'),
      400,
      'INVALID_PARAMETER_VALUE',
      /^csv\.line\[2\]\["Body Mass \(g\)"\]: is a string; the model needs a finite number/,
    );
    const short = `${names.join(',')}\nBiscoe,MALE\n`;
    assertMlflowError(
      await invocations('penguins', short, 'text/csv'),
      400,
      'INVALID_PARAMETER_VALUE',
      /^csv\.line\[2\]: has 2 fields; the header has 6/,
    );
    assertMlflowError(await invocations('penguins', '', 'text/csv'), 400, 'INVALID_PARAMETER_VALUE', /^csv: is empty/);
  });

  it('refuses a body that is not one of the formats with MLflow BAD_REQUEST', async () => {
    for (const payload of [
      [rows],
      {},
      { dataframe_records: rows, instances: rows },
      { dataframe_records: rows, columns: names },
      { data: rows },
    ]) {
      assertMlflowError(await invocations('penguins', payload), 400, 'BAD_REQUEST', /exactly one of the input fields/);
    }
  });

  it('refuses bad values with 400 naming the field', async () => {
    const lists = rows.map((r) => names.map((n) => r[n] ?? null));
    const cases: [unknown, RegExp][] = [
      [{ dataframe_split: { columns: names, data: lists, extra: 1 } }, /^dataframe_split\.extra: is not a field/],
      [{ dataframe_split: { columns: names } }, /^dataframe_split\.data: is missing; it must be an array of rows/],
      [
        { dataframe_split: { columns: names, data: [lists[0]?.slice(1)] } },
        /^dataframe_split\.data\[0\]: has 5 values; each row needs 6/,
      ],
      [
        { dataframe_split: { columns: [...names.slice(1), names[1]], data: [lists[0]] } },
        /^dataframe_split\.columns\[5\]: repeats the column "Sex"/,
      ],
      [
        { dataframe_split: { columns: names, data: [lists[0]?.map((v, i) => (i === 2 ? 'long' : v))] } },
        /^dataframe_split\.data\[0\]\[2\]: is a string; the model needs a finite number/,
      ],
      [
        { dataframe_split: { columns: names.slice(1), data: [lists[0]?.slice(1)] } },
        /^dataframe_split\.columns\.Island: missing; the model needs it/,
      ],
      [
        { dataframe_records: [{ ...rows[0], Island: ['Biscoe'] }] },
        /^dataframe_records\[0\]\.Island: is an array; the model needs a categorical value/,
      ],
      [
        { instances: [1, 2] },
        /^instances\[0\]: is a number; for a model of 6 inputs each row must be an object or an array/,
      ],
      [{ inputs: 'Biscoe' }, /^inputs: is a string/],
      [{ inputs: { Island: ['Biscoe'], Sex: 'MALE' } }, /^inputs\.Sex: is a string; each column must be an array/],
      [{ dataframe_records: rows, params: [1] }, /^params: is an array/],
    ];
    for (const [payload, pattern] of cases) {
      const res = await invocations('penguins', payload);
      assert.equal(res.statusCode, 400, `${pattern}: ${res.body}`);
      assert.match(res.json().message, pattern);
    }
    assertMlflowError(
      await invocations('small', { dataframe_records: rows.slice(0, 3) }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^dataframe_records: has 3 rows; one request may carry at most 2/,
    );
    assertMlflowError(
      await invocations('penguins', '{"dataframe_records": ['),
      400,
      'MALFORMED_REQUEST',
      /not valid JSON/,
    );
  });

  it('accepts only application/json and text/csv in UTF-8 (415 otherwise)', async () => {
    const body = { dataframe_records: rows };
    for (const type of ['text/plain', 'application/json; charset=latin-1', 'application/json; format=pandas-split']) {
      assertMlflowError(await invocations('penguins', body, type), 415, 'BAD_REQUEST', /Content-Type/);
    }
    const pandasSplit = await invocations('penguins', body, 'application/json; format=pandas-split');
    assert.match(pandasSplit.json().message, /pre-2\.0 scoring protocol/);
  });

  it('answers /ping and /health 200 once loaded and 503 while loading, and /version', async () => {
    for (const path of ['ping', 'health']) {
      const ok = await app.inject({ method: 'GET', url: `/serve/penguins/${path}` });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.body, '\n');
      const waiting = await app.inject({ method: 'GET', url: `/serve/loading/${path}` });
      assertMlflowError(waiting, 503, 'TEMPORARILY_UNAVAILABLE', /not ready/);
      assert.equal(waiting.headers['retry-after'], '1');
    }
    const version = await app.inject({ method: 'GET', url: '/serve/penguins/version' });
    assert.equal(version.statusCode, 200);
    assert.equal(version.body, MLFLOW_WIRE_VERSION);
  });

  it('answers an unknown deployment 404 and a loading one 503, in MLflow bodies', async () => {
    assertMlflowError(
      await invocations('walruses', { dataframe_records: rows }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      /walruses/,
    );
    const waiting = await invocations('loading', { dataframe_records: rows });
    assertMlflowError(waiting, 503, 'TEMPORARILY_UNAVAILABLE', /not ready/);
  });

  it('passes the x-kiln-route-key header on and names the protocol', async () => {
    await app.inject({
      method: 'POST',
      url: '/serve/penguins/invocations',
      headers: { 'content-type': 'application/json', 'x-kiln-route-key': 'user-9' },
      payload: JSON.stringify({ dataframe_records: rows }),
    });
    const sent = penguins.requests.at(-1);
    assert.equal(sent?.routeKey, 'user-9');
    assert.equal(sent?.protocol, 'mlflow');
  });
});

describe('scoring input parsing', () => {
  const inputs = [
    { name: 'zip', kind: 'categorical', type: 'categorical', nullable: true },
    { name: 'miles', kind: 'float', type: 'float', nullable: true },
    { name: 'when', kind: 'datetime', type: 'datetime', nullable: true },
  ] as const;

  it('splits CSV with quotes, doubled quotes, embedded commas and newlines, CRLF and a BOM', () => {
    assert.deepEqual(parseCsvRecords('\uFEFFa,b\r\n"x, ""y""","line\nbreak"\n\n3,\n'), [
      ['a', 'b'],
      ['x, "y"', 'line\nbreak'],
      ['3', ''],
    ]);
    assertInvalid(() => parseCsvRecords('a\n"open'), 'csv', /ends inside a quoted field/);
  });

  it('types CSV cells by the model inputs: a zip code stays text, numbers parse, pandas missing spellings are null', () => {
    const table = csvTable('zip,miles,when,other\n02134,12.5,978739200000,07\nNA,,2001-01-06,x\n', inputs);
    assert.deepEqual(table.columns.get('zip'), ['02134', null]);
    assert.deepEqual(table.columns.get('miles'), [12.5, null]);
    assert.deepEqual(table.columns.get('when'), [978739200000, '2001-01-06']);
    assert.deepEqual(table.columns.get('other'), ['07', 'x']);
    assert.equal(table.fieldOf('miles', 1), 'csv.line[3].miles');
    assertInvalid(() => csvTable('zip,zip\n1,2\n', inputs), 'csv.header[1]', /repeats the column/);
  });

  it('reads dataframe_split by position when columns are absent, naming cells by row and position', () => {
    const table = scoringTable({ dataframe_split: { data: [['02134', 3, null]] } }, inputs);
    assert.deepEqual(table.columns.get('miles'), [3]);
    assert.equal(table.fieldOf('miles', 0), 'dataframe_split.data[0][1]');
  });

  it('parses bare NaN / Infinity tokens as missing values and leaves strings alone', () => {
    assert.deepEqual(parseScoringJson('{"inputs": {"miles": [NaN, 1, Infinity], "zip": ["NaN"]}}'), {
      inputs: { miles: [null, 1, null], zip: ['NaN'] },
    });
  });
});
