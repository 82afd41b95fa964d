import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics.js';

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

describe('HttpMetrics', () => {
  it('should expose counts per status and a cumulative duration histogram per route', async () => {
    const registry = new Registry();
    const http = new HttpMetrics(registry);
    http.record('GET', '/a/:id', 200, 0.0005);
    http.record('GET', '/a/:id', 404, 0.003);
    http.record('GET', '/a/:id', 200, 20);
    http.record('POST', '/a', 201, 0.001);

    const text = await registry.metrics();
    assert.match(text, /^# TYPE kiln_http_requests_total counter$/m);
    assert.match(text, /^# TYPE kiln_http_request_duration_seconds histogram$/m);
    assert.deepEqual(lines(text, 'kiln_http_requests_total{'), [
      'kiln_http_requests_total{method="GET",route="/a/:id",status_code="200"} 2',
      'kiln_http_requests_total{method="GET",route="/a/:id",status_code="404"} 1',
      'kiln_http_requests_total{method="POST",route="/a",status_code="201"} 1',
    ]);
    const buckets = lines(text, 'kiln_http_request_duration_seconds_bucket{method="GET"');
    assert.equal(buckets[0], 'kiln_http_request_duration_seconds_bucket{method="GET",route="/a/:id",le="0.001"} 1');
    assert.equal(buckets[1], 'kiln_http_request_duration_seconds_bucket{method="GET",route="/a/:id",le="0.005"} 2');
    assert.equal(buckets.at(-2), 'kiln_http_request_duration_seconds_bucket{method="GET",route="/a/:id",le="10"} 2');
    assert.equal(buckets.at(-1), 'kiln_http_request_duration_seconds_bucket{method="GET",route="/a/:id",le="+Inf"} 3');
    assert.deepEqual(lines(text, 'kiln_http_request_duration_seconds_count{'), [
      'kiln_http_request_duration_seconds_count{method="GET",route="/a/:id"} 3',
      'kiln_http_request_duration_seconds_count{method="POST",route="/a"} 1',
    ]);
    assert.deepEqual(lines(text, 'kiln_http_request_duration_seconds_sum{method="GET"'), [
      'kiln_http_request_duration_seconds_sum{method="GET",route="/a/:id"} 20.0035',
    ]);
    // An observation exactly on a bound belongs to that bucket (Prometheus buckets are "≤ le").
    assert.match(text, /_bucket\{method="POST",route="\/a",le="0\.001"\} 1$/m);
  });

  it('should start from zero after the registry resets', async () => {
    const registry = new Registry();
    const http = new HttpMetrics(registry);
    http.record('GET', '/x', 200, 0.01);
    registry.resetMetrics();
    http.record('GET', '/x', 200, 0.01);
    const text = await registry.metrics();
    assert.deepEqual(lines(text, 'kiln_http_requests_total{'), [
      'kiln_http_requests_total{method="GET",route="/x",status_code="200"} 1',
    ]);
    assert.match(text, /^kiln_http_request_duration_seconds_count\{method="GET",route="\/x"\} 1$/m);
  });
});
