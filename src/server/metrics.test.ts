import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './testing/app.js';

function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  let t: TestApp;
  let other: TestApp;
  before(async () => {
    t = await createTestApp();
    other = await createTestApp();
  });
  after(async () => {
    await t.close();
    await other.close();
  });

  it('should count requests by route template and label unknown paths unmatched', async () => {
    await t.app.inject({ method: 'GET', url: '/api/v1/workspaces/default' });
    await t.app.inject({ method: 'GET', url: '/api/v1/workspaces/missing' });
    await t.app.inject({ method: 'GET', url: '/api/v1/workspaces/missing-too' });
    await t.app.inject({ method: 'GET', url: '/random/path/1' });
    await t.app.inject({ method: 'GET', url: '/random/path/2' });

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    const ok = 'kiln_http_requests_total{method="GET",route="/api/v1/workspaces/:name",status_code="200"}';
    const missing = 'kiln_http_requests_total{method="GET",route="/api/v1/workspaces/:name",status_code="404"}';
    const unmatched = 'kiln_http_requests_total{method="GET",route="unmatched",status_code="404"}';
    assert.equal(sampleValue(text, ok), 1);
    assert.equal(sampleValue(text, missing), 2);
    assert.equal(sampleValue(text, unmatched), 2);
    assert.doesNotMatch(text, /random\/path/);
    assert.doesNotMatch(text, /workspaces\/missing/);
    const count = 'kiln_http_request_duration_seconds_count{method="GET",route="/api/v1/workspaces/:name"}';
    assert.equal(sampleValue(text, count), 3);
  });

  it('should include process metrics with the kiln_ prefix', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(res.body, /^kiln_process_cpu_user_seconds_total /m);
    assert.match(res.body, /^kiln_nodejs_heap_size_total_bytes /m);
  });

  it('should keep each app in its own registry', async () => {
    const res = await other.app.inject({ method: 'GET', url: '/metrics' });
    assert.doesNotMatch(res.body, /route="\/api\/v1\/workspaces\/:name"/);
  });
});
