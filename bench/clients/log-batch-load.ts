/**
 * Load generator for the `ingest` benchmark, run in its own process pinned to core 1: one
 * keep-alive client per run id, each POSTing 1000-metric batches to the MLflow `runs/log-batch`
 * route back to back, first for `warmupSec` (discarded), then for `durationSec`. Prints one JSON
 * line: points and batches acknowledged in the measured window, seconds, per-batch latency.
 *
 * @example
 * // node --import tsx bench/clients/log-batch-load.ts '{"url":"http://127.0.0.1:5000","runIds":["…"],"shape":"tall","warmupSec":2,"durationSec":10}'
 */
import { Agent, request } from 'node:http';

interface Config {
  url: string;
  runIds: string[];
  /** tall: 10 keys × 100 consecutive steps per batch; wide: 1000 keys × 1 step. */
  shape: 'tall' | 'wide';
  warmupSec: number;
  durationSec: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const agent = new Agent({ keepAlive: true, maxSockets: config.runIds.length });
const target = new URL('/api/2.0/mlflow/runs/log-batch', config.url);

function batchBody(runId: string, batch: number): string {
  const metrics: { key: string; value: number; timestamp: number; step: number }[] = [];
  const timestamp = Date.now();
  if (config.shape === 'tall') {
    for (let k = 0; k < 10; k++) {
      for (let s = 0; s < 100; s++) {
        const step = batch * 100 + s;
        metrics.push({ key: `metric_${k}`, value: Math.exp(-step / 5000) + Math.random() * 0.01, timestamp, step });
      }
    }
  } else {
    for (let k = 0; k < 1000; k++) {
      metrics.push({ key: `feature_${k}`, value: Math.random(), timestamp, step: batch });
    }
  }
  return JSON.stringify({ run_id: runId, metrics });
}

function post(body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.statusCode === 200) resolve();
          else reject(new Error(`log-batch answered ${res.statusCode}: ${text.slice(0, 300)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const start = performance.now();
const warmupEnd = start + config.warmupSec * 1000;
const end = warmupEnd + config.durationSec * 1000;
let points = 0;
let batches = 0;
let bodyBytes = 0;
const latencies: number[] = [];

async function client(runId: string): Promise<void> {
  let batch = 0;
  for (;;) {
    const body = batchBody(runId, batch++);
    const sent = performance.now();
    if (sent >= end) return;
    await post(body);
    const done = performance.now();
    if (done >= warmupEnd && done <= end) {
      points += 1000;
      batches += 1;
      bodyBytes += body.length;
      latencies.push(done - sent);
    }
  }
}

await Promise.all(config.runIds.map(client));
latencies.sort((a, b) => a - b);
const at = (p: number) =>
  Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;
process.stdout.write(
  `${JSON.stringify({ points, batches, seconds: config.durationSec, bodyBytesPerBatch: Math.round(bodyBytes / Math.max(1, batches)), latencyP50Ms: at(0.5), latencyP99Ms: at(0.99) })}\n`,
);
agent.destroy();
