import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestContext } from '../../src/core/index.js';
import { type Database, openDatabase } from '../../src/store/index.js';
import { createTrackingServices, type TrackingServices } from '../../src/tracking/index.js';
import type { LoadResult } from './load.js';
import { parseWrk, runPinned } from './load.js';
import { cpuPinning } from './machine.js';
import { type ServerProcess, startServerProcess } from './process.js';

/** The repository root (bench/ is one level below). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** PostgreSQL the benchmarks use unless `KILN_BENCH_PG_URL` says otherwise. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The environment without any KILN_* variable of the caller, so only what we set applies. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  return { ...env, ...extra };
}

/**
 * Starts the real `kiln server` from dist/ pinned to core 0, with `KILN_HOME` in `home` and
 * optionally another database URL.
 *
 * @example
 * const server = await startKiln({ home: '/tmp/x/home', logFile: '/tmp/x/kiln.log' });
 */
export function startKiln(options: { home: string; logFile: string; databaseUrl?: string }): Promise<ServerProcess> {
  const extra: Record<string, string> = { KILN_HOME: options.home, KILN_LOG_LEVEL: 'info' };
  if (options.databaseUrl !== undefined) extra.KILN_DATABASE_URL = options.databaseUrl;
  return startServerProcess({
    label: 'kiln',
    command: process.execPath,
    args: [join(ROOT, 'dist/cli/main.js'), 'server', '--host', '127.0.0.1', '--port', '0'],
    env: cleanEnv(extra),
    core: 0,
    logFile: options.logFile,
  });
}

/** Resident set size now and its peak (VmHWM) in MB, from /proc/<pid>/status; null elsewhere. */
export function rssMb(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: Math.round(field('VmRSS') / 1024), peakRssMb: Math.round(field('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** POSTs JSON and returns the parsed answer; throws on a non-2xx status. */
export async function postJson<T = unknown>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** GETs JSON; throws on a non-2xx status. */
export async function getJson<T = unknown>(url: string): Promise<T> {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Creates a run through the MLflow API and returns its id. */
export async function createMlflowRun(baseUrl: string, experimentId = '0'): Promise<string> {
  const answer = await postJson<{ run: { info: { run_id: string } } }>(`${baseUrl}/api/2.0/mlflow/runs/create`, {
    experiment_id: experimentId,
    start_time: Date.now(),
  });
  return answer.run.info.run_id;
}

/** The p-th percentile (0–100, nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Times `fn` `repeats` times one after the other; milliseconds per call. */
export async function timeRepeated(repeats: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** Rounds milliseconds to microseconds. */
export function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** wrk on core 1 with a Lua script; throws on socket errors or non-2xx answers. */
export async function wrkWithScript(options: {
  url: string;
  connections: number;
  durationSec: number;
  script?: string;
}): Promise<LoadResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationSec}s`, '--latency'];
  if (options.script !== undefined) args.push('-s', options.script);
  args.push(options.url);
  return parseWrk(await runPinned(1, 'wrk', args));
}

/** Pins every thread of this process to `core` (no-op without taskset), so its client work stays off the server's core. */
export function pinSelf(core: number): void {
  if (!cpuPinning().available) return;
  spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
}

/** A positive integer from the environment (for scaling benchmarks down or up), else `fallback`. */
export function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got '${raw}'`);
  return n;
}

/**
 * Tracking services over the database a running `kiln server` has already migrated, for loading
 * benchmark data directly rather than over HTTP. Close `database` when done.
 *
 * @example
 * const { database, tracking } = await openTrackingAt('sqlite:/tmp/x/home/kiln.db');
 */
export async function openTrackingAt(url: string): Promise<{ database: Database; tracking: TrackingServices }> {
  const database = await openDatabase(url, { poolSize: 8 });
  return { database, tracking: createTrackingServices(database, { artifactRoot: 'mlflow-artifacts:/' }) };
}

/** The request context loads run under. */
export const BENCH_CONTEXT: RequestContext = { actor: 'bench', workspace: 'default', requestId: 'bench-load' };
