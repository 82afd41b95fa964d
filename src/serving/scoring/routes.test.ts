import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { PENGUINS_JSON } from '../../data/testing/fixtures.js';
import { trainModel } from '../../learn/index.js';
import type { Worker } from '../../store/index.js';
import { testDatabases } from '../../store/testing/databases.js';
import { openScoringHarness, type ScoringHarness } from './testing/harness.js';
import { type RegisteredRoute, scoringTestApp } from './testing/http.js';
import { registerModel } from './testing/loader.js';

const [sqlite] = await testDatabases();
const base = '/api/v1/scoring-jobs';

/** A JSON answer; its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: responses are untyped JSON whose fields the tests assert one by one
type Wire = Record<string, any>;

describe('scoring-jobs REST routes', () => {
  let h: ScoringHarness;
  let app: FastifyInstance;
  let routes: RegisteredRoute[];
  let worker: Worker;
  before(async () => {
    if (sqlite === undefined) throw new Error('no SQLite target');
    h = await openScoringHarness(await sqlite.create());
    await h.datasets.create(h.ctx, { name: 'penguins' });
    await h.datasets.ingestVersion(h.ctx, 'penguins', { path: PENGUINS_JSON });
    const frame = await h.datasets.readColumns(h.ctx, 'penguins', 1);
    const { model } = await trainModel(frame, {
      task: 'classification',
      target: 'Species',
      model: 'logistic',
      params: {},
    });
    await registerModel(h, 'penguins', model, 'champion');
    ({ app, routes } = await scoringTestApp(h.scoring));
    worker = h.scoring.process();
  });
  after(async () => {
    await worker?.close();
    await app?.close();
    await h?.close();
  });

  const call = async (
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
  ): Promise<{ status: number; body: Wire }> => {
    const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
    return { status: res.statusCode, body: res.json() as Wire };
  };

  it('declares write for submitting and read for following', () => {
    assert.deepEqual(
      routes.filter((r) => r.method !== 'HEAD').map((r) => [r.method, r.url, r.permission]),
      [
        ['POST', base, 'write'],
        ['GET', `${base}/:id`, 'read'],
        ['GET', base, 'read'],
      ],
    );
  });

  it('answers 202 with the queued job in snake_case, then the succeeded job with its output version', async () => {
    const submitted = await call('POST', base, {
      model: 'models:/penguins@champion',
      data: 'penguins',
      out: 'penguins-scored',
      chunk_rows: 200,
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = submitted.body.job;
    assert.match(job.id, /^score-[0-9a-f]+$/);
    assert.equal(job.state, 'queued');
    assert.deepEqual(job.request, {
      model: 'models:/penguins@champion',
      data: 'penguins',
      out: 'penguins-scored',
      chunk_rows: 200,
    });
    assert.deepEqual(job.model, { name: 'penguins', version: 1 });
    assert.deepEqual(job.input, { dataset: 'penguins', version: 1 });
    assert.deepEqual(job.progress, { rows_scored: 0, total_rows: 344, chunks_done: 0, total_chunks: 2 });
    let current: Wire = job;
    while (current.state === 'queued' || current.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const got = await call('GET', `${base}/${job.id}`);
      assert.equal(got.status, 200);
      current = got.body.job;
    }
    assert.equal(current.state, 'succeeded', current.error);
    assert.deepEqual(current.output, { dataset: 'penguins-scored', version: 1 });
    assert.deepEqual(current.progress, { rows_scored: 344, total_rows: 344, chunks_done: 2, total_chunks: 2 });
    assert.ok(typeof current.started_at === 'string' && typeof current.finished_at === 'string');
    const listed = await call('GET', `${base}?max_results=10`);
    assert.deepEqual(
      listed.body.jobs.map((j: Wire) => j.id),
      [job.id],
    );
    const version = await h.datasets.getVersion(h.ctx, 'penguins-scored', 1);
    assert.equal(version.schema.columns.find((c) => c.name === 'prediction')?.logicalType, 'categorical');
  });

  it('answers 404 naming the field for an unknown model, dataset or job, and 400 for a malformed request', async () => {
    const ok = { model: 'models:/penguins/1', data: 'penguins@1', out: 'x' };
    const cases: [Wire, number, string | undefined, RegExp][] = [
      [{ ...ok, model: 'models:/gulls/1' }, 404, 'model', /gulls/],
      [{ ...ok, data: 'gulls' }, 404, 'data', /gulls/],
      [{ ...ok, data: 'penguins@2' }, 404, 'data', /no version 2/],
      [{ ...ok, model: 'penguins' }, 400, 'model', /do not read files/],
      [{ ...ok, chunk_rows: 0 }, 400, undefined, /chunk_rows/],
      [{ ...ok, chunkRows: 10 }, 400, undefined, /chunkRows/],
      [{ model: ok.model, data: ok.data }, 400, undefined, /out/],
    ];
    for (const [payload, status, field, pattern] of cases) {
      const res = await call('POST', base, payload);
      assert.equal(res.status, status, `${JSON.stringify(payload)} → ${JSON.stringify(res.body)}`);
      if (field !== undefined) assert.equal(res.body.details?.field, field, JSON.stringify(res.body));
      assert.match(res.body.message, pattern);
    }
    const missing = await call('GET', `${base}/score-0`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
    const badPage = await call('GET', `${base}?page_token=nonsense`);
    assert.equal(badPage.status, 400);
  });
});
