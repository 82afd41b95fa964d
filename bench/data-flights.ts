import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { ROOT } from './lib/kiln.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, median, progress, round } from './lib/result.js';

/** Ingest + digest + schema + profile may take at most twice DuckDB computing the same aggregates. */
const BUDGET = { max: 2 };
const SUITE_BUDGET_MS = 3000;
const RSS_BUDGET_MB = 1024;

function side(name: 'kiln' | 'duckdb'): Record<string, number> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/clients/data-flights.ts'), name], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`${name} side failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

/**
 * flights-3m.parquet (3,000,000 rows): Kiln's ingest (SHA-256 of the file, typed Parquet copy,
 * schema inference, profile) and a 12-expectation suite, against DuckDB computing the same
 * aggregates and checks directly on the file, each side in its own process, alternating rounds.
 */
export const dataFlightsBenchmark: Benchmark = {
  name: 'data-flights',
  description: 'flights-3m ingest+profile vs DuckDB aggregates on the file; 12-expectation suite; peak RSS',
  needsBuild: false,
  async run(options: BenchOptions): Promise<BenchResult> {
    const kiln: Record<string, number>[] = [];
    const duck: Record<string, number>[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      progress(`data-flights round ${round}/${options.rounds}`);
      duck.push(side('duckdb'));
      kiln.push(side('kiln'));
    }
    const pick = (rows: Record<string, number>[], key: string) => median(rows.map((row) => row[key] ?? Number.NaN));
    const ingestMs = pick(kiln, 'ingestMs');
    const baselineMs = pick(duck, 'profileMs');
    const suiteMs = pick(kiln, 'suiteMs');
    const peakRss = Math.max(...kiln.map((row) => row.peakRssMb ?? 0));
    const result = benchResult({
      name: 'data-flights',
      unit: 'ms',
      value: ingestMs,
      baseline: baselineMs,
      budget: BUDGET,
      details: {
        rows: kiln[0]?.rows,
        rounds: options.rounds,
        ingestMsRounds: kiln.map((row) => round(row.ingestMs ?? 0)),
        baselineMsRounds: duck.map((row) => round(row.profileMs ?? 0)),
        suiteMs: round(suiteMs),
        suiteExpectations: kiln[0]?.expectations,
        suiteBudgetMs: SUITE_BUDGET_MS,
        duckdbSuiteMs: round(pick(duck, 'suiteMs')),
        suiteRatio: round(suiteMs / pick(duck, 'suiteMs')),
        kilnPeakRssMb: peakRss,
        duckdbPeakRssMb: Math.max(...duck.map((row) => row.peakRssMb ?? 0)),
        rssBudgetMb: RSS_BUDGET_MB,
        loadavg: loadavg().map((x) => round(x)),
        machine: describeMachine(),
      },
    });
    // All three budgets must hold for the claim to pass.
    return { ...result, pass: result.pass && suiteMs <= SUITE_BUDGET_MS && peakRss < RSS_BUDGET_MB };
  },
};
