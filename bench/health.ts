import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { type Contender, compareThroughput } from './lib/compare.js';
import { describeMachine } from './lib/machine.js';
import { startServerProcess } from './lib/process.js';
import { type BenchResult, benchResult, progress, round } from './lib/result.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUDGET = { min: 0.8 };
/** Round-to-round spread of requests/s above which a run is flagged as disturbed by neighbours. */
const NOISY_SPREAD = 1.2;

/** The environment without any KILN_* variable of the caller, so only what we set applies. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  return { ...env, ...extra };
}

function kilnContender(name: string, logLevel: string, scratch: string): Contender {
  const home = join(scratch, `home-${logLevel}`);
  return {
    name,
    start: (round) =>
      startServerProcess({
        label: name,
        command: process.execPath,
        args: [join(ROOT, 'dist/cli/main.js'), 'server', '--host', '127.0.0.1', '--port', '0'],
        env: cleanEnv({ KILN_HOME: home, KILN_LOG_LEVEL: logLevel }),
        core: 0,
        logFile: join(scratch, `${logLevel}-${round}.log`),
      }),
  };
}

function fastifyContender(scratch: string): Contender {
  return {
    name: 'fastify hello-world',
    start: (round) =>
      startServerProcess({
        label: 'fastify hello-world',
        command: process.execPath,
        args: [join(ROOT, 'bench/servers/fastify-hello.mjs')],
        env: cleanEnv({ HOST: '127.0.0.1', PORT: '0' }),
        core: 0,
        logFile: join(scratch, `fastify-${round}.log`),
      }),
  };
}

/**
 * `GET /health/live` through the real `kiln server` (built `dist/`, default configuration) against
 * a bare Fastify hello-world answering the same route, requests/s at 32 connections. The headline
 * is Kiln at the production default log level (`info`); Kiln at `warn` is measured in the same
 * rounds so the cost of per-request logging is visible in `details`. `details.cpuRatio` (the
 * baseline's server CPU per request over Kiln's) barely moves when neighbours load the machine,
 * while requests/s does; `details.noisy` flags a run whose rounds disagree by more than 20 %.
 *
 * @example
 * // npm run bench -- health
 */
export const healthBenchmark: Benchmark = {
  name: 'health',
  description: 'GET /health/live on kiln server vs bare Fastify, req/s at 32 connections (budget ratio >= 0.8)',
  needsBuild: true,
  async run(options: BenchOptions): Promise<BenchResult> {
    const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-health-'));
    try {
      const contenders = [
        fastifyContender(scratch),
        kilnContender('kiln (KILN_LOG_LEVEL=info)', 'info', scratch),
        kilnContender('kiln (KILN_LOG_LEVEL=warn)', 'warn', scratch),
      ];
      progress(
        `${options.rounds} rounds × ${contenders.length} servers × (${options.warmupSec} s warm-up + ${options.durationSec} s), ${options.connections} connections`,
      );
      const loadBefore = loadavg()[0];
      const [bare, info, warn] = await compareThroughput({
        contenders,
        path: '/health/live',
        rounds: options.rounds,
        durationSec: options.durationSec,
        warmupSec: options.warmupSec,
        connections: options.connections,
        ...(options.tool ? { tool: options.tool } : {}),
      });
      if (bare === undefined || info === undefined || warn === undefined) throw new Error('missing figures');
      const cpuRatio =
        bare.cpuMicrosPerRequest !== null && info.cpuMicrosPerRequest !== null
          ? Math.round((bare.cpuMicrosPerRequest / info.cpuMicrosPerRequest) * 1000) / 1000
          : null;
      return benchResult({
        name: 'health',
        unit: 'req/s',
        value: info.requestsPerSec,
        baseline: bare.requestsPerSec,
        budget: BUDGET,
        details: {
          subject: 'kiln server from dist/, default configuration (KILN_LOG_LEVEL=info), SQLite in a temp KILN_HOME',
          baselineServer: 'bench/servers/fastify-hello.mjs',
          path: '/health/live',
          connections: options.connections,
          rounds: options.rounds,
          durationSec: options.durationSec,
          warmupSec: options.warmupSec,
          tool: bare.tool,
          machine: describeMachine(),
          ratioAtWarn: Math.round((warn.requestsPerSec / bare.requestsPerSec) * 1000) / 1000,
          cpuRatio,
          noisy: bare.spread > NOISY_SPREAD || info.spread > NOISY_SPREAD,
          loadAverage1m: { before: round(loadBefore ?? 0), after: round(loadavg()[0] ?? 0) },
          contenders: [bare, info, warn],
        },
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
