import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reportError } from '../exit.js';
import { createProgram } from '../program.js';
import { runCli } from '../testing/run.js';
import { parseVariant, updatedTargets } from './deploy.js';

/**
 * A deployments server with registered penguin models (GBDT v1 = @champion, logistic v2, a damaged
 * v3) on the real serving runtime, in a child process (a synchronous CLI run cannot block it).
 */
const SERVER = fileURLToPath(new URL('../../serving/deployments/testing/server-main.ts', import.meta.url));

/** The environment without the caller's KILN_* variables, so a developer's settings cannot leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  return env;
}

/**
 * Runs `kiln <args> --url <server>` in this process, with stdout and stderr captured: the same
 * command tree and exit-code mapping as main.ts, without paying a process start per command (the
 * server is another process, so nothing blocks it). `runCli` starts real `kiln` processes for the
 * exit codes a shell sees.
 */
async function kiln(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // Commands write text; the test runner reports to its parent through the same stdout in binary
  // frames, which must pass through untouched.
  const capture = (stream: NodeJS.WriteStream, keep: (text: string) => void) => {
    const original = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    return mock.method(stream, 'write', (chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return original(chunk, ...rest);
      keep(chunk);
      return true;
    });
  };
  const out = capture(process.stdout, (text) => {
    stdout += text;
  });
  const err = capture(process.stderr, (text) => {
    stderr += text;
  });
  const env = cleanEnv();
  let code = 0;
  try {
    await createProgram(env).parseAsync([...args, '--url', url], { from: 'user' });
  } catch (error) {
    code = reportError(error, env);
  } finally {
    out.mock.restore();
    err.mock.restore();
  }
  return { code, stdout, stderr };
}

let child: ChildProcess;
let url: string;

