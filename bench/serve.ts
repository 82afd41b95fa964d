/**
 * Serving: `kiln serve` (dist/) answering a Kiln GBDT (100 trees of depth 6, 30 features; see
 * bench/serve-model.ts) against bare Fastify answering the same POST, each measured in the same
 * run with the method of bench/health.ts (a fresh process per round pinned to core 0, load on
 * core 1, contenders alternating, medians):
 *
 * 1. one row per request through Kiln `POST /predict` at 64 connections: requests/s, p50, p99 vs
 *    Fastify hello-world (budget ≥ 0.6 of its requests/s); then p99 at a fixed rate of half Kiln's
 *    saturating rate, evenly paced (bench/serve-paced.ts; budget < 10 ms), Fastify at the same rate beside it;
 * 2. the same row through OIP `POST /v2/models/<name>/infer` and MLflow `POST /invocations`;
 * 3. 1,000-row requests through `/predict`: rows/s vs `predictModel` on 1,000-row frames in a
 *    process of its own (what serving costs over the model);
 * 4. hot swap under load in `kiln server` (bench/serve-swap.ts): non-2xx must be 0 and the answering
 *    version must follow every move of `@champion`;
 * 5. memory per loaded model: heap and RSS of a `ServingRuntime` around loading the package n times.
 *
 * @example
 * // npm run bench -- serve --rounds 3 --duration 10
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { type Contender, type ContenderFigures, compareThroughput } from './lib/compare.js';
import { cleanEnv, ROOT, rssMb } from './lib/kiln.js';
import type { LoadRequest } from './lib/load.js';
import { describeMachine, pinnedCommand } from './lib/machine.js';
import { type ServerProcess, startServerProcess } from './lib/process.js';
import { type BenchResult, benchResult, median, progress, round } from './lib/result.js';
import {
  BATCH_ROWS,
  DEPTH,
  FEATURES,
  type RequestBodies,
  type ServeModel,
  serveModel,
  TRAIN_ROWS,
  TREES,
  writeRequestBodies,
} from './serve-model.js';
import { type PacedResult, runPaced } from './serve-paced.js';
import { type SwapFigures, swapUnderLoad } from './serve-swap.js';

/** Kiln's one-row requests/s over bare Fastify's. */
const BUDGET = { min: 0.6 };
/** p99 at half the saturating rate. */
const P99_BUDGET_MS = 10;
/** Connections of the one-row runs and the swap (the figure, whatever `--connections` says). */
const CONNECTIONS = 64;
/** Connections of the 1,000-row runs: each request carries ≈ 0.75 MB of JSON. */
const BATCH_CONNECTIONS = 8;
/** Models loaded for the memory slope. */
const MEMORY_MODELS = 20;
/** Alias moves during the swap run. */
const SWAP_MOVES = 4;
/** Round-to-round spread of requests/s above which a run is flagged as disturbed by neighbours. */
const NOISY_SPREAD = 1.2;
const MODEL_NAME = 'gbdt';
const JSON_HEADERS = { 'content-type': 'application/json' };

function post(bodyFile: string): LoadRequest {
  return { method: 'POST', bodyFile, headers: JSON_HEADERS };
}

/** `kiln serve <package> --name gbdt` from dist/, default configuration (KILN_LOG_LEVEL=info unless `logLevel`). */
function kilnServe(
  scratch: string,
  model: ServeModel,
  label: string,
  extra: Partial<Contender> = {},
  logLevel = 'info',
): Contender {
  const slug = label.replace(/[^a-z0-9]+/gi, '-');
  return {
    name: label,
    ...extra,
    start: (round) =>
      startServerProcess({
        label,
        command: process.execPath,
        args: [
          join(ROOT, 'dist/cli/main.js'),
          'serve',
          model.packageDir,
          '--name',
          MODEL_NAME,
          '--host',
          '127.0.0.1',
          '--port',
          '0',
        ],
        env: cleanEnv({ KILN_HOME: join(scratch, 'serve-home'), KILN_LOG_LEVEL: logLevel }),
        core: 0,
        logFile: join(scratch, `${slug}-${round}.log`),
      }),
  };
}

