import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type KilnConfig, silentLogger, systemContext } from '../src/core/index.js';
import type { RegistryService } from '../src/registry/index.js';
import { KilnClient } from '../src/sdk/index.js';
import { StudiesApi, type Trial } from '../src/sdk/tune.js';
import { buildApp, type KilnApp, type Stores } from '../src/server/index.js';
import { testConfig } from '../src/server/testing/app.js';
import { openTuningStores, trainingStudies } from './tune-training-fixtures.js';

const PENGUINS = fileURLToPath(new URL('../node_modules/vega-datasets/data/penguins.json', import.meta.url));
const CLI = fileURLToPath(new URL('./tune-cli.ts', import.meta.url));
const ctx = systemContext('tune-api');

/** A JSON answer; its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: responses are untyped JSON whose fields the tests assert one by one
type Wire = Record<string, any>;

/** Runs the CLI in a child process, asynchronously: the server it talks to lives in this process. */
function kiln(args: string[], url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--url', url], {
    env: { ...env, KILN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const penguinsStudy = {
  data: 'penguins@1',
  target: 'Species',
  task: 'classification',
  model: 'gbdt',
  params: { n_estimators: 10 },
  space: {
    max_depth: { type: 'int', low: 1, high: 4 },
    learning_rate: { type: 'float', low: 0.05, high: 0.5, log: true },
  },
} as const;

describe('studies over HTTP: REST, the SDK and kiln tune', () => {
  let config: KilnConfig;
  let stores: Stores;
  let app: KilnApp;
  let registry: RegistryService;
  let url: string;
  let studies: StudiesApi;

  before(async () => {
    config = await testConfig();
    stores = await openTuningStores(config);
    const services = trainingStudies(config, stores);
    registry = services.registry;
    app = await buildApp({ config, logger: silentLogger(), stores });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    await services.datasets.create(ctx, { name: 'penguins' });
    await services.datasets.ingestVersion(ctx, 'penguins', { path: PENGUINS });
    studies = new StudiesApi(new KilnClient({ baseUrl: url, retryDelayMs: 1 }));
  });
  after(async () => {
    await app?.close();
    await stores?.close();
    if (config !== undefined) await rm(config.home, { recursive: true, force: true });
  });

  async function post(body: unknown): Promise<{ status: number; body: Wire }> {
    const res = await app.inject({ method: 'POST', url: '/api/v1/studies', payload: body as Wire });
    return { status: res.statusCode, body: res.json() };
  }

  it('answers a bad spec with 400 naming the field', async () => {
    const cases: [Wire, string][] = [
      [{ ...penguinsStudy, n_trials: 0 }, 'n_trials'],
      [{ ...penguinsStudy, parallelism: 1000 }, 'parallelism'],
      [{ ...penguinsStudy, model: 'svm' }, 'model'],
      [{ ...penguinsStudy, metric: 'validation_wobble' }, 'direction'],
      [{ ...penguinsStudy, sampler: { type: 'anneal' } }, 'sampler.type'],
      [{ ...penguinsStudy, space: { max_depth: { type: 'int', low: 5, high: 1 } } }, 'space.max_depth'],
      [{ ...penguinsStudy, params: { max_depth: 3 } }, 'params.max_depth'],
      [{ ...penguinsStudy, register_best: 'a/b' }, 'register_best'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.ok(String(res.body.details?.field ?? '').startsWith(field), `${field}: got ${JSON.stringify(res.body)}`);
    }
    const missing = await post({ ...penguinsStudy, data: undefined });
    assert.equal(missing.status, 400);
    assert.match(JSON.stringify(missing.body), /data/);
    const unknownParam = await post({ ...penguinsStudy, params: { depth: 3 } });
    assert.equal(unknownParam.status, 400);
    assert.match(unknownParam.body.message, /depth/);
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Wire;
    for (const path of [
      '/api/v1/studies',
      '/api/v1/studies/{id}',
      '/api/v1/studies/{id}/trials',
      '/api/v1/studies/{id}/resume',
      '/api/v1/studies/{id}/stop',
    ]) {
      assert.ok(doc.paths[path] !== undefined, `${path} is documented`);
    }
    assert.ok(doc.paths['/api/v1/studies'].post.requestBody !== undefined);
  });

  it('answers unknown and malformed ids with 404 and 400', async () => {
    const unknown = 'f'.repeat(32);
    for (const [method, path] of [
      ['GET', `/api/v1/studies/${unknown}`],
      ['GET', `/api/v1/studies/${unknown}/trials`],
      ['POST', `/api/v1/studies/${unknown}/resume`],
      ['POST', `/api/v1/studies/${unknown}/stop`],
    ] as const) {
      assert.equal((await app.inject({ method, url: path })).statusCode, 404, `${method} ${path}`);
    }
    const bad = await app.inject({ method: 'GET', url: '/api/v1/studies/not-an-id' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().details.field, 'id');
  });

  it('client.tune runs a study of real trials, reporting each trial once, and pages its trials', async () => {
    const seen: Trial[] = [];
    const study = await studies.tune(
      { ...penguinsStudy, name: 'sdk', n_trials: 5, parallelism: 2, sampler: { type: 'random', seed: 9 } },
      { onTrial: (trial) => seen.push(trial), pollMs: 100 },
    );
    assert.equal(study.state, 'complete');
    assert.deepEqual(seen.map((t) => t.number).sort(), [0, 1, 2, 3, 4]);
    const all = await studies.allTrials(study.id);
    assert.equal(all.length, 5);
    const values = all.filter((t) => t.state === 'complete').map((t) => t.value as number);
    assert.equal(study.best_trial?.value, Math.min(...values));
    const first = await studies.trials(study.id, { maxResults: 3 });
    assert.deepEqual(
      first.trials.map((t) => t.number),
      [0, 1, 2],
    );
    assert.ok(first.next_page_token !== undefined);
    const second = await studies.trials(study.id, { maxResults: 3, pageToken: first.next_page_token });
    assert.deepEqual(
      second.trials.map((t) => t.number),
      [3, 4],
    );
    assert.equal(second.next_page_token, undefined);
    const listed = await studies.list();
    assert.ok(listed.studies.some((s) => s.id === study.id));
    const stopAgain = await app.inject({ method: 'POST', url: `/api/v1/studies/${study.id}/stop` });
    assert.equal(stopAgain.statusCode, 409, 'a complete study cannot be stopped');
  });

  it('kiln tune runs a study from flags, prints a line per trial and registers the best model', async () => {
    const args = [
      'tune',
      '--data',
      'penguins@1',
      '--target',
      'Species',
      '--task',
      'classification',
      '--model',
      'gbdt',
      '--param',
      'n_estimators=8',
      '--param-space',
      'max_depth=int:1:4',
      '--param-space',
      'learning_rate=float:0.05:0.5:log',
      '--trials',
      '3',
      '--parallel',
      '2',
      '--pruner',
      'none',
      '--register',
      'cli-best',
      '--name',
      'cli',
    ];
    const table = await kiln(args, url);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stderr.split('\n').filter((line) => /^trial \d of 3: /.test(line));
    assert.equal(lines.length, 3, table.stderr);
    assert.match(table.stdout, /state\s+complete/);
    assert.match(table.stdout, /registered\s+cli-best v1/);
    assert.match(table.stdout, /trial\s+validation_log_loss\s+params\s+run_id/);

    const json = await kiln(['--json', ...args.slice(0, -2), '--name', 'cli-json'], url);
    assert.equal(json.code, 0, json.stderr);
    const { study, trials } = JSON.parse(json.stdout) as Wire;
    assert.equal(study.state, 'complete');
    assert.equal(trials.length, 3);
    assert.deepEqual(study.registered_model, { name: 'cli-best', version: '2' });
    const version = await registry.getModelVersion(ctx, 'cli-best', 2);
    assert.equal(version.runId, study.best_trial.run_id);

    const shown = await kiln(['tune', 'show', study.id], url);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`id\\s+${study.id}`));
    const resumed = await kiln(['tune', 'resume', study.id, '--no-wait'], url);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /complete/);
  });

  it('kiln tune refuses bad flags with exit code 2 and a bad spec with exit code 1', async () => {
    assert.equal((await kiln(['tune', '--target', 'Species', '--task', 'binary', '--model', 'gbdt'], url)).code, 2);
    const badSpace = await kiln(
      [
        'tune',
        '--data',
        'penguins',
        '--target',
        'Species',
        '--task',
        'binary',
        '--model',
        'gbdt',
        '--param-space',
        'max_depth=int:a:b',
      ],
      url,
    );
    assert.equal(badSpace.code, 2, badSpace.stderr);
    const badSpec = await kiln(
      [
        'tune',
        '--data',
        'penguins',
        '--target',
        'Species',
        '--task',
        'classification',
        '--model',
        'gbdt',
        '--param-space',
        'max_depth=int:9:1',
      ],
      url,
    );
    assert.equal(badSpec.code, 1, badSpec.stderr);
    assert.match(badSpec.stderr, /space\.max_depth/);
  });
});
