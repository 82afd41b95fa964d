import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { pinnedCommand } from './machine.js';

/** Which HTTP load generator drives a benchmark. */
export type LoadTool = 'wrk' | 'autocannon';

/**
 * What one load run measured. Only successful responses count: a run with socket errors or
 * non-2xx answers throws instead of reporting a flattering rate for failures.
 *
 * @example
 * const run = await runLoad({ url: 'http://127.0.0.1:5000/health/live', connections: 32, durationSec: 10, core: 1 });
 * run.requestsPerSec; // 21874.2
 */
export interface LoadResult {
  tool: LoadTool;
  requestsPerSec: number;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Answers outside 2xx; only with `allowFailures` can it be above 0 (autocannon only). */
  non2xx?: number;
  /** Socket errors and timeouts; only with `allowFailures` can it be above 0 (autocannon only). */
  errors?: number;
}

/** A request other than a plain GET: its method, a file holding its body, and extra headers. */
export interface LoadRequest {
  /** Default GET. */
  method?: string;
  /** A file whose bytes are the body of every request (a file, not an argument: bodies may exceed the argv limit). */
  bodyFile?: string;
  headers?: Readonly<Record<string, string>>;
}

export interface LoadOptions extends LoadRequest {
  url: string;
  connections: number;
  durationSec: number;
  /** Core to pin the load generator to (ignored where pinning is unavailable). */
  core: number;
  /** Forces a tool; by default wrk when installed, otherwise autocannon. */
  tool?: LoadTool;
  /**
   * Report non-2xx answers and socket errors in the result instead of throwing (autocannon only):
   * for runs that count failures, such as a swap under load.
   */
  allowFailures?: boolean;
}

/** wrk when it is on the PATH (lighter on its core than a Node load generator), else autocannon. */
export function defaultLoadTool(): LoadTool {
  return spawnSync('wrk', ['--version']).error === undefined ? 'wrk' : 'autocannon';
}

/** Drives `url` for `durationSec` from a separate, pinned process and parses its report. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const tool = options.tool ?? defaultLoadTool();
  if (tool === 'wrk') {
    if (options.allowFailures === true) throw new Error('allowFailures needs autocannon');
    const args = ['-t1', `-c${options.connections}`, `-d${options.durationSec}s`, '--latency'];
    if (hasRequest(options)) args.push('-s', wrkRequestScript(options));
    args.push(options.url);
    return parseWrk(await runPinned(options.core, 'wrk', args));
  }
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [bin, '-j', '-c', String(options.connections), '-d', String(options.durationSec)];
  if (options.method !== undefined) args.push('-m', options.method);
  if (options.bodyFile !== undefined) args.push('-i', options.bodyFile);
  for (const [key, value] of Object.entries(options.headers ?? {})) args.push('-H', `${key}=${value}`);
  args.push(options.url);
  const report = await runPinned(options.core, process.execPath, args);
  return parseAutocannon(report, options.allowFailures === true);
}

function hasRequest(request: LoadRequest): boolean {
  return request.method !== undefined || request.bodyFile !== undefined || request.headers !== undefined;
}

/** A wrk Lua script (next to the body file, or in the temp dir) setting the method, body and headers. */
function wrkRequestScript(request: LoadRequest): string {
  const lines: string[] = [];
  if (request.method !== undefined) lines.push(`wrk.method = ${JSON.stringify(request.method)}`);
  if (request.bodyFile !== undefined) {
    lines.push(
      `local f = assert(io.open(${JSON.stringify(request.bodyFile)}, "rb"))`,
      'wrk.body = f:read("*a")',
      'f:close()',
    );
  }
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    lines.push(`wrk.headers[${JSON.stringify(key)}] = ${JSON.stringify(value)}`);
  }
  const file = `${request.bodyFile ?? `${tmpdir()}/kiln-bench-wrk-${process.pid}`}.lua`;
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Runs a command pinned to `core`, resolving to its stdout; rejects on a non-zero exit. */
export function runPinned(core: number, command: string, args: readonly string[]): Promise<string> {
  const [cmd, argv] = pinnedCommand(core, command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${argv.join(' ')} exited with ${code}: ${err || out}`));
    });
  });
}

const WRK_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function wrkLatencyMs(report: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(report);
  const unit = WRK_UNITS[match?.[2] ?? ''];
  if (match === null || unit === undefined) throw new Error(`wrk report has no ${percentile}% latency:\n${report}`);
  return Math.round(Number(match[1]) * unit * 1000) / 1000;
}

/** Parses `wrk --latency` output; throws on socket errors or non-2xx/3xx responses. */
export function parseWrk(report: string): LoadResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const total = /^\s*(\d+) requests in/m.exec(report);
  if (rate === null || total === null) throw new Error(`unrecognised wrk report:\n${report}`);
  const failures = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  const socket = /Socket errors: (.*)/.exec(report);
  if (failures !== null || socket !== null) {
    throw new Error(`load run had failures (${failures?.[0] ?? ''} ${socket?.[0] ?? ''}); not a valid measurement`);
  }
  return {
    tool: 'wrk',
    requestsPerSec: Number(rate[1]),
    requests: Number(total[1]),
    latencyP50Ms: wrkLatencyMs(report, '50'),
    latencyP99Ms: wrkLatencyMs(report, '99'),
  };
}

interface AutocannonJson {
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
}

/**
 * Parses `autocannon -j` output; throws on errors, timeouts or non-2xx responses unless
 * `allowFailures`, when they are counted in the result instead.
 */
export function parseAutocannon(report: string, allowFailures = false): LoadResult {
  const json = JSON.parse(report) as AutocannonJson;
  if (!allowFailures && (json.errors > 0 || json.timeouts > 0 || json.non2xx > 0)) {
    throw new Error(
      `load run had failures (errors ${json.errors}, timeouts ${json.timeouts}, non-2xx ${json.non2xx}); not a valid measurement`,
    );
  }
  return {
    tool: 'autocannon',
    requestsPerSec: json.requests.total / json.duration,
    requests: json.requests.total,
    latencyP50Ms: json.latency.p50,
    latencyP99Ms: json.latency.p99,
    non2xx: json.non2xx,
    errors: json.errors + json.timeouts,
  };
}
