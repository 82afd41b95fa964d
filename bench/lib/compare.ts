import { readFileSync } from 'node:fs';
import type { LoadRequest, LoadResult, LoadTool } from './load.js';
import { runLoad } from './load.js';
import type { ServerProcess } from './process.js';
import { median, progress, round } from './result.js';

/** One server under comparison: how to start a fresh process of it (pinned to core 0). */
export interface Contender {
  name: string;
  start(round: number): Promise<ServerProcess>;
  /** This contender's own path (default the comparison's `path`), e.g. another protocol's route. */
  path?: string;
  /** This contender's own method, body and headers (default the comparison's `request`). */
  request?: LoadRequest;
  /** Called after each measured run, before the process stops (e.g. to read its memory). */
  onMeasured?(server: ServerProcess, load: LoadResult): void;
}

export interface CompareOptions {
  contenders: readonly Contender[];
  /** Path requested on every contender, e.g. `/health/live`. */
  path: string;
  rounds: number;
  durationSec: number;
  /** Load applied and discarded before each measurement, so the JIT has settled. */
  warmupSec: number;
  connections: number;
  tool?: LoadTool;
  /** Method, body and headers of every request (default a plain GET); a contender may override it. */
  request?: LoadRequest;
}

/** Median and per-round figures of one contender. */
export interface ContenderFigures {
  name: string;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Bytes the server wrote to its log (stderr) per measured request: shows per-request logging. */
  logBytesPerRequest: number;
  /**
   * Server CPU time per request in microseconds over all measured rounds (null without /proc).
   * Unlike requests/s it hardly moves when neighbours compete for the cores.
   */
  cpuMicrosPerRequest: number | null;
  /** Largest over smallest round requests/s: above ~1.2 the machine was busy with something else. */
  spread: number;
  /** Requests/s of each round, in the order measured. */
  rounds: number[];
  /** Server CPU µs per request of each round; a bimodal spread points at JIT state, not load. */
  cpuRounds: (number | null)[];
  tool: LoadTool;
}

/**
 * Measures requests/s of each contender over several rounds, alternating which goes first each
 * round so that slow drift of a noisy machine (thermal, neighbours) hits all of them alike, and
 * reports the median. Each round starts a fresh process and stops it afterwards, so an idle
 * contender never steals the core from the one being measured.
 *
 * @example
 * const [kiln, bare] = await compareThroughput({ contenders: [kilnServer, fastifyHello], path: '/health/live', rounds: 3, durationSec: 10, warmupSec: 2, connections: 32 });
 */
export async function compareThroughput(options: CompareOptions): Promise<ContenderFigures[]> {
  const runs = new Map<string, { load: LoadResult; logBytes: number; cpuSeconds: number | undefined }[]>();
  for (const contender of options.contenders) runs.set(contender.name, []);
  const count = options.contenders.length;
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < count; i++) {
      const contender = options.contenders[(i + round) % count] as Contender;
      const server = await contender.start(round);
      try {
        const url = `${server.url}${contender.path ?? options.path}`;
        const request = contender.request ?? options.request ?? {};
        await expectOk(url, contender.name, request);
        const shared = {
          url,
          connections: options.connections,
          core: 1,
          ...request,
          ...(options.tool ? { tool: options.tool } : {}),
        };
        if (options.warmupSec > 0) await runLoad({ ...shared, durationSec: options.warmupSec });
        const logBefore = server.logBytes();
        const cpuBefore = server.cpuSeconds();
        const load = await runLoad({ ...shared, durationSec: options.durationSec });
        const cpuAfter = server.cpuSeconds();
        const logBytes = server.logBytes() - logBefore;
        const cpuSeconds = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
        runs.get(contender.name)?.push({ load, logBytes, cpuSeconds });
        contender.onMeasured?.(server, load);
        const cpu = cpuSeconds === undefined ? '' : `, ${((cpuSeconds / load.requests) * 1e6).toFixed(1)} µs CPU/req`;
        progress(
          `round ${round + 1}/${options.rounds} ${contender.name}: ${Math.round(load.requestsPerSec)} req/s (p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms${cpu}, ${load.tool})`,
        );
      } finally {
        const code = await server.stop();
        if (code !== 0) progress(`${contender.name} exited with code ${code} after SIGTERM`);
      }
    }
  }
  return options.contenders.map((contender) => {
    const list = runs.get(contender.name) ?? [];
    const requests = list.reduce((sum, run) => sum + run.load.requests, 0);
    const logBytes = list.reduce((sum, run) => sum + run.logBytes, 0);
    const cpuKnown = list.every((run) => run.cpuSeconds !== undefined);
    const cpuSeconds = list.reduce((sum, run) => sum + (run.cpuSeconds ?? 0), 0);
    return {
      name: contender.name,
      requestsPerSec: round(median(list.map((run) => run.load.requestsPerSec))),
      latencyP50Ms: median(list.map((run) => run.load.latencyP50Ms)),
      latencyP99Ms: median(list.map((run) => run.load.latencyP99Ms)),
      logBytesPerRequest: requests === 0 ? 0 : round(logBytes / requests),
      cpuMicrosPerRequest: cpuKnown && requests > 0 ? round((cpuSeconds / requests) * 1e6) : null,
      spread: round(Math.max(...rates(list)) / Math.min(...rates(list))),
      rounds: list.map((run) => round(run.load.requestsPerSec)),
      cpuRounds: list.map((run) =>
        run.cpuSeconds === undefined ? null : round((run.cpuSeconds / run.load.requests) * 1e6),
      ),
      tool: list[0]?.load.tool ?? 'wrk',
    };
  });
}

function rates(list: readonly { load: LoadResult }[]): number[] {
  return list.map((run) => run.load.requestsPerSec);
}

async function expectOk(url: string, name: string, request: LoadRequest): Promise<void> {
  const method = request.method ?? 'GET';
  const response = await fetch(url, {
    method,
    headers: { ...request.headers },
    ...(request.bodyFile === undefined ? {} : { body: readFileSync(request.bodyFile) }),
  });
  const body = await response.text();
  if (response.status !== 200)
    throw new Error(`${name}: ${method} ${url} answered ${response.status}: ${body.slice(0, 500)}`);
}