function fastifyHello(scratch: string, extra: Partial<Contender> = {}): Contender {
  return {
    name: 'fastify hello-world',
    ...extra,
    start: (round) =>
      startServerProcess({
        label: 'fastify hello-world',
        command: process.execPath,
        args: [join(ROOT, 'bench/servers/fastify-hello-post.mjs')],
        env: cleanEnv({ HOST: '127.0.0.1', PORT: '0' }),
        core: 0,
        logFile: join(scratch, `fastify-${round}.log`),
      }),
  };
}

/** Peak and final RSS of each measured process, by contender. */
function rssRecorder(into: { rssMb: number; peakRssMb: number }[]): Contender['onMeasured'] {
  return (server: ServerProcess) => {
    const memory = rssMb(server.pid);
    if (memory !== null) into.push(memory);
  };
}

/** One answer from each protocol of a fresh `kiln serve`: they must agree, and be what the model says. */
async function smokeCheck(scratch: string, model: ServeModel, bodies: RequestBodies): Promise<Record<string, unknown>> {
  const server = await kilnServe(scratch, model, 'kiln serve (smoke)').start(0);
  try {
    const ask = async (path: string, file: string) => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: readFileSync(file),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`smoke: POST ${path} answered ${response.status}: ${text.slice(0, 500)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const kiln = await ask('/predict', bodies.predictOne);
    const oip = await ask(`/v2/models/${MODEL_NAME}/infer`, bodies.oipOne);
    const mlflow = await ask('/invocations', bodies.invocationsOne);
    const batch = await ask('/predict', bodies.predictBatch);
    const predictions = (batch.predictions as unknown[] | undefined)?.length;
    if (predictions !== BATCH_ROWS)
      throw new Error(`smoke: a ${BATCH_ROWS}-row request got ${predictions} predictions`);
    return { kiln, oip, mlflow };
  } finally {
    await server.stop();
  }
}

/** p50 / p99 of one contender at a fixed, evenly paced request rate, one fresh process per round. */
interface RateFigures {
  name: string;
  rate: number;
  achievedPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyP999Ms: number;
  /**
   * Server CPU µs per request over all rounds. At the same request rate both servers wake as often,
   * so this compares their code even when neighbours slow the machine down.
   */
  cpuMicrosPerRequest: number | null;
  rounds: { p50: number; p99: number; p999: number; max: number; achieved: number; sendLagMaxMs: number }[];
}

async function measureAtRate(
  contenders: readonly Contender[],
  rate: number,
  options: BenchOptions,
  bodyFile: string,
): Promise<RateFigures[]> {
  const runs = new Map<string, PacedResult[]>(contenders.map((c) => [c.name, []]));
  const cpu = new Map<string, (number | undefined)[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + r) % contenders.length] as Contender;
      const server = await contender.start(r);
      try {
        const paced = {
          url: `${server.url}/predict`,
          rate,
          connections: CONNECTIONS,
          method: 'POST',
          bodyFile,
          headers: JSON_HEADERS,
        };
        if (options.warmupSec > 0) await runPaced({ ...paced, durationSec: options.warmupSec }, 1);
        const cpuBefore = server.cpuSeconds();
        const load = await runPaced({ ...paced, durationSec: options.durationSec }, 1);
        const cpuAfter = server.cpuSeconds();
        if (load.non2xx > 0 || load.errors > 0) {
          throw new Error(
            `${contender.name} at ${rate}/s: ${load.non2xx} non-2xx, ${load.errors} errors; not a valid measurement`,
          );
        }
        const cpuSeconds = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
        runs.get(contender.name)?.push(load);
        cpu.get(contender.name)?.push(cpuSeconds);
        const cpuNote = cpuSeconds === undefined ? '' : `, ${((cpuSeconds / load.sent) * 1e6).toFixed(1)} µs CPU/req`;
        progress(
          `rate ${rate}/s round ${r + 1}/${options.rounds} ${contender.name}: ${load.achievedPerSec} req/s, p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms, p99.9 ${load.latencyP999Ms} ms, generator lag ≤ ${load.sendLagMaxMs} ms${cpuNote}`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  return contenders.map((c) => {
    const list = runs.get(c.name) ?? [];
    const seconds = cpu.get(c.name) ?? [];
    const requests = list.reduce((sum, l) => sum + l.sent, 0);
    const cpuKnown = seconds.every((x) => x !== undefined) && requests > 0;
    return {
      name: c.name,
      rate,
      achievedPerSec: round(median(list.map((l) => l.achievedPerSec))),
      latencyP50Ms: median(list.map((l) => l.latencyP50Ms)),
      latencyP99Ms: median(list.map((l) => l.latencyP99Ms)),
      latencyP999Ms: median(list.map((l) => l.latencyP999Ms)),
      cpuMicrosPerRequest: cpuKnown
        ? round((seconds.reduce<number>((sum, x) => sum + (x ?? 0), 0) / requests) * 1e6)
        : null,
      rounds: list.map((l) => ({
        p50: l.latencyP50Ms,
        p99: l.latencyP99Ms,
        p999: l.latencyP999Ms,
        max: l.latencyMaxMs,
        achieved: l.achievedPerSec,
        sendLagMaxMs: l.sendLagMaxMs,
      })),
    };
  });
}

/** A JSON line from a child process pinned to core 0 (the server's core), like the servers it compares with. */
function pinnedChild(args: string[]): Record<string, unknown> {
  const [command, argv] = pinnedCommand(0, process.execPath, args);
  const child = spawnSync(command, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

function summary(figures: ContenderFigures): Record<string, unknown> {
  return {
    requestsPerSec: figures.requestsPerSec,
    latencyP50Ms: figures.latencyP50Ms,
    latencyP99Ms: figures.latencyP99Ms,
    cpuMicrosPerRequest: figures.cpuMicrosPerRequest,
    // Share of its core the server used: well below 1, something else (the load generator on a
    // shared core, neighbours) set the pace, and requests/s understates what the server can do.
    serverCoreShare:
      figures.cpuMicrosPerRequest === null ? null : round((figures.cpuMicrosPerRequest * figures.requestsPerSec) / 1e6),
    logBytesPerRequest: figures.logBytesPerRequest,
    spread: figures.spread,
    rounds: figures.rounds,
    cpuRounds: figures.cpuRounds,
  };
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000;
}

function maxRss(list: readonly { rssMb: number; peakRssMb: number }[]): { rssMb: number; peakRssMb: number } | null {
  if (list.length === 0) return null;
  return { rssMb: Math.max(...list.map((m) => m.rssMb)), peakRssMb: Math.max(...list.map((m) => m.peakRssMb)) };
}

export const serveBenchmark: Benchmark = {
  name: 'serve',
  description:
    'kiln serve GBDT (100 trees depth 6, 30 features) vs bare Fastify: /predict, OIP, /invocations, batch, swap, memory',
  needsBuild: true,
  async run(options: BenchOptions): Promise<BenchResult> {
    const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-serve-'));
    const loadBefore = loadavg()[0] ?? 0;
    try {
      const model = await serveModel();
      const bodies = writeRequestBodies(model, scratch);
      const answers = await smokeCheck(scratch, model, bodies);
      const tool = options.tool === undefined ? {} : { tool: options.tool };

      // 1 + 2: one row per request, the three protocols against Fastify.
      const kilnRss: { rssMb: number; peakRssMb: number }[] = [];
      const fastifyRss: { rssMb: number; peakRssMb: number }[] = [];
      const contenders = [
        fastifyHello(scratch, { onMeasured: rssRecorder(fastifyRss) }),
        kilnServe(scratch, model, 'kiln serve /predict', { onMeasured: rssRecorder(kilnRss) }),
        kilnServe(scratch, model, 'kiln serve OIP infer', {
          path: `/v2/models/${MODEL_NAME}/infer`,
          request: post(bodies.oipOne),
        }),
        kilnServe(scratch, model, 'kiln serve /invocations', {
          path: '/invocations',
          request: post(bodies.invocationsOne),
        }),
        kilnServe(scratch, model, 'kiln serve /predict (KILN_LOG_LEVEL=warn)', {}, 'warn'),
      ];
      progress(
        `${options.rounds} rounds × ${contenders.length} servers × (${options.warmupSec} s warm-up + ${options.durationSec} s), ${CONNECTIONS} connections, one row per request`,
      );
      const [bare, predict, oip, invocations, predictAtWarn] = await compareThroughput({
        contenders,
        path: '/predict',
        request: post(bodies.predictOne),
        rounds: options.rounds,
        durationSec: options.durationSec,
        warmupSec: options.warmupSec,
        connections: CONNECTIONS,
        ...tool,
      });
      if (
        bare === undefined ||
        predict === undefined ||
        oip === undefined ||
        invocations === undefined ||
        predictAtWarn === undefined
      ) {
        throw new Error('missing figures');
      }

      // 1b: p99 at half the saturating rate.
      const halfRate = Math.max(1, Math.round(predict.requestsPerSec / 2));
      progress(`fixed rate: ${halfRate} req/s (half of kiln serve's ${predict.requestsPerSec}), evenly paced`);
      const [bareAtRate, kilnAtRate] = await measureAtRate(
        [fastifyHello(scratch), kilnServe(scratch, model, 'kiln serve /predict')],
        halfRate,
        options,
        bodies.predictOne,
      );
      if (bareAtRate === undefined || kilnAtRate === undefined) throw new Error('missing fixed-rate figures');

      // 3: 1,000-row batches against predictModel in a process of its own.
      progress(`batch: ${BATCH_ROWS}-row requests at ${BATCH_CONNECTIONS} connections`);
      const [batch] = await compareThroughput({
        contenders: [kilnServe(scratch, model, `kiln serve /predict ${BATCH_ROWS} rows`)],
        path: '/predict',
        request: post(bodies.predictBatch),
        rounds: options.rounds,
        durationSec: options.durationSec,
        warmupSec: options.warmupSec,
        connections: BATCH_CONNECTIONS,
        ...tool,
      });
      if (batch === undefined) throw new Error('missing batch figures');
      const inProcess: { rowsPerSec: number; cpuMicrosPerBatch: number; oneRowUs: number }[] = [];
      for (let r = 0; r < options.rounds; r++) {
        const figures = pinnedChild([
          '--import',
          'tsx',
          join(ROOT, 'bench/serve-model.ts'),
          'predict',
          model.packageDir,
          model.xFile,
          String(options.durationSec),
        ]) as { rowsPerSec: number; cpuMicrosPerBatch: number; oneRowUs: number };
        inProcess.push(figures);
        progress(
          `batch baseline round ${r + 1}/${options.rounds}: predictModel ${Math.round(figures.rowsPerSec)} rows/s`,
        );
      }
      const servedRowsPerSec = batch.requestsPerSec * BATCH_ROWS;
      const modelRowsPerSec = median(inProcess.map((f) => f.rowsPerSec));

      // 4: swap under load.
      const swap: SwapFigures = await swapUnderLoad({
        scratch,
        packageDir: model.packageDir,
        bodyFile: bodies.predictOne,
        connections: CONNECTIONS,
        durationSec: Math.max(options.durationSec, 2 * (SWAP_MOVES + 1)),
        warmupSec: options.warmupSec,
        moves: SWAP_MOVES,
      });
      const swapPass = swap.non2xx === 0 && swap.socketErrors === 0 && swap.probe.failures === 0 && swap.versionChanged;

      // 5: memory per loaded model.
      progress(`memory: ServingRuntime with 1 and ${MEMORY_MODELS} loaded copies of the package`);
      const memory = pinnedChild([
        '--expose-gc',
        '--import',
        'tsx',
        join(ROOT, 'bench/serve-model.ts'),
        'memory',
        model.packageDir,
        String(MEMORY_MODELS),
      ]);

      const p99Pass = kilnAtRate.latencyP99Ms < P99_BUDGET_MS;
      const result = benchResult({
        name: 'serve',
        unit: 'req/s',
        value: predict.requestsPerSec,
        baseline: bare.requestsPerSec,
        budget: BUDGET,
        details: {
          subject: `kiln serve <package> from dist/ (KILN_LOG_LEVEL=info), Kiln GBDT ${TREES} trees depth ${DEPTH}, ${FEATURES} features (make_classification, ${TRAIN_ROWS} training rows), one row per request`,
          baselineServer: 'bench/servers/fastify-hello-post.mjs (same POST body, parsed by Fastify, constant answer)',
          connections: CONNECTIONS,
          rounds: options.rounds,
          durationSec: options.durationSec,
          warmupSec: options.warmupSec,
          tool: bare.tool,
          model: {
            packageBytes: model.packageBytes,
            trainSeconds: model.trainSeconds === null ? 'cached' : round(model.trainSeconds),
            testAuc: model.testAuc === null ? 'cached' : round(model.testAuc),
            inProcessOneRowUs: round(median(inProcess.map((f) => f.oneRowUs))),
          },
          requestBytes: bodies.bytes,
          answers,
          cpuRatio: ratio(bare.cpuMicrosPerRequest, predict.cpuMicrosPerRequest),
          predict: {
            ...summary(predict),
            ratio: ratio(predict.requestsPerSec, bare.requestsPerSec),
            cpuRatio: ratio(bare.cpuMicrosPerRequest, predict.cpuMicrosPerRequest),
            rss: maxRss(kilnRss),
          },
          predictAtWarn: {
            ...summary(predictAtWarn),
            ratio: ratio(predictAtWarn.requestsPerSec, bare.requestsPerSec),
            cpuRatio: ratio(bare.cpuMicrosPerRequest, predictAtWarn.cpuMicrosPerRequest),
          },
          fastify: { ...summary(bare), rss: maxRss(fastifyRss) },
          halfRate: {
            rate: halfRate,
            budgetP99Ms: P99_BUDGET_MS,
            pass: p99Pass,
            kiln: kilnAtRate,
            fastify: bareAtRate,
            cpuRatio: ratio(bareAtRate.cpuMicrosPerRequest, kilnAtRate.cpuMicrosPerRequest),
            generator:
              'bench/serve-paced.ts: open loop, request i due at i / rate, latency from the due time (µs resolution), up to 64 keep-alive sockets; pinned to core 1',
          },
          oip: {
            ...summary(oip),
            ratio: ratio(oip.requestsPerSec, bare.requestsPerSec),
            cpuRatio: ratio(bare.cpuMicrosPerRequest, oip.cpuMicrosPerRequest),
          },
          invocations: {
            ...summary(invocations),
            ratio: ratio(invocations.requestsPerSec, bare.requestsPerSec),
            cpuRatio: ratio(bare.cpuMicrosPerRequest, invocations.cpuMicrosPerRequest),
          },
          batch: {
            rowsPerRequest: BATCH_ROWS,
            connections: BATCH_CONNECTIONS,
            rowsPerSec: round(servedRowsPerSec),
            baseline: `predictModel on ${BATCH_ROWS}-row frames, one process pinned to core 0`,
            baselineRowsPerSec: round(modelRowsPerSec),
            baselineRounds: inProcess.map((f) => round(f.rowsPerSec)),
            ratio: ratio(servedRowsPerSec, modelRowsPerSec),
            baselineCpuMicrosPerBatch: round(median(inProcess.map((f) => f.cpuMicrosPerBatch))),
            cpuRatio: ratio(median(inProcess.map((f) => f.cpuMicrosPerBatch)), batch.cpuMicrosPerRequest),
            ...summary(batch),
          },
          swap: { ...swap, pass: swapPass },
          memory,
          noisy: [bare, predict, oip, invocations, predictAtWarn, batch].some((f) => f.spread > NOISY_SPREAD),
          loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
          machine: describeMachine(),
        },
      });
      return { ...result, pass: result.pass && p99Pass && swapPass };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
