import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KILN_VERSION } from '../core/index.js';
import { ALL_MIGRATIONS } from '../server/index.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let scratch = '';
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kiln-cli-test-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The caller's environment without KILN_* variables, plus `extra`. */
function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  return { ...env, KILN_LOG_LEVEL: 'warn', ...extra };
}

function freshHome(name: string): string {
  return join(scratch, name);
}

function kiln(
  args: string[],
  extra: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: environment({ KILN_HOME: freshHome('default'), ...extra }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('kiln version', () => {
  test('prints the CLI version without contacting a server', () => {
    const run = kiln(['version']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), `kiln ${KILN_VERSION}`);
  });

  test('--json prints the CLI version as JSON', () => {
    const run = kiln(['version', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { cli: KILN_VERSION });
  });
});

describe('kiln config', () => {
  const env = { KILN_PORT: '6001', KILN_DATABASE_URL: 'postgres://kiln:s3cret@db.example:5432/kiln' };

  test('--json reflects the environment and masks the database password', () => {
    const run = kiln(['config', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const values = JSON.parse(run.stdout) as Record<string, string>;
    assert.equal(values['KILN_PORT'], '6001');
    assert.equal(values['KILN_DATABASE_URL'], 'postgres://kiln:***@db.example:5432/kiln');
    assert.equal(values['KILN_HOST'], '127.0.0.1');
    assert.ok(!run.stdout.includes('s3cret'));
  });

  test('the table shows each variable with its source and never the password', () => {
    const run = kiln(['config'], env);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^variable\s+value\s+source\s+doc$/);
    assert.match(run.stdout, /^KILN_PORT\s+6001\s+environment\s+TCP port/m);
    assert.match(run.stdout, /^KILN_HOST\s+127\.0\.0\.1\s+default\s/m);
    assert.ok(!run.stdout.includes('s3cret'));
  });

  test('--markdown prints the README table', () => {
    const run = kiln(['config', '--markdown']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\| variable \| type \| default \| what it sets \|$/m);
    assert.match(run.stdout, /^\| `KILN_PORT` \| integer \| `5000` \|/m);
  });

  test('a bad KILN_PORT fails with exit 1 naming the variable, without a stack trace', () => {
    const run = kiln(['config'], { KILN_PORT: 'abc' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kiln: KILN_PORT: expected an integer, got 'abc'$/m);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
    assert.equal(run.stdout, '');
  });
});

describe('usage errors exit 2', () => {
  test('unknown command', () => {
    const run = kiln(['frobnicate']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown command 'frobnicate'/);
  });

  test('unknown option', () => {
    const run = kiln(['config', '--frobnicate']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown option '--frobnicate'/);
  });

  test('malformed flag value names the flag', () => {
    const run = kiln(['server', '--port', 'abc']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--port: expected an integer, got 'abc'/);
  });

  test('malformed --url', () => {
    const run = kiln(['health', '--url', 'ftp://example.com']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--url/);
  });

  test('--help documents the exit codes and exits 0', () => {
    const run = kiln(['--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Exit codes:\n\s+0\s+success\n\s+1\s+failure.*\n\s+2\s+usage error/);
  });
});

describe('kiln db', () => {
  test('upgrade applies every migration once; status reports them', () => {
    assert.ok(ALL_MIGRATIONS.length > 0);
    const home = { KILN_HOME: freshHome('db') };
    const ids = ALL_MIGRATIONS.map((migration) => migration.id);

    const before = kiln(['db', 'status', '--json'], home);
    assert.equal(before.code, 0, before.stderr);
    assert.equal((JSON.parse(before.stdout) as { pending: number }).pending, ids.length);
    assert.ok(!existsSync(join(home.KILN_HOME, 'kiln.db')), 'status must not create the database');

    const first = kiln(['db', 'upgrade', '--json'], home);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { applied: string[]; alreadyApplied: number; error?: unknown };
    assert.deepEqual(report.applied, ids);
    assert.equal(report.alreadyApplied, 0);
    assert.equal(report.error, undefined);

    const second = kiln(['db', 'upgrade', '--json'], home);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), {
      database: (JSON.parse(first.stdout) as { database: string }).database,
      applied: [],
      alreadyApplied: ids.length,
    });

    const table = kiln(['db', 'upgrade'], home);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /is up to date/);

    const after = kiln(['db', 'status'], home);
    assert.equal(after.code, 0, after.stderr);
    for (const id of ids) assert.match(after.stdout, new RegExp(`^${id}\\s+applied\\s+\\d{4}-`, 'm'));
    assert.match(after.stdout, /up to date\.$/m);
  });

  test('upgrade on an unusable database exits 1 with the reason', () => {
    const run = kiln(['db', 'upgrade'], { KILN_DATABASE_URL: 'sqlite:/dev/null/kiln.db' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kiln: .*\/dev\/null/m);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  });
});

/** A port nothing listens on: bound once by the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Reads stdout lines of a running process until one matches. */
function waitForLine(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const match = pattern.exec(line);
      if (match) resolve(match);
      else reject(new Error(`unexpected first line '${line}'; stderr: ${stderr}`));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)));
  });
}

describe('kiln server', () => {
  test('prints one URL line, serves /health/ready, answers kiln health, stops on SIGTERM with 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'server', '--port', '0'], {
      env: environment({ KILN_HOME: freshHome('server') }),
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const match = await waitForLine(child, /^Kiln (\S+) listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      assert.equal(match[1], KILN_VERSION);
      const url = match[2] as string;

      const ready = await fetch(`${url}/health/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { status: string }).status, 'ready');

      const health = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'health', '--url', url, '--json'], {
        env: environment({}),
        encoding: 'utf8',
      });
      assert.equal(health.status, 0, health.stderr);
      assert.equal((JSON.parse(health.stdout) as { ready: boolean }).ready, true);

      const version = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'version', '--url', url], {
        env: environment({}),
        encoding: 'utf8',
      });
      assert.equal(version.status, 0, version.stderr);
      assert.match(version.stdout, new RegExp(`^server ${KILN_VERSION.replaceAll('.', '\\.')} at ${url}$`, 'm'));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.equal(stdout.trimEnd().split('\n').length, 1, `stdout: ${stdout}`);
  });

  test('kiln health against a closed port exits 1; kiln version still exits 0', async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const health = kiln(['health', '--url', closed]);
    assert.equal(health.code, 1);
    assert.match(health.stderr, /^kiln: /m);
    const version = kiln(['version', '--url', closed]);
    assert.equal(version.code, 0, version.stderr);
    assert.ok(version.stdout.includes(`server unreachable at ${closed}: `), version.stdout);
  });
});
