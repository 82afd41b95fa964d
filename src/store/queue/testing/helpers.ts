import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../../core/index.js';
import type { Queue, QueueEvent } from '../queue.js';

/** Generous bound for anything a test waits on; only a broken implementation reaches it. */
export const WAIT_MS = 30_000;

/** A queue name no other test uses, so test files can share one backend and run in parallel. */
export function uniqueName(stem = 'q'): string {
  return `${stem}-${randomBytes(5).toString('hex')}`;
}

/** A promise with its resolve function outside, for steering a processor from the test. */
export interface Gate<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function gate<T = void>(): Gate<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Records the events of one queue from now on; `stop` unsubscribes. */
export function recordEvents(queue: Queue, name: string): { events: QueueEvent[]; stop(): void } {
  const events: QueueEvent[] = [];
  const stop = queue.on((event) => {
    if (event.queue === name) events.push(event);
  });
  return { events, stop };
}

/** A child process running one of the scripts in this folder, with its stdout as lines. */
export interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line `match` accepts; rejects if the child exits first. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the signal or exit code once the child is gone. */
  exited: Promise<string>;
}

/** Starts `node --import tsx <script in this folder> ...args`. */
export function startChild(script: string, args: string[]): Child {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) waiter();
  });
  let exitedWith: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      exitedWith = signal ?? String(code);
      resolve(exitedWith);
      for (const waiter of [...waiters]) waiter();
    });
  });
  return {
    process: child,
    lines,
    exited,
    line(match, timeoutMs = WAIT_MS) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`child printed no matching line in ${timeoutMs} ms`)),
          timeoutMs,
        );
        const finish = (error?: Error, line?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (line !== undefined) resolve(line);
          else reject(error);
        };
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) finish(undefined, found);
          else if (exitedWith !== undefined) finish(new Error(`child exited (${exitedWith}) before printing the line`));
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** An `assert.rejects` check: a KilnError with `code` and, if given, naming `field` in its details. */
export function hasCode(code: string, field?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof KilnError, `expected a KilnError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.details?.field, field, err.message);
    return true;
  };
}
