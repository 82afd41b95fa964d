import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { createMlflowRun, rssMb, startKiln, wrkWithScript } from './lib/kiln.js';
import type { LoadResult } from './lib/load.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, median, progress, round } from './lib/result.js';

/** Budget: p50 < 1 ms at 1 client, expressed on the value (the ratio to /health/live is for orientation). */
const P50_BUDGET_MS = 1;

/** A wrk script POSTing one log-metric call per request, each with the next step. */
function logMetricScript(runId: string): string {
  return `
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local step = 0
request = function()
  step = step + 1
  local body = string.format('{"run_id":"${runId}","key":"loss","value":%.6f,"timestamp":%d,"step":%d}', 1 / step, 1795000000000 + step, step)
  return wrk.format("POST", "/api/2.0/mlflow/runs/log-metric", nil, body)
end
`;
}

interface Figures {
  connections: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSec: number;
  rounds: { p50Ms: number; p99Ms: number; requestsPerSec: number }[];
}

function summarise(connections: number, runs: LoadResult[]): Figures {
  return {
    connections,
    p50Ms: median(runs.map((r) => r.latencyP50Ms)),
    p99Ms: median(runs.map((r) => r.latencyP99Ms)),
    requestsPerSec: round(median(runs.map((r) => r.requestsPerSec))),
    rounds: runs.map((r) => ({
      p50Ms: r.latencyP50Ms,
      p99Ms: r.latencyP99Ms,
      requestsPerSec: round(r.requestsPerSec),
    })),
  };
}

/**
 * `POST /api/2.0/mlflow/runs/log-metric` latency on the real `kiln server` (dist/, SQLite, core 0)
 * under wrk on core 1 with a Lua script (one point per request, steps increasing), at 1 and 16
 * connections; p50 and p99 are medians over rounds. Baseline: p50 of `GET /health/live` at 1
 * connection on the same server in the same rounds. Budget: p50 at 1 client below 1 ms.
 *
 * @example
 * // npm run bench -- log-metric-latency --rounds 3 --duration 5
 */
export const logMetricLatencyBenchmark: Benchmark = {
  name: 'log-metric-latency',
  description: 'MLflow runs/log-metric p50/p99 at 1 and 16 clients (budget p50 < 1 ms at 1 client)',
  needsBuild: true,
  async run(options: BenchOptions): Promise<BenchResult> {
    const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-log-metric-'));
    try {
      const loadBefore = loadavg()[0] ?? 0;
      const server = await startKiln({ home: join(scratch, 'home'), logFile: join(scratch, 'kiln.log') });
      const health: LoadResult[] = [];
      const one: LoadResult[] = [];
      const sixteen: LoadResult[] = [];
      let memory: ReturnType<typeof rssMb> = null;
      try {
        const runId = await createMlflowRun(server.url);
        const script = join(scratch, 'log-metric.lua');
        writeFileSync(script, logMetricScript(runId));
        if (options.warmupSec > 0) {
          await wrkWithScript({ url: server.url, connections: 4, durationSec: options.warmupSec, script });
          await wrkWithScript({ url: `${server.url}/health/live`, connections: 1, durationSec: options.warmupSec });
        }
        for (let r = 0; r < options.rounds; r++) {
          health.push(
            await wrkWithScript({ url: `${server.url}/health/live`, connections: 1, durationSec: options.durationSec }),
          );
          one.push(await wrkWithScript({ url: server.url, connections: 1, durationSec: options.durationSec, script }));
          sixteen.push(
            await wrkWithScript({ url: server.url, connections: 16, durationSec: options.durationSec, script }),
          );
          progress(
            `round ${r + 1}: health p50 ${health.at(-1)?.latencyP50Ms} ms; log-metric c1 p50 ${one.at(-1)?.latencyP50Ms} / p99 ${one.at(-1)?.latencyP99Ms} ms; c16 p50 ${sixteen.at(-1)?.latencyP50Ms} / p99 ${sixteen.at(-1)?.latencyP99Ms} ms`,
          );
        }
      } finally {
        memory = rssMb(server.pid);
        await server.stop();
        if (memory !== null) progress(`server RSS ${memory.rssMb} MB, peak ${memory.peakRssMb} MB`);
      }
      const c1 = summarise(1, one);
      const c16 = summarise(16, sixteen);
      const base = summarise(1, health);
      const result = benchResult({
        name: 'log-metric-latency',
        unit: 'ms (p50, 1 client)',
        value: c1.p50Ms,
        baseline: base.p50Ms,
        budget: { max: Number.POSITIVE_INFINITY },
        details: {},
      });
      return {
        ...result,
        value: c1.p50Ms,
        baseline: base.p50Ms,
        budget: `value < ${P50_BUDGET_MS} ms (ratio to GET /health/live p50 for orientation only)`,
        pass: c1.p50Ms < P50_BUDGET_MS,
        details: {
          subject:
            'kiln server from dist/, SQLite (synchronous=FULL) in a temp KILN_HOME, wrk -t1 with a Lua POST script',
          baselineRoute: 'GET /health/live, 1 connection',
          oneClient: c1,
          sixteenClients: c16,
          healthOneClient: base,
          rounds: options.rounds,
          durationSec: options.durationSec,
          serverRssMb: memory?.rssMb ?? null,
          serverPeakRssMb: memory?.peakRssMb ?? null,
          rssBudgetMb: 300,
          machine: describeMachine(),
          loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
        },
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
