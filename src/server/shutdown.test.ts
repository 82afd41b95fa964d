import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./testing/slow-server.ts', import.meta.url));

type Child = ChildProcessByStdio<Writable, Readable, null>;

interface Server {
  child: Child;
  url: URL;
  /** Resolves with the next stdout line equal to or starting with `prefix`. */
  line(prefix: string): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Child[] = [];

async function startChild(home: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: { ...process.env, KILN_HOME: home, KILN_PORT: '0', KILN_LOG_LEVEL: 'silent' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  const seen: string[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const i = waiting.findIndex((w) => text.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(text);
    else seen.push(text);
  });
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const i = seen.findIndex((text) => text.startsWith(prefix));
      if (i >= 0) resolve(seen.splice(i, 1)[0] ?? '');
      else waiting.push({ prefix, resolve });
      exit.then(({ code }) => reject(new Error(`server exited (${code}) before printing '${prefix}'`)));
    });
  const listening = await line('listening ');
  return { child, url: new URL(listening.slice('listening '.length)), line, exit };
}

function getJson(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function connectionRefused(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kiln-shutdown-'));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(home, { recursive: true, force: true });
  });

  it('should finish the in-flight request, refuse new connections and exit 0 on SIGTERM', async () => {
    const server = await startChild(join(home, 'graceful'));
    const live = await getJson(new URL('/health/live', server.url));
    assert.equal(live.status, 200);

    const inFlight = getJson(new URL('/test/slow', server.url));
    await server.line('in-flight');
    server.child.kill('SIGTERM');

    while (!(await connectionRefused(server.url))) await delay(20);
    server.child.stdin.write('release\n');

    const finished = await inFlight;
    assert.equal(finished.status, 200);
    assert.deepEqual(JSON.parse(finished.body), { finished: true });
    assert.deepEqual(await server.exit, { code: 0, signal: null });
  });

  it('should exit at once with code 1 on a second signal', async () => {
    const server = await startChild(join(home, 'forced'));
    const inFlight = getJson(new URL('/test/slow', server.url)).catch((err: Error) => err);
    await server.line('in-flight');
    server.child.kill('SIGTERM');
    while (!(await connectionRefused(server.url))) await delay(20);
    server.child.kill('SIGINT');
    assert.deepEqual(await server.exit, { code: 1, signal: null });
    assert.ok((await inFlight) instanceof Error, 'the unfinished request was cut off');
  });
});
