import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { KilnError } from '../core/index.js';
import { KilnClient } from './client.js';
import { ScoringApi, type ScoringJob, scoringOutcomeOf } from './scoring.js';

interface Seen {
  method: string;
  url: string;
  body: string;
}

/**
 * A stand-in for the scoring-jobs API (the SDK may import only core, so it cannot start the real
 * server here; the CLI tests drive the real one): it records every request and answers from
 * `answer`, which sees how many GETs of the job came before.
 */
async function startPeer() {
  const seen: Seen[] = [];
  const state = { answer: (_req: Seen, _gets: number): [number, unknown] => [500, {}] };
  let gets = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') };
      seen.push(request);
      if (request.method === 'GET' && request.url.startsWith('/api/v1/scoring-jobs/')) gets += 1;
      const [status, body] = state.answer(request, gets);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    state,
    reset() {
      seen.length = 0;
      gets = 0;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function job(state: ScoringJob['state'], rows: number, extra: Partial<ScoringJob> = {}): ScoringJob {
  return {
    id: 'score-ab12',
    state,
    request: { model: 'models:/flights@champion', data: 'flights@4', out: 'scored', chunk_rows: 1000 },
    model: { name: 'flights', version: 3 },
    input: { dataset: 'flights', version: 4 },
    progress: { rows_scored: rows, total_rows: 5000, chunks_done: rows / 1000, total_chunks: 5 },
    created_by: 'anonymous',
    created_at: '2026-11-28T00:00:00.000Z',
    updated_at: '2026-11-28T00:00:00.000Z',
    ...extra,
  };
}

describe('ScoringApi', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let scoring: ScoringApi;
  before(async () => {
    peer = await startPeer();
    scoring = new ScoringApi(new KilnClient({ baseUrl: peer.url, retryDelayMs: 1 }));
  });
  after(() => peer.close());
  beforeEach(() => peer.reset());

  it('score submits the request as is, follows the job through its progress and answers the output version', async () => {
    peer.state.answer = (request, gets) => {
      if (request.method === 'POST') return [202, { job: job('queued', 0) }];
      if (gets < 3) return [200, { job: job('running', gets * 1000) }];
      return [200, { job: job('succeeded', 5000, { output: { dataset: 'scored', version: 2 } }) }];
    };
    const progress: number[] = [];
    const outcome = await scoring.score(
      { model: 'models:/flights@champion', data: 'flights@4', out: 'scored', chunk_rows: 1000 },
      { pollMs: 1, onProgress: (j) => progress.push(j.progress.rows_scored) },
    );
    assert.deepEqual(outcome, {
      jobId: 'score-ab12',
      model: { name: 'flights', version: 3 },
      output: { dataset: 'scored', version: 2 },
      rows: 5000,
    });
    assert.deepEqual(progress, [1000, 2000]);
    const [post, ...polls] = peer.seen;
    assert.equal(post?.method, 'POST');
    assert.equal(post?.url, '/api/v1/scoring-jobs');
    assert.deepEqual(JSON.parse(post?.body ?? ''), {
      model: 'models:/flights@champion',
      data: 'flights@4',
      out: 'scored',
      chunk_rows: 1000,
    });
    assert.deepEqual(
      polls.map((p) => `${p.method} ${p.url}`),
      Array(3).fill('GET /api/v1/scoring-jobs/score-ab12'),
    );
  });

  it('a failed job: wait answers it, score and scoringOutcomeOf reject with its error', async () => {
    const failed = job('failed', 1000, { error: 'the model broke on chunk 2' });
    peer.state.answer = (request) =>
      request.method === 'POST' ? [202, { job: job('queued', 0) }] : [200, { job: failed }];
    assert.deepEqual(await scoring.wait('score-ab12', { pollMs: 1 }), failed);
    await assert.rejects(
      scoring.score({ model: 'models:/flights/3', data: 'flights', out: 'scored' }),
      (err: KilnError) => {
        assert.equal(err.code, 'INVALID_STATE');
        assert.match(err.message, /score-ab12 failed: the model broke on chunk 2/);
        return true;
      },
    );
    assert.throws(() => scoringOutcomeOf(failed), /the model broke on chunk 2/);
  });

  it("carries the server's 4xx as a KilnError naming the field, and stops waiting at the deadline or on abort", async () => {
    peer.state.answer = () => [
      404,
      {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        code: 'RESOURCE_DOES_NOT_EXIST',
        message: "registered model 'gulls' does not exist",
        details: { field: 'model' },
      },
    ];
    await assert.rejects(scoring.submit({ model: 'models:/gulls/1', data: 'flights', out: 'x' }), (err: KilnError) => {
      assert.equal(err.code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(err.details?.field, 'model');
      return true;
    });
    assert.equal(peer.seen.length, 1, 'a POST is not retried');

    peer.state.answer = () => [200, { job: job('running', 1000) }];
    await assert.rejects(scoring.wait('score-ab12', { pollMs: 5, timeoutMs: 30 }), { code: 'DEADLINE_EXCEEDED' });
    const controller = new AbortController();
    const waiting = scoring.wait('score-ab12', { pollMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(waiting, { code: 'CANCELLED' });

    peer.reset();
    peer.state.answer = () => [200, { jobs: [job('succeeded', 5000)], next_page_token: 'abc' }];
    const page = await scoring.list({ maxResults: 1, pageToken: 'xyz' });
    assert.equal(page.next_page_token, 'abc');
    assert.equal(peer.seen[0]?.url, '/api/v1/scoring-jobs?max_results=1&page_token=xyz');
  });
});
