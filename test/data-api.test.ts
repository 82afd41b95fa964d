import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';

const data = fileURLToPath(new URL('../node_modules/vega-datasets/data/', import.meta.url));
const WEATHER = `${data}seattle-weather.csv`;
const PENGUINS = `${data}penguins.json`;

/** A JSON answer; its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: responses are untyped JSON whose fields the tests assert one by one
type Wire = Record<string, any>;

/** POSTs `chunks` × 40 kB with chunked transfer encoding (node:http: it reads an early answer, fetch does not). */
function chunkedUpload(url: string, chunks: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(Buffer.from('a,b\n'.repeat(10_000)))) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

describe('datasets API over HTTP: upload, derive, split, suites, preview, download, lineage', () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    t = await createTestApp({ KILN_UPLOAD_LIMIT: '2mb' });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await t?.close();
  });

  const json = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Wire };
  };

  it('streams a raw upload and a multipart upload to one digest', async () => {
    assert.equal((await json('POST', '/api/v1/datasets', { name: 'weather' })).status, 201);
    const raw = await fetch(`${base}/api/v1/datasets/weather/versions/upload?filename=seattle-weather.csv`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(WEATHER)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(raw.status, 201, await raw.clone().text());
    const v1 = ((await raw.json()) as { version: Wire }).version;
    assert.equal(v1.row_count, 1461);
    assert.equal(v1.source_kind, 'upload');
    assert.equal(
      v1.digest,
      createHash('sha256')
        .update(await readFile(WEATHER))
        .digest('hex'),
    );

    const form = new FormData();
    form.append('file', new Blob([await readFile(WEATHER)]), 'seattle-weather.csv');
    const multi = await fetch(`${base}/api/v1/datasets/weather/versions/upload`, { method: 'POST', body: form });
    assert.equal(multi.status, 201, await multi.clone().text());
    const v2 = ((await multi.json()) as { version: Wire }).version;
    assert.equal(v2.version, 2);
    assert.equal(v2.digest, v1.digest);
  });

  it('answers bad uploads with 4xx naming the problem', async () => {
    const tooBig = await fetch(`${base}/api/v1/datasets/weather/versions/upload?filename=big.csv`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'a,b\n'.repeat(1_000_000),
    });
    assert.equal(tooBig.status, 413);
    // Chunked, so the size is unknown until the limit is crossed mid-stream; the answer is still a 413.
    const chunked = await chunkedUpload(`${base}/api/v1/datasets/weather/versions/upload?filename=big.csv`, 100);
    assert.equal(chunked.status, 413);
    assert.equal((JSON.parse(chunked.body) as { details: { field: string } }).details.field, 'file');
    const noFormat = await fetch(`${base}/api/v1/datasets/weather/versions/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'a,b\n1,2\n',
    });
    assert.equal(noFormat.status, 400);
    assert.equal(((await noFormat.json()) as { details: { field: string } }).details.field, 'format');
    const garbage = await fetch(`${base}/api/v1/datasets/weather/versions/upload?format=parquet&filename=x.parquet`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'this is not parquet',
    });
    assert.equal(garbage.status, 400);
    const missing = await fetch(`${base}/api/v1/datasets/nobody/versions/upload?filename=x.csv`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'a\n1\n',
    });
    assert.equal(missing.status, 404);
    assert.equal((await json('GET', '/api/v1/datasets/weather/versions')).body.versions.length, 2);
  });

  it('derives, splits, previews, downloads and shows schema and PII', async () => {
    const derived = await json('POST', '/api/v1/datasets/sunny/derive', {
      sql: "select date, temp_max, temp_min from dataset('weather', 1) where weather = 'sun'",
    });
    assert.equal(derived.status, 201, JSON.stringify(derived.body));
    assert.deepEqual(derived.body.version.inputs, [{ dataset: 'weather', version: 1, role: 'sql' }]);
    const bad = await json('POST', '/api/v1/datasets/sunny/derive', { sql: "select * from read_csv('/etc/passwd')" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details.field, 'sql');

    const split = await json('POST', '/api/v1/datasets/weather/versions/1/split', {
      method: 'random',
      seed: 7,
      fractions: { train: 0.7, validation: 0.15, test: 0.15 },
    });
    assert.equal(split.status, 201, JSON.stringify(split.body));
    const sizes = ['train', 'validation', 'test'].map((part) => split.body[part].row_count as number);
    assert.equal(
      sizes.reduce((a, b) => a + b),
      1461,
    );
    const badSplit = await json('POST', '/api/v1/datasets/weather/versions/1/split', {
      method: 'stratified',
      fractions: { train: 0.7, validation: 0.15, test: 0.15 },
    });
    assert.equal(badSplit.status, 400);
    assert.equal(badSplit.body.details.field, 'column');

    const rows = await json('GET', '/api/v1/datasets/weather/versions/1/rows?offset=1460&limit=10');
    assert.equal(rows.status, 200);
    assert.equal(rows.body.rows.length, 1);
    assert.equal(rows.body.total, 1461);
    assert.equal(rows.body.next_offset, undefined);
    const first = await json('GET', '/api/v1/datasets/weather/versions/1/rows?limit=2');
    assert.equal(first.body.next_offset, 2);
    assert.deepEqual(
      first.body.columns.map((c: { name: string }) => c.name),
      ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'weather'],
    );

    const schema = await json('GET', '/api/v1/datasets/weather/versions/1/schema');
    assert.equal(
      schema.body.schema.columns.find((c: { name: string }) => c.name === 'weather').logical_type,
      'categorical',
    );

    const parquet = await fetch(`${base}/api/v1/datasets/weather/versions/1/download`);
    assert.equal(parquet.status, 200);
    assert.equal(parquet.headers.get('content-type'), 'application/vnd.apache.parquet');
    assert.equal(
      Buffer.from(await parquet.arrayBuffer())
        .subarray(0, 4)
        .toString(),
      'PAR1',
    );
    const csv = await fetch(`${base}/api/v1/datasets/weather/versions/1/download?format=csv`);
    assert.equal((await csv.text()).trim().split('\n').length, 1462);

    const pii = await json('GET', '/api/v1/datasets/weather/versions/1/pii');
    assert.equal(pii.status, 200);
    assert.deepEqual(
      pii.body.pii.columns.filter((c: { flagged: boolean }) => c.flagged),
      [],
    );
  });

  it('saves suites as versions, attaches one and rejects a failing version with 422 and the report', async () => {
    const yaml = [
      'name: weather-checks',
      'expectations:',
      '  - type: between',
      '    column: temp_max',
      '    min: -20',
      '    max: 45',
      '  - type: in_set',
      '    column: weather',
      '    values: [drizzle, rain, sun, snow, fog]',
    ].join('\n');
    const saved = await json('POST', '/api/v1/suites', { yaml });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    assert.equal(saved.body.suite.version, 1);
    assert.equal((await json('POST', '/api/v1/suites', { yaml })).body.suite.version, 2);
    const broken = await json('POST', '/api/v1/suites', {
      yaml: 'name: x\nexpectations:\n  - type: between\n    colum: a',
    });
    assert.equal(broken.status, 400);
    assert.match(broken.body.details.field, /^expectations\[0\]/);

    const attached = await json('PUT', '/api/v1/datasets/weather/suite', { name: 'weather-checks', version: 1 });
    assert.equal(attached.status, 200);
    assert.deepEqual(attached.body.dataset.suite, { name: 'weather-checks', version: 1 });
    assert.equal((await json('PUT', '/api/v1/datasets/weather/suite', { name: 'nope' })).status, 404);

    const hot = await json('POST', '/api/v1/datasets/weather/derive', {
      sql: "select * replace (case when date < '2012-01-04' then 60.0 else temp_max end as temp_max) from dataset('weather', 1)",
    });
    assert.equal(hot.status, 422, JSON.stringify(hot.body));
    assert.equal(hot.body.code, 'VALIDATION_FAILED');
    assert.equal(hot.body.error_code, 'INVALID_PARAMETER_VALUE', 'the MLflow-style name of the same error');
    const between = hot.body.details.report.results.find((r: { type: string }) => r.type === 'between');
    assert.equal(between.unexpected_count, 3);
    assert.equal((await json('GET', '/api/v1/datasets/weather/versions')).body.versions.length, 2);

    const onDemand = await json('POST', '/api/v1/datasets/weather/versions/1/validate', { suite: 'weather-checks' });
    assert.equal(onDemand.status, 200);
    assert.equal(onDemand.body.report.success, true);
    assert.equal(onDemand.body.report.suite_version, 2, 'the latest saved version ran');
    const inline = await json('POST', '/api/v1/datasets/weather/versions/1/validate', {
      definition: { expectations: [{ type: 'not_null', column: 'no_such_column' }] },
    });
    assert.equal(inline.body.report.success, false);
    assert.match(inline.body.report.results[0].error, /no_such_column/);
    assert.equal((await json('DELETE', '/api/v1/datasets/weather/suite')).body.dataset.suite, undefined);
  });

  it('links dataset versions to the runs that logged them and the models those runs produced', async () => {
    await json('POST', '/api/v1/datasets', { name: 'penguins' });
    const upload = await fetch(`${base}/api/v1/datasets/penguins/versions/upload?filename=penguins.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: await readFile(PENGUINS),
    });
    const version = ((await upload.json()) as { version: Wire }).version;
    const split = await json('POST', '/api/v1/datasets/penguins/versions/1/split', {
      method: 'stratified',
      column: 'Species',
      fractions: { train: 0.8, validation: 0, test: 0.2 },
    });
    assert.equal(split.status, 201, JSON.stringify(split.body));
    assert.equal(split.body.validation, undefined);
    const train = split.body.train;

    // A run logs the train split through the stock MLflow log-inputs call.
    const run = await json('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: Date.now() });
    const runId = run.body.run.info.run_id as string;
    const logged = await json('POST', '/api/2.0/mlflow/runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          dataset: {
            name: 'penguins.train',
            digest: train.digest,
            source_type: 'kiln',
            source: JSON.stringify({ uri: 'kiln://datasets/penguins.train/versions/1' }),
          },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
      ],
    });
    assert.equal(logged.status, 200, JSON.stringify(logged.body));
    const model = await json('POST', '/api/v1/models', { name: 'penguin-classifier' });
    assert.equal(model.status, 201);
    const mv = await json('POST', '/api/v1/models/penguin-classifier/versions', {
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    assert.equal(mv.status, 201, JSON.stringify(mv.body));

    const lineage = await json('GET', `/api/v1/datasets/penguins/versions/${version.version}/lineage`);
    assert.equal(lineage.status, 200, JSON.stringify(lineage.body));
    const { root, nodes, edges } = lineage.body.lineage;
    assert.equal(root, 'dataset:penguins@1');
    assert.deepEqual(
      nodes.map((n: { id: string }) => n.id).sort(),
      [
        'dataset:penguins.test@1',
        'dataset:penguins.train@1',
        'dataset:penguins@1',
        'model:penguin-classifier@1',
        `run:${runId}`,
      ].sort(),
    );
    assert.deepEqual(
      edges.map((e: { from: string; to: string; role: string }) => `${e.from} -${e.role}-> ${e.to}`).sort(),
      [
        `dataset:penguins.train@1 -input:training-> run:${runId}`,
        'dataset:penguins@1 -split:test-> dataset:penguins.test@1',
        'dataset:penguins@1 -split:train-> dataset:penguins.train@1',
        `run:${runId} -produced-> model:penguin-classifier@1`,
      ].sort(),
    );
    const missing = await json('GET', '/api/v1/datasets/penguins/versions/9/lineage');
    assert.equal(missing.status, 404);
  });
});
