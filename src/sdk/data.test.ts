import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { KilnError } from '../core/index.js';
import { KilnClient } from './client.js';
import { RunHandle } from './run-handle.js';
import type { DatasetVersion, RunInfo } from './types.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A tiny HTTP peer that records every request (body as bytes) and answers as the test says. */
async function startPeer(): Promise<{ url: string; seen: Seen[]; handle: { current: Handler }; server: Server }> {
  const seen: Seen[] = [];
  const handle = { current: ((_req, res) => res.end()) as Handler };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      handle.current(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, handle, server };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const VERSION: DatasetVersion = {
  dataset_name: 'penguins',
  version: 3,
  digest: 'ab'.repeat(32),
  source_kind: 'upload',
  source: 'penguins.csv',
  format: 'csv',
  row_count: 344,
  column_count: 3,
  inputs: [],
  created_at: '2025-01-01T00:00:00.000Z',
  created_by: 'anonymous',
  schema: {
    columns: [
      { name: 'species', logical_type: 'categorical', physical_type: 'VARCHAR', nullable: false, domain: ['Adelie'] },
      { name: 'mass', logical_type: 'integer', physical_type: 'BIGINT', nullable: true },
      { name: 'depth', logical_type: 'float', physical_type: 'FLOAT', nullable: true },
    ],
  },
};

describe('DataApi transfers', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let kiln: KilnClient;
  let scratch: string;
  before(async () => {
    peer = await startPeer();
    kiln = new KilnClient({ baseUrl: peer.url, retryDelayMs: 1 });
    scratch = await mkdtemp(join(tmpdir(), 'kiln-sdk-data-'));
  });
  after(async () => {
    await new Promise((resolve) => peer.server.close(resolve));
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    peer.seen.length = 0;
  });

  it('uploads the file bytes as a raw body named by the query, and never retries the POST', async () => {
    const file = join(scratch, 'weather.csv');
    await writeFile(file, 'date;rain\n2012-01-01;0.5\n');
    peer.handle.current = (_req, res) => json(res, 503, { code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' });
    await assert.rejects(
      kiln.data.uploadFile('weather', file, { format: 'csv', csv: { delimiter: ';', header: true } }),
      { code: 'TEMPORARILY_UNAVAILABLE' },
    );
    assert.equal(peer.seen.length, 1);
    const [request] = peer.seen;
    assert.equal(request?.method, 'POST');
    const url = new URL(request?.url ?? '', peer.url);
    assert.equal(url.pathname, '/api/v1/datasets/weather/versions/upload');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      filename: 'weather.csv',
      format: 'csv',
      delimiter: ';',
      header: 'true',
    });
    assert.equal(request?.headers['content-type'], 'application/octet-stream');
    assert.equal(request?.body.toString('utf8'), 'date;rain\n2012-01-01;0.5\n');
  });

  it('refuses a path that is not a file before sending anything', async () => {
    await assert.rejects(kiln.data.uploadFile('weather', scratch), (error: KilnError) => {
      assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
      assert.match(error.message, /not a file/);
      return true;
    });
    assert.equal(peer.seen.length, 0);
  });

  it('streams a download to disk, and leaves no file behind when the server refuses', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    peer.handle.current = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.apache.parquet' });
      res.end(bytes);
    };
    const target = join(scratch, 'penguins.parquet');
    assert.equal(await kiln.data.download('penguins', 3, { to: target }), bytes.length);
    assert.deepEqual(await readFile(target), bytes);
    assert.equal(new URL(peer.seen[0]?.url ?? '', peer.url).pathname, '/api/v1/datasets/penguins/versions/3/download');

    peer.handle.current = (_req, res) => json(res, 404, { code: 'RESOURCE_DOES_NOT_EXIST', message: 'no version 9' });
    const missing = join(scratch, 'missing.csv');
    await assert.rejects(kiln.data.download('penguins', 9, { format: 'csv', to: missing }), {
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
    await assert.rejects(access(missing), { code: 'ENOENT' });
  });

  it('logDatasetVersion sends an MLflow dataset input with a kiln:// source and a column spec', async () => {
    peer.handle.current = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const info = { run_id: 'r1', experiment_id: '0' } as RunInfo;
    const run = new RunHandle(kiln.tracking, info);
    await run.logDatasetVersion(VERSION, { context: 'training' });
    assert.equal(peer.seen.length, 1);
    assert.equal(peer.seen[0]?.url, '/api/v1/runs/r1/inputs');
    const body = JSON.parse(peer.seen[0]?.body.toString('utf8') ?? '') as {
      datasets: { dataset: Record<string, string>; tags: unknown[] }[];
    };
    const [input] = body.datasets;
    assert.deepEqual(input?.tags, [{ key: 'mlflow.data.context', value: 'training' }]);
    assert.equal(input?.dataset.name, 'penguins');
    assert.equal(input?.dataset.digest, VERSION.digest);
    assert.equal(input?.dataset.source_type, 'kiln');
    assert.deepEqual(JSON.parse(input?.dataset.source ?? ''), { uri: 'kiln://datasets/penguins/versions/3' });
    assert.deepEqual(JSON.parse(input?.dataset.schema ?? ''), {
      mlflow_colspec: [
        { type: 'string', name: 'species', required: true },
        { type: 'long', name: 'mass', required: false },
        { type: 'float', name: 'depth', required: false },
      ],
    });
    assert.deepEqual(JSON.parse(input?.dataset.profile ?? ''), { num_rows: 344, num_elements: 1032 });
  });
});
