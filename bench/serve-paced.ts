/**
 * An open-loop load generator for latency at a fixed request rate (bench/serve.ts, "p99 at half the
 * saturating rate"). autocannon's `-R` is not one: each connection sends its per-second quota back
 * to back and then waits for the next second, so at half the saturating rate the server is
 * saturated for half of every second and the latencies are those of saturation. This sends request
 * i at start + i / rate, spread evenly, over up to `connections` keep-alive sockets, and measures
 * each latency from the time the request was due (a request that waits for a free socket counts
 * its wait: no coordinated omission), with microsecond resolution.
 *
 * Run as a script (`node --import tsx bench/serve-paced.ts <json options>`) it prints one JSON line;
 * {@link runPaced} starts it pinned to a core.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib/kiln.js';
import { runPinned } from './lib/load.js';

/** What one paced run is asked to do. */
export interface PacedOptions {
  url: string;
  /** Requests per second, spread evenly. */
  rate: number;
  durationSec: number;
  /** Most sockets open at once (requests beyond wait for one, and their wait counts). */
  connections: number;
  method: string;
  bodyFile: string;
  headers: Record<string, string>;
}

/** What a paced run measured. */
export interface PacedResult {
  /** Requests due in the run (rate × duration). */
  sent: number;
  /** Answers received per second of the run. */
  achievedPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyP999Ms: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  /**
   * How late the generator itself sent requests (p99 and max, ms): when this is large the generator
   * was held up (its core busy with other work), and so are the latencies it reports.
   */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
}

/** Starts the generator on `core` and resolves to its figures. */
export async function runPaced(options: PacedOptions, core: number): Promise<PacedResult> {
  const script = join(ROOT, 'bench/serve-paced.ts');
  const out = await runPinned(core, process.execPath, ['--import', 'tsx', script, JSON.stringify(options)]);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as PacedResult;
}

function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

async function generate(options: PacedOptions): Promise<PacedResult> {
  const body = readFileSync(options.bodyFile);
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const headers = { ...options.headers, 'content-length': String(body.length) };
  const total = Math.max(1, Math.round(options.rate * options.durationSec));
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  let done = 0;
  let non2xx = 0;
  let errors = 0;
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const settle = (index: number, due: number, ok: boolean | undefined) => {
    latencies[index] = performance.now() - due;
    if (ok === false) non2xx++;
    if (ok === undefined) errors++;
    if (++done === total) finished();
  };
  const send = (index: number, due: number) => {
    const req = request(
      { agent, method: options.method, hostname: target.hostname, port: target.port, path: target.pathname, headers },
      (res) => {
        res.resume();
        res.once('end', () => settle(index, due, (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
        res.once('error', () => settle(index, due, undefined));
      },
    );
    req.once('error', () => settle(index, due, undefined));
    req.end(body);
  };
  const start = performance.now();
  const interval = 1000 / options.rate;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        lags[next] = now - (start + next * interval);
        send(next, start + next * interval);
        next++;
      }
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    tick();
  });
  await allDone;
  const elapsedSec = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.slice().sort();
  const sortedLags = lags.sort();
  const ms = (x: number) => Math.round(x * 1000) / 1000;
  return {
    sent: total,
    achievedPerSec: Math.round(total / elapsedSec),
    latencyP50Ms: ms(percentileOf(sorted, 50)),
    latencyP99Ms: ms(percentileOf(sorted, 99)),
    latencyP999Ms: ms(percentileOf(sorted, 99.9)),
    latencyMaxMs: ms(sorted[sorted.length - 1] ?? Number.NaN),
    non2xx,
    errors,
    sendLagP99Ms: ms(percentileOf(sortedLags, 99)),
    sendLagMaxMs: ms(sortedLags[sortedLags.length - 1] ?? Number.NaN),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await generate(JSON.parse(process.argv[2] ?? '{}') as PacedOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
