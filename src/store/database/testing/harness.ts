import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../../core/index.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./database-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Asserts that `promise` rejects with a KilnError of `code` whose message matches `pattern`. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<KilnError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof KilnError, `expected a KilnError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

/** A child process running database-child.ts, with its stdout split into lines. */
export class DatabaseChild {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  #stderr = '';
  #waiters: Array<() => void> = [];
  readonly #process: ChildProcessWithoutNullStreams;

  constructor(args: string[]) {
    this.#process = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, ...args], { cwd: REPO_ROOT });
    this.#process.stderr.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    createInterface({ input: this.#process.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.#process.on('close', (code) => resolve(code)));
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves once stdout has at least `count` lines; rejects if the process exits first. */
  async waitForLines(count: number): Promise<void> {
    let finished = false;
    void this.exited.then(() => {
      finished = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    while (this.lines.length < count) {
      if (finished) throw new Error(`child exited after ${this.lines.length} lines: ${this.#stderr}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Writes the one line the child waits for, then closes its stdin. */
  send(line: string): void {
    this.#process.stdin.end(`${line}\n`);
  }

  kill(): void {
    this.#process.kill('SIGKILL');
  }

  async succeed(): Promise<void> {
    const code = await this.exited;
    assert.equal(code, 0, `child failed: ${this.#stderr}`);
  }
}