before(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      const match = /listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
      else reject(new Error(`unexpected first line '${line}'; stderr: ${stderr}`));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}; stderr: ${stderr}`)));
  });
});
after(async () => {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
});

/** Runs `kiln <args> --url <server>` and parses its JSON output, asserting exit 0. */
async function kilnJson(
  args: readonly string[],
): Promise<Record<string, unknown> & { deployment?: Record<string, unknown> }> {
  const run = await kiln([...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const ROW = {
  Island: 'Biscoe',
  'Beak Length (mm)': 48.7,
  'Beak Depth (mm)': 14.1,
  'Flipper Length (mm)': 210,
  'Body Mass (g)': 4450,
  Sex: 'FEMALE',
};

describe('kiln deploy', () => {
  test('create with a canary and batching prints the stored deployment (a kiln process)', () => {
    const run = runCli(
      [
        'deploy',
        'create',
        'penguins',
        '--model',
        'models:/penguins@champion',
        '--canary',
        'models:/penguins/2',
        '--canary-weight',
        '10',
        '--batch-size',
        '8',
        '--batch-wait-ms',
        '1',
        '--json',
      ],
      url,
    );
    assert.equal(run.code, 0, run.stderr);
    const { deployment } = JSON.parse(run.stdout);
    assert.equal(deployment?.strategy, 'canary');
    assert.equal(deployment?.revision, 1);
    assert.deepEqual(deployment?.targets, [
      { model: 'models:/penguins@champion', role: 'primary', weight: 90 },
      { model: 'models:/penguins/2', role: 'canary', weight: 10 },
    ]);
    assert.deepEqual(deployment?.batching, { max_batch_size: 8, max_wait_ms: 1 });
  });

  test('usage errors exit 2; server refusals exit 1 naming the field', async () => {
    const none = runCli(['deploy', 'create', 'empty'], url);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /--model/);
    const weight = await kiln(['deploy', 'create', 'x', '--model', 'models:/penguins/1', '--canary-weight', '150']);
    assert.equal(weight.code, 2, weight.stderr);
    assert.match(weight.stderr, /percentage/);
    const missing = await kiln(['deploy', 'create', 'x', '--model', 'models:/penguins/9']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /targets\[0\]\.model: models:\/penguins\/9 does not exist/);
    const nothing = await kiln(['deploy', 'update', 'penguins']);
    assert.equal(nothing.code, 2, nothing.stderr);
    assert.match(nothing.stderr, /nothing to change/);
  });

  test('status shows every target with its version, weight and traffic', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/serve/penguins/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: [ROW] }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    const table = await kiln(['deploy', 'status', 'penguins']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /deployment penguins: revision 1, canary, ready/);
    assert.deepEqual(lines[1]?.split(/\s+/), [
      'role',
      'model',
      'version',
      'weight',
      'ready',
      'requests',
      'errors',
      'p50_ms',
      'p99_ms',
    ]);
    assert.deepEqual(lines[2]?.split(/\s+/).slice(0, 5), ['primary', 'models:/penguins@champion', '1', '90%', 'yes']);
    assert.deepEqual(lines[3]?.split(/\s+/).slice(0, 5), ['canary', 'models:/penguins/2', '2', '10%', 'yes']);
    const requests = [lines[2], lines[3]].map((line) => Number(line?.split(/\s+/)[5]));
    assert.equal(
      requests.reduce((sum, n) => sum + n, 0),
      4,
    );
  });

  test('update re-weights the canary; promote and rollback make new revisions', async () => {
    const updated = (await kilnJson(['deploy', 'update', 'penguins', '--canary-weight', '30', '--no-batching']))
      .deployment;
    assert.equal(updated?.revision, 2);
    assert.equal(updated?.batching, undefined);
    assert.deepEqual(updated?.targets, [
      { model: 'models:/penguins@champion', role: 'primary', weight: 70 },
      { model: 'models:/penguins/2', role: 'canary', weight: 30 },
    ]);
    const promoted = (await kilnJson(['deploy', 'promote', 'penguins'])).deployment;
    assert.equal(promoted?.strategy, 'single');
    assert.deepEqual(promoted?.targets, [{ model: 'models:/penguins/2', role: 'primary', weight: 100 }]);
    const back = (await kilnJson(['deploy', 'rollback', 'penguins'])).deployment;
    assert.equal(back?.revision, 4);
    assert.deepEqual(back?.targets, updated?.targets);
    const first = await kiln(['deploy', 'rollback', 'penguins', '--revision', '1']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /rolled back deployment penguins: revision 5, canary/);

    const revisions = await kiln(['deploy', 'revisions', 'penguins']);
    assert.equal(revisions.code, 0, revisions.stderr);
    const rows = revisions.stdout.trim().split('\n').slice(1);
    assert.deepEqual(
      rows.map((line) => line.split(/\s+/).slice(0, 2).join(' ')),
      ['5 rollback', '4 rollback', '3 promote', '2 update', '1 create'],
    );
  });

  test('a damaged version is refused and the deployment stays as it was', async () => {
    const damaged = await kiln(['deploy', 'update', 'penguins', '--canary', 'models:/penguins/3']);
    assert.equal(damaged.code, 1, damaged.stderr);
    assert.match(damaged.stderr, /checksum/);
    const { status, revision } = (await kilnJson(['deploy', 'status', 'penguins'])) as {
      revision: number;
      status: { ready: boolean };
    };
    assert.equal(revision, 5);
    assert.equal(status.ready, true);
  });

  test('A/B variants, list and delete', async () => {
    const ab = (
      await kilnJson([
        'deploy',
        'create',
        'penguins-ab',
        '--variant',
        'models:/penguins/1=60',
        '--variant',
        'models:/penguins/2=40',
      ])
    ).deployment;
    assert.equal(ab?.strategy, 'ab');
    const table = await kiln(['deploy', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const names = table.stdout.trim().split('\n').slice(1);
    assert.deepEqual(
      names.map((line) => line.split(/\s+/).slice(0, 4).join(' ')),
      ['penguins canary 5 yes', 'penguins-ab ab 1 yes'],
    );
    const deleted = await kiln(['deploy', 'delete', 'penguins-ab']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), 'Deleted deployment penguins-ab.');
    const gone = await kiln(['deploy', 'status', 'penguins-ab']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Deployment 'penguins-ab' does not exist/);
  });
});

describe('deploy flag parsing', () => {
  test('--variant takes <ref>=<percent>, or a ref alone for equal shares', () => {
    assert.deepEqual(parseVariant('models:/flights/3=60'), { model: 'models:/flights/3', role: 'variant', weight: 60 });
    assert.deepEqual(parseVariant('models:/flights@champion'), { model: 'models:/flights@champion', role: 'variant' });
    assert.throws(() => parseVariant('models:/flights/3=abc'), /percentage/);
    assert.throws(() => parseVariant('=5'), /expected <model>=<percent>/);
  });

  test('update flags change only the targets they name', () => {
    const current = {
      name: 'f',
      strategy: 'canary' as const,
      targets: [
        { model: 'models:/f@champion', role: 'primary' as const, weight: 80 },
        { model: 'models:/f/4', role: 'canary' as const, weight: 20 },
        { model: 'models:/f/5', role: 'shadow' as const, weight: 50 },
      ],
      max_queue: 1000,
      timeout_ms: 10_000,
      input: { extra_columns: 'ignore' as const, max_batch_rows: 10_000 },
      logging: { sample_rate: 1 },
    };
    assert.equal(updatedTargets(current, {}), undefined);
    assert.deepEqual(updatedTargets(current, { canary: 'models:/f/6' }), [
      { model: 'models:/f@champion', role: 'primary', weight: 80 },
      { model: 'models:/f/6', role: 'canary', weight: 20 },
      { model: 'models:/f/5', role: 'shadow', weight: 50 },
    ]);
    assert.deepEqual(updatedTargets(current, { shadowWeight: 5 })?.at(-1), {
      model: 'models:/f/5',
      role: 'shadow',
      weight: 5,
    });
    assert.deepEqual(updatedTargets(current, { model: 'models:/f/7' }), [{ model: 'models:/f/7', role: 'primary' }]);
    const single = { ...current, targets: [current.targets[0] as (typeof current.targets)[number]] };
    assert.throws(() => updatedTargets(single, { canaryWeight: 5 }), /has no canary/);
  });
});
