import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { createMlflowRun, ROOT, rssMb, startKiln } from './lib/kiln.js';
import { runPinned } from './lib/load.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, median, progress, round } from './lib/result.js';

const BUDGET = { min: 0.3 };
const CLIENTS = 8;
type Shape = 'tall' | 'wide';

interface RouteFigures {
  shape: Shape;
  pointsPerSec: number;
  points: number;
  batches: number;
  bodyBytesPerBatch: number;
  batchLatencyP50Ms: number;
  batchLatencyP99Ms: number;
  serverCpuMicrosPerPoint: number | null;
  serverRssMb: number | null;
  serverPeakRssMb: number | null;
}

interface RawFigures {
  rowsPerSec: number;
  rows: number;
  rounds: number[];
}

const tsx = (script: string, config: unknown): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(ROOT, 'bench/clients', script), JSON.stringify(config)],
];

async function throughRoute(shape: Shape, scratch: string, options: BenchOptions): Promise<RouteFigures> {
  const server = await startKiln({ home: join(scratch, `home-${shape}`), logFile: join(scratch, `kiln-${shape}.log`) });
  try {
    const runIds: string[] = [];
    for (let i = 0; i < CLIENTS; i++) runIds.push(await createMlflowRun(server.url));
    const cpuBefore = server.cpuSeconds();
    const [cmd, args] = tsx('log-batch-load.ts', {
      url: server.url,
      runIds,
      shape,
      warmupSec: options.warmupSec,
      durationSec: options.durationSec,
    });
    const out = await runPinned(1, cmd, args);
    const cpuAfter = server.cpuSeconds();
    const load = JSON.parse(out) as {
      points: number;
      batches: number;
      seconds: number;
      bodyBytesPerBatch: number;
      latencyP50Ms: number;
      latencyP99Ms: number;
    };
    // CPU over warm-up and measurement together, divided by the points of both (estimated from the rate).
    const totalSec = options.warmupSec + options.durationSec;
    const estimatedPoints = (load.points / load.seconds) * totalSec;
    const memory = rssMb(server.pid);
    const figures: RouteFigures = {
      shape,
      pointsPerSec: round(load.points / load.seconds),
      points: load.points,
      batches: load.batches,
      bodyBytesPerBatch: load.bodyBytesPerBatch,
      batchLatencyP50Ms: load.latencyP50Ms,
      batchLatencyP99Ms: load.latencyP99Ms,
      serverCpuMicrosPerPoint:
        cpuBefore === undefined || cpuAfter === undefined
          ? null
          : round(((cpuAfter - cpuBefore) / estimatedPoints) * 1e6),
      serverRssMb: memory?.rssMb ?? null,
      serverPeakRssMb: memory?.peakRssMb ?? null,
    };
    progress(`route ${shape}: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await server.stop();
  }
}

async function rawInsert(
  shape: Shape,
  synchronous: 'NORMAL' | 'FULL',
  scratch: string,
  rounds: number,
): Promise<RawFigures> {
  const batches = shape === 'tall' ? 25 : 8;
  const rates: number[] = [];
  let rows = 0;
  for (let r = 0; r < rounds; r++) {
    const file = join(scratch, `raw-${shape}-${synchronous}-${r}.db`);
    const [cmd, args] = tsx('raw-sqlite-insert.ts', { file, shape, runs: CLIENTS, batches, synchronous });
    const result = JSON.parse(await runPinned(0, cmd, args)) as { rows: number; rowsPerSec: number };
    rates.push(round(result.rowsPerSec));
    rows = result.rows;
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }
  progress(`raw better-sqlite3 ${shape} synchronous=${synchronous}: ${rates.join(', ')} rows/s`);
  return { rowsPerSec: median(rates), rows, rounds: rates };
}

/**
 * Metric ingest through the MLflow `runs/log-batch` route of the real `kiln server` (dist/, SQLite,
 * pinned to core 0): 8 keep-alive clients in one load process on core 1, each logging 1000-metric
 * batches (10 keys × 100 steps) into its own run. Baseline: raw better-sqlite3 inserting the same
 * rows (Kiln's `metrics` columns and primary key, prepared statement, 1000 rows per transaction,
 * WAL, synchronous=NORMAL as in npm-deps.md) in a process on core 0, same run. The wide shape
 * (1000 keys × 1 step) and the baseline at the server's synchronous=FULL are in `details`.
 *
 * @example
 * // npm run bench -- ingest --duration 10 --warmup 2
 */
export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  description: 'MLflow runs/log-batch, 8 clients × 1000-metric batches, points/s vs raw better-sqlite3 (budget >= 0.3)',
  needsBuild: true,
  async run(options: BenchOptions): Promise<BenchResult> {
    const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-ingest-'));
    try {
      const loadBefore = loadavg()[0] ?? 0;
      const rawRounds = Math.max(3, options.rounds);
      const rawTall = await rawInsert('tall', 'NORMAL', scratch, rawRounds);
      const tall = await throughRoute('tall', scratch, options);
      const rawTallFull = await rawInsert('tall', 'FULL', scratch, rawRounds);
      const rawWide = await rawInsert('wide', 'NORMAL', scratch, rawRounds);
      const wide = await throughRoute('wide', scratch, options);
      const peaks = [tall.serverPeakRssMb, wide.serverPeakRssMb].filter((v): v is number => v !== null);
      return benchResult({
        name: 'ingest',
        unit: 'points/s',
        value: tall.pointsPerSec,
        baseline: rawTall.rowsPerSec,
        budget: BUDGET,
        details: {
          subject: 'kiln server from dist/, SQLite in a temp KILN_HOME, POST /api/2.0/mlflow/runs/log-batch',
          clients: CLIENTS,
          shape: '10 keys × 100 consecutive steps per 1000-metric batch',
          warmupSec: options.warmupSec,
          durationSec: options.durationSec,
          route: tall,
          raw: { ...rawTall, synchronous: 'NORMAL' },
          rawAtServerDurability: { ...rawTallFull, synchronous: 'FULL' },
          ratioVsRawAtServerDurability: round(tall.pointsPerSec / rawTallFull.rowsPerSec),
          wide: {
            shape: '1000 keys × 1 step per batch',
            route: wide,
            raw: { ...rawWide, synchronous: 'NORMAL' },
            ratio: round(wide.pointsPerSec / rawWide.rowsPerSec),
          },
          serverPeakRssMb: peaks.length === 0 ? null : Math.max(...peaks),
          rssBudgetMb: 300,
          machine: describeMachine(),
          loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
        },
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
