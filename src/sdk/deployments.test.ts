import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../core/index.js';
import { KilnClient } from './client.js';
import type { DeploymentsApi } from './deployments.js';

/**
 * A deployments server with registered penguin models (GBDT v1 = @champion, logistic v2, a damaged
 * v3) on the real serving runtime, in a child process: the SDK reaches servers only over HTTP.
 */
const SERVER = fileURLToPath(new URL('../serving/deployments/testing/server-main.ts', import.meta.url));

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      const match = /listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
      else reject(new Error(`unexpected first line '${line}'; stderr: ${stderr}`));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}; stderr: ${stderr}`)));
  });
  return { url, child };
}

/** A penguin as a client sends it (no Species), from penguins.json's first rows. */
const PENGUINS = [
  {
    Island: 'Torgersen',
    'Beak Length (mm)': 39.1,
    'Beak Depth (mm)': 18.7,
    'Flipper Length (mm)': 181,
    'Body Mass (g)': 3750,
    Sex: 'MALE',
  },
  {
    Island: 'Biscoe',
    'Beak Length (mm)': 48.7,
    'Beak Depth (mm)': 14.1,
    'Flipper Length (mm)': 210,
    'Body Mass (g)': 4450,
    Sex: 'FEMALE',
  },
  {
    Island: 'Dream',
    'Beak Length (mm)': 46.5,
    'Beak Depth (mm)': 17.9,
    'Flipper Length (mm)': 192,
    'Body Mass (g)': 3500,
    Sex: 'FEMALE',
  },
];

async function rejectsWith(promise: Promise<unknown>, code: string, field?: string): Promise<KilnError> {
  let caught: KilnError | undefined;
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.details?.field, field, err.message);
    caught = err;
    return true;
  });
  return caught as KilnError;
}

describe('DeploymentsApi against a deployments server', () => {
  let server: { url: string; child: ChildProcess };
  let deployments: DeploymentsApi;

  before(async () => {
    server = await startServer();
    deployments = new KilnClient({ baseUrl: server.url, retryDelayMs: 1, timeoutMs: 60_000 }).deployments;
  });
  after(async () => {
    if (server === undefined) return;
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
  });

  it('creates a canary deployment and reads it back with its live status', async () => {
    const created = await deployments.create({
      name: 'penguins',
      targets: [{ model: 'models:/penguins@champion' }, { model: 'models:/penguins/2', role: 'canary', weight: 50 }],
    });
    assert.equal(created.strategy, 'canary');
    assert.equal(created.revision, 1);
    assert.deepEqual(
      created.targets.map((t) => [t.model, t.role, t.weight]),
      [
        ['models:/penguins@champion', 'primary', 50],
        ['models:/penguins/2', 'canary', 50],
      ],
    );
    assert.equal(created.status.ready, true);
    assert.deepEqual(
      created.status.targets.map((t) => t.version),
      ['1', '2'],
    );
    assert.deepEqual(await deployments.get('penguins'), created);
    assert.deepEqual(
      (await deployments.listAll()).map((d) => d.name),
      ['penguins'],
    );
  });

  it('predicts; a route key keeps a client on one version; status counts the requests', async () => {
    const answer = await deployments.predict('penguins', PENGUINS);
    assert.equal(answer.model, 'penguins');
    assert.ok(['1', '2'].includes(answer.version));
    assert.equal(answer.predictions.length, 3);
    assert.deepEqual(answer.classes?.slice().sort(), ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.equal(answer.probabilities?.length, 3);

    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 30; i++) {
      const key = `client-${i % 6}`;
      const routed = await deployments.predict('penguins', PENGUINS.slice(0, 1), { routeKey: key });
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)?.add(routed.version);
    }
    for (const [key, versions] of seen) assert.equal(versions.size, 1, `${key} reached ${[...versions].join(', ')}`);

    const status = await deployments.status('penguins');
    const requests = status.targets.reduce((sum, t) => sum + t.requests, 0);
    assert.equal(requests, 31);
    assert.ok(status.targets.every((t) => t.errors === 0));
  });

  it('brings the server’s errors back as KilnErrors naming the field', async () => {
    await rejectsWith(
      deployments.create({
        name: 'bad',
        targets: [{ model: 'models:/penguins/1' }, { model: 'models:/penguins/2', role: 'canary', weight: 150 }],
      }),
      'INVALID_PARAMETER_VALUE',
      'targets[1].weight',
    );
    await rejectsWith(
      deployments.create({ name: 'bad', targets: [{ model: 'models:/penguins/9' }] }),
      'RESOURCE_DOES_NOT_EXIST',
      'targets[0].model',
    );
    const damaged = await rejectsWith(
      deployments.update('penguins', { targets: [{ model: 'models:/penguins/3' }] }),
      'INVALID_PARAMETER_VALUE',
    );
    assert.match(damaged.message, /checksum/);
    assert.equal((await deployments.get('penguins')).revision, 1);
    await rejectsWith(deployments.predict('nope', PENGUINS), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(deployments.predict('penguins', [{ Island: 'Dream' }]), 'INVALID_PARAMETER_VALUE');
  });

  it('updates, promotes and rolls back; the revisions tell the story', async () => {
    const all = await deployments.update('penguins', {
      targets: [{ model: 'models:/penguins@champion' }, { model: 'models:/penguins/2', role: 'canary', weight: 100 }],
      batching: { max_batch_size: 8, max_wait_ms: 1 },
    });
    assert.equal(all.revision, 2);
    assert.deepEqual(all.batching, { max_batch_size: 8, max_wait_ms: 1 });
    assert.equal((await deployments.predict('penguins', PENGUINS)).version, '2');

    const promoted = await deployments.promote('penguins');
    assert.equal(promoted.strategy, 'single');
    assert.deepEqual(promoted.targets, [{ model: 'models:/penguins/2', role: 'primary', weight: 100 }]);
    assert.equal((await deployments.predict('penguins', PENGUINS)).version, '2');

    const back = await deployments.rollback('penguins', 1);
    assert.equal(back.revision, 4);
    assert.equal(back.strategy, 'canary');
    assert.equal(back.batching, undefined);

    const { revisions, next_page_token } = await deployments.revisions('penguins', { maxResults: 3 });
    assert.deepEqual(
      revisions.map((r) => `${r.revision}:${r.reason}`),
      ['4:rollback', '3:promote', '2:update'],
    );
    assert.ok(next_page_token);
    const rest = await deployments.revisions('penguins', { pageToken: next_page_token });
    assert.deepEqual(
      rest.revisions.map((r) => `${r.revision}:${r.reason}`),
      ['1:create'],
    );
  });

  it('reports the shadow comparison and deletes', async () => {
    await deployments.update('penguins', {
      targets: [{ model: 'models:/penguins/1' }, { model: 'models:/penguins/2', role: 'shadow' }],
    });
    await deployments.predict('penguins', PENGUINS);
    const report = await deployments.shadowReport('penguins');
    assert.equal(report.deployment, 'penguins');
    assert.ok(Array.isArray(report.comparisons));
    await deployments.delete('penguins');
    await rejectsWith(deployments.get('penguins'), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(deployments.predict('penguins', PENGUINS), 'RESOURCE_DOES_NOT_EXIST');
    assert.deepEqual(await deployments.listAll(), []);
  });
});
