/**
 * The benchmark runner: `npm run bench` lists the benchmarks, `npm run bench -- <name>` runs one,
 * `npm run bench -- all` runs them all. Each prints one JSON line on stdout; progress goes to stderr.
 * A missed budget shows as `"pass":false` and exit 0, unless `--strict` (then exit 1).
 *
 * @example
 * // npm run bench -- health --rounds 5 --duration 10
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { dataFlightsBenchmark } from './data-flights.js';
import { gbdtBenchmark } from './gbdt.js';
import { gbdtFlightsBenchmark } from './gbdt-flights.js';
import { healthBenchmark } from './health.js';
import { historyBenchmark } from './history.js';
import { ingestBenchmark } from './ingest.js';
import { learnFlightsBenchmark } from './learn-flights.js';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { printResult, progress } from './lib/result.js';
import { logMetricLatencyBenchmark } from './log-metric-latency.js';
import { searchBenchmark } from './search.js';
import { serveBenchmark } from './serve.js';
import { tpeBenchmark } from './tpe.js';

const BENCHMARKS: readonly Benchmark[] = [
  healthBenchmark,
  ingestBenchmark,
  logMetricLatencyBenchmark,
  searchBenchmark,
  historyBenchmark,
  dataFlightsBenchmark,
  gbdtBenchmark,
  gbdtFlightsBenchmark,
  tpeBenchmark,
  learnFlightsBenchmark,
  serveBenchmark,
];

const USAGE = `usage: npm run bench -- <name|all> [--rounds n] [--duration s] [--warmup s] [--connections n] [--tool wrk|autocannon] [--no-build] [--strict]`;

function positiveInteger(raw: string | undefined, fallback: number, flag: string, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer ≥ ${min}, got '${raw}'`);
  return n;
}

function parseCommandLine(argv: string[]): { names: string[]; options: BenchOptions; build: boolean; strict: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      tool: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
    },
  });
  if (values.tool !== undefined && values.tool !== 'wrk' && values.tool !== 'autocannon') {
    throw new Error(`--tool: expected wrk or autocannon, got '${values.tool}'`);
  }
  return {
    names: positionals,
    build: !values['no-build'],
    strict: values.strict,
    options: {
      rounds: positiveInteger(values.rounds, 3, '--rounds'),
      durationSec: positiveInteger(values.duration, 10, '--duration'),
      warmupSec: positiveInteger(values.warmup, 2, '--warmup', 0),
      connections: positiveInteger(values.connections, 32, '--connections'),
      tool: values.tool,
    },
  };
}

function select(names: string[]): Benchmark[] {
  if (names.includes('all')) return [...BENCHMARKS];
  return names.map((name) => {
    const found = BENCHMARKS.find((benchmark) => benchmark.name === name);
    if (found === undefined) {
      throw new Error(`unknown benchmark '${name}'; known: ${BENCHMARKS.map((b) => b.name).join(', ')}, all`);
    }
    return found;
  });
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  let chosen: Benchmark[];
  try {
    parsed = parseCommandLine(process.argv.slice(2));
    chosen = select(parsed.names);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (chosen.length === 0) {
    process.stdout.write(`${USAGE}\n\nbenchmarks:\n`);
    for (const b of BENCHMARKS) process.stdout.write(`  ${b.name.padEnd(12)} ${b.description}\n`);
    return 0;
  }
  if (parsed.build && chosen.some((b) => b.needsBuild)) {
    progress('npm run build (skip with --no-build)');
    const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: ['ignore', 2, 2] });
    if (build.status !== 0) {
      process.stderr.write('bench: npm run build failed; the benchmarks measure dist/\n');
      return 1;
    }
  }
  let allPass = true;
  for (const benchmark of chosen) {
    progress(`${benchmark.name}: ${benchmark.description}`);
    try {
      const result = await benchmark.run(parsed.options);
      printResult(result);
      allPass &&= result.pass;
    } catch (err) {
      process.stderr.write(
        `bench: ${benchmark.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      return 1;
    }
  }
  return parsed.strict && !allPass ? 1 : 0;
}

process.exitCode = await main();
