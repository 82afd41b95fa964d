import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pinnedCommand } from './machine.js';

/**
 * A server started for a benchmark: its own process, pinned to one core, stderr (its log) sent to
 * a file as it would be in production rather than through a pipe the harness must drain.
 *
 * @example
 * const server = await startServerProcess({ label: 'fastify', command: 'node', args: ['bench/servers/fastify-hello.mjs'], core: 0, env, logFile });
 * … measure server.url …
 * await server.stop();
 */
export interface ServerProcess {
  readonly label: string;
  /** Base URL the process announced on stdout. */
  readonly url: string;
  readonly pid: number;
  /** Bytes written to the log file so far. */
  logBytes(): number;
  /** CPU seconds (user + system) the process has used so far, from /proc; undefined elsewhere. */
  cpuSeconds(): number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves to the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartServerOptions {
  label: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Core to pin the process to (ignored where pinning is unavailable). */
  core: number;
  /** File that receives the process's stderr. */
  logFile: string;
  /** How long to wait for the URL line. */
  startTimeoutMs?: number;
}

const URL_PATTERN = /(https?:\/\/[^\s"]+)/;

/** Spawns the process and resolves once it prints a line containing its URL on stdout. */
export async function startServerProcess(options: StartServerOptions): Promise<ServerProcess> {
  const logFd = openSync(options.logFile, 'w');
  const [command, args] = pinnedCommand(options.core, options.command, options.args);
  const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', logFd] });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await waitForUrl(child, exited, options);
  return {
    label: options.label,
    url,
    pid: child.pid ?? -1,
    logBytes: () => statSync(options.logFile).size,
    cpuSeconds: () => processCpuSeconds(child.pid),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function waitForUrl(
  child: ChildProcess,
  exited: Promise<number | null>,
  options: StartServerOptions,
): Promise<string> {
  const stdout = child.stdout;
  if (stdout === null) throw new Error(`${options.label}: no stdout`);
  const lines = createInterface({ input: stdout });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const found = new Promise<string>((resolve) => {
    lines.on('line', (line) => {
      const match = URL_PATTERN.exec(line);
      if (match?.[1] !== undefined) resolve(match[1].replace(/\/+$/, ''));
    });
  });
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.label}: no URL on stdout within ${timeoutMs} ms\n${logTail(options.logFile)}`));
    }, timeoutMs);
    void exited.then((code) =>
      reject(new Error(`${options.label}: exited with code ${code} before listening\n${logTail(options.logFile)}`)),
    );
  });
  try {
    return await Promise.race([found, failed]);
  } finally {
    clearTimeout(timer);
  }
}

const CLOCK_TICKS_PER_SECOND = (() => {
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/**
 * utime + stime of a process from /proc/<pid>/stat. CPU time per request is a property of the
 * code, whereas requests/s on a shared machine also measures the neighbours; the two together
 * tell them apart.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
