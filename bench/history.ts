import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import {
  BENCH_CONTEXT,
  createMlflowRun,
  envInteger,
  getJson,
  ms,
  openTrackingAt,
  percentile,
  pinSelf,
  rssMb,
  startKiln,
  timeRepeated,
} from './lib/kiln.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, progress, round } from './lib/result.js';

const BUDGET_MS = 100;
const KEY = 'train_loss';
const PAGE = 25_000;
const MAX_POINTS = 1000;

interface HistoryPage {
  metrics?: unknown[];
  next_page_token?: string;
}

/** Reads the whole history through MLflow's get-history, following next_page_token; points and pages. */
async function readAll(baseUrl: string, runId: string): Promise<{ points: number; pages: number }> {
  let points = 0;
  let pages = 0;
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ run_id: runId, metric_key: KEY, max_results: String(PAGE) });
    if (token !== undefined) query.set('page_token', token);
    const page = await getJson<HistoryPage>(`${baseUrl}/api/2.0/mlflow/metrics/get-history?${query}`);
    points += page.metrics?.length ?? 0;
    pages += 1;
    token = page.next_page_token;
  } while (token !== undefined && token !== '');
  return { points, pages };
}

/**
 * One metric key with 1,000,000 steps in one run (loaded through `RunDataService.logBatch` in
 * 1000-point batches, straight into the SQLite file of a running `kiln server`), then read over
 * HTTP from a client pinned to core 1: the full history through MLflow's
 * `GET /api/2.0/mlflow/metrics/get-history` (pages of 25,000), and a 1000-point downsampled read
 * through `GET /api/v1/runs/{id}/metric-history?max_points=1000`, p50 of ≥ 20 repeats after a
 * warm-up. Baseline: p50 of one 25,000-point get-history page. Budget: downsampled p50 < 100 ms.
 * `BENCH_HISTORY_STEPS` scales the history (default 1,000,000).
 *
 * @example
 * // npm run bench -- history --rounds 20
 */
export const historyBenchmark: Benchmark = {
  name: 'history',
  description: '1M-step metric: full paged get-history and 1000-point downsampled read (budget p50 < 100 ms)',
  needsBuild: true,
  async run(options: BenchOptions): Promise<BenchResult> {
    const steps = envInteger('BENCH_HISTORY_STEPS', 1_000_000);
    const repeats = Math.max(20, options.rounds);
    const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-history-'));
    const machine = describeMachine();
    pinSelf(1);
    try {
      const loadBefore = loadavg()[0] ?? 0;
      const home = join(scratch, 'home');
      const server = await startKiln({ home, logFile: join(scratch, 'kiln.log') });
      try {
        const runId = await createMlflowRun(server.url);
        const { database, tracking } = await openTrackingAt(`sqlite:${join(home, 'kiln.db')}`);
        const loadStart = performance.now();
        try {
          const timestamp = Date.now();
          for (let first = 0; first < steps; first += 1000) {
            const metrics = [];
            for (let step = first; step < Math.min(steps, first + 1000); step++) {
              metrics.push({
                key: KEY,
                value: Math.exp(-step / 200_000) + Math.sin(step / 97) * 0.01,
                timestamp: timestamp + step,
                step,
              });
            }
            await tracking.runData.logBatch(BENCH_CONTEXT, runId, { metrics });
          }
        } finally {
          await database.close();
        }
        const loadSec = (performance.now() - loadStart) / 1000;
        progress(`loaded ${steps} points in ${loadSec.toFixed(1)} s`);

        const fullStart = performance.now();
        const full = await readAll(server.url, runId);
        const fullColdMs = performance.now() - fullStart;
        if (full.points !== steps) throw new Error(`get-history returned ${full.points} points, expected ${steps}`);
        const fullWarmStart = performance.now();
        await readAll(server.url, runId);
        const fullWarmMs = performance.now() - fullWarmStart;
        progress(
          `full read: ${full.pages} pages, ${Math.round(fullColdMs)} ms first, ${Math.round(fullWarmMs)} ms second`,
        );

        const onePageUrl = `${server.url}/api/2.0/mlflow/metrics/get-history?${new URLSearchParams({ run_id: runId, metric_key: KEY, max_results: String(PAGE) })}`;
        await getJson(onePageUrl);
        const pageTimes = await timeRepeated(repeats, () => getJson(onePageUrl));

        const downUrl = `${server.url}/api/v1/runs/${runId}/metric-history?${new URLSearchParams({ key: KEY, max_points: String(MAX_POINTS) })}`;
        const warm = await getJson<HistoryPage>(downUrl);
        const downTimes = await timeRepeated(repeats, () => getJson(downUrl));
        const memory = rssMb(server.pid);
        const p50 = percentile(downTimes, 50);
        const pageP50 = percentile(pageTimes, 50);
        progress(
          `downsampled p50 ${p50.toFixed(1)} ms (${warm.metrics?.length} points); 25k page p50 ${pageP50.toFixed(1)} ms`,
        );
        const result = benchResult({
          name: 'history',
          unit: 'ms (p50, downsampled 1000-point read)',
          value: ms(p50),
          baseline: ms(pageP50),
          budget: { max: Number.POSITIVE_INFINITY },
          details: {},
        });
        return {
          ...result,
          budget: `value < ${BUDGET_MS} ms (ratio to one 25,000-point page for orientation only)`,
          pass: p50 < BUDGET_MS,
          details: {
            subject: 'kiln server from dist/, SQLite in a temp KILN_HOME; client pinned to core 1',
            steps,
            loadSec: round(loadSec),
            loadPointsPerSec: round(steps / loadSec),
            fullRead: {
              route: 'GET /api/2.0/mlflow/metrics/get-history, max_results=25000, following next_page_token',
              pages: full.pages,
              firstMs: Math.round(fullColdMs),
              secondMs: Math.round(fullWarmMs),
              pointsPerSec: round(steps / (fullWarmMs / 1000)),
            },
            downsampled: {
              route: `GET /api/v1/runs/{id}/metric-history?key=${KEY}&max_points=${MAX_POINTS}`,
              pointsReturned: warm.metrics?.length ?? 0,
              repeats,
              p50Ms: ms(p50),
              p99Ms: ms(percentile(downTimes, 99)),
              minMs: ms(Math.min(...downTimes)),
            },
            onePage: { repeats, p50Ms: ms(pageP50), p99Ms: ms(percentile(pageTimes, 99)) },
            serverRssMb: memory?.rssMb ?? null,
            serverPeakRssMb: memory?.peakRssMb ?? null,
            rssBudgetMb: 300,
            machine,
            loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
          },
        };
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
