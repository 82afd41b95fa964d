import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PENGUINS_JSON } from '../data/testing/fixtures.js';
import { KilnClient } from '../sdk/index.js';
import { type ChildServer, startChildServer } from '../sdk/testing/server.js';
import { trainingProgress } from './commands/train.js';
import { runCli } from './testing/run.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let server: ChildServer;
let kiln: KilnClient;
let scratch: string;

/** `kiln --url <server> <args…>`: the URL goes first, since `kiln run` hands everything after `--` to its command. */
function kilnFirst(args: readonly string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--url', server.url, ...args], {
    env: { ...env, KILN_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(async () => {
  server = await startChildServer();
  kiln = new KilnClient({ baseUrl: server.url, retryDelayMs: 1, timeoutMs: 120_000 });
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cli-train-'));
  await kiln.data.createDataset('penguins');
  await kiln.data.uploadFile('penguins', PENGUINS_JSON);
});
after(async () => {
  await server?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('kiln train', () => {
  test('--json prints the run id, model URI and every final metric of the tracked run', async () => {
    const run = runCli(
      [
        'train',
        '--data',
        'penguins@1',
        '--target',
        'Species',
        '--task',
        'classification',
        '--model',
        'gbdt',
        '--param',
        'n_estimators=12',
        '--param',
        'max_depth=3',
        '--register',
        'penguins-cli',
        '--json',
      ],
      server.url,
    );
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      run_id: string;
      model_uri: string;
      metrics: Record<string, number>;
      model_version: { name: string; version: number };
    };
    assert.equal(out.model_uri, `runs:/${out.run_id}/model`);
    assert.deepEqual(out.model_version, { name: 'penguins-cli', version: 1 });
    const tracked = await kiln.tracking.getRun(out.run_id);
    const latest = Object.fromEntries(tracked.data.metrics.map((m) => [m.key, m.value]));
    for (const key of ['train_accuracy', 'validation_accuracy', 'validation_log_loss']) {
      assert.equal(out.metrics[key], latest[key], key);
    }
    assert.equal(tracked.data.params.find((p) => p.key === 'n_estimators')?.value, '12');
    assert.match(run.stderr, /job train-[0-9a-f]+: (queued|running)/, 'plain progress lines on a pipe');
  });

  test('prints a metric table, and exits 1 naming an unknown parameter with the valid ones', () => {
    const ok = runCli(
      ['train', '--data', 'penguins', '--target', 'Species', '--task', 'multiclass', '--model', 'logistic'],
      server.url,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^run [0-9a-f]{32} {2}model runs:\/[0-9a-f]{32}\/model$/m);
    assert.match(ok.stdout, /train_accuracy\s+0\.9\d*/);
    const bad = runCli(
      [
        'train',
        '--data',
        'penguins',
        '--target',
        'Species',
        '--task',
        'multiclass',
        '--model',
        'gbdt',
        '--param',
        'depth=3',
      ],
      server.url,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /params\.depth: is not a gbdt parameter; valid parameters are n_estimators/);
    const usage = runCli(
      ['train', '--data', 'penguins', '--target', 'Species', '--task', 'clustering', '--model', 'gbdt'],
      server.url,
    );
    assert.equal(usage.code, 2);
  });

  test('--no-wait prints the queued job; --preprocessing sends a spec file', async () => {
    const spec = join(scratch, 'prep.yaml');
    await writeFile(
      spec,
      "columns:\n  'Flipper Length (mm)':\n    - kind: impute\n      strategy: median\n    - kind: minmax\n",
    );
    const run = runCli(
      [
        'train',
        '--data',
        'penguins',
        '--target',
        'Species',
        '--task',
        'classification',
        '--model',
        'logistic',
        '--preprocessing',
        spec,
        '--no-wait',
        '--json',
      ],
      server.url,
    );
    assert.equal(run.code, 0, run.stderr);
    const { job } = JSON.parse(run.stdout) as { job: { id: string; state: string } };
    assert.equal(job.state, 'queued');
    const done = await kiln.training.wait(job.id, { pollMs: 100 });
    assert.equal(done.state, 'completed', done.error);
    assert.deepEqual(done.request.preprocessing, {
      columns: { 'Flipper Length (mm)': [{ kind: 'impute', strategy: 'median' }, { kind: 'minmax' }] },
    });
    const tracked = await kiln.tracking.getRun(done.run_id as string);
    assert.equal(tracked.data.params.find((p) => p.key === 'features')?.value, 'Flipper Length (mm)');
  });
});

describe('kiln.training (SDK)', () => {
  test('train() answers the outcome, and rejects with the job error when training fails', async () => {
    const outcome = await kiln.training.train(
      {
        data: 'penguins',
        target: 'Species',
        task: 'classification',
        model: 'forest',
        params: { n_estimators: 10, oob_score: true },
      },
      { pollMs: 100 },
    );
    assert.equal(outcome.modelUri, `runs:/${outcome.runId}/model`);
    assert.ok((outcome.metrics.oob_score as number) > 0.9, JSON.stringify(outcome.metrics));
    await assert.rejects(
      kiln.training.train(
        {
          data: 'penguins',
          target: 'Species',
          task: 'classification',
          model: 'gbdt',
          params: { early_stopping_rounds: 2 },
          validation_fraction: 0,
        },
        { pollMs: 100 },
      ),
      /training job train-[0-9a-f]+ failed: params\.early_stopping_rounds: needs a validation set/,
    );
    const listed = await kiln.training.list({ maxResults: 2 });
    assert.equal(listed.jobs.length, 2);
    assert.ok(listed.next_page_token !== undefined);
  });
});

describe('kiln run', () => {
  test('runs a command with the run in its environment, which logs through the MLflow REST API, and records its exit status', async () => {
    const script = join(scratch, 'train.mjs');
    await writeFile(
      script,
      `const base = process.env.MLFLOW_TRACKING_URI;
const res = await fetch(base + '/api/2.0/mlflow/runs/log-metric', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'loss', value: 0.25, timestamp: Date.now(), step: 1 }),
});
if (!res.ok) throw new Error('log-metric failed: ' + res.status);
console.log('experiment ' + process.env.MLFLOW_EXPERIMENT_ID + ' args ' + process.argv.slice(2).join(' '));
process.exit(Number(process.argv[2]));
`,
    );
    const failed = kilnFirst([
      'run',
      '--experiment',
      'external',
      '--run-name',
      'node-script',
      '--',
      process.execPath,
      script,
      '3',
    ]);
    assert.equal(failed.code, 3, failed.stderr);
    const runId = /run ([0-9a-f]{32})/.exec(failed.stderr)?.[1] as string;
    const experiment = await kiln.tracking.getExperimentByName('external');
    assert.match(failed.stdout, new RegExp(`^experiment ${experiment.experiment_id} args 3$`, 'm'));
    const run = await kiln.tracking.getRun(runId);
    assert.equal(run.info.status, 'FAILED');
    assert.equal(run.info.run_name, 'node-script');
    assert.equal(run.data.tags.find((t) => t.key === 'kiln.exit_code')?.value, '3');
    assert.equal(run.data.metrics.find((m) => m.key === 'loss')?.value, 0.25);

    const passed = kilnFirst(['run', '--experiment', 'external', '--', process.execPath, script, '0']);
    assert.equal(passed.code, 0, passed.stderr);
    const okId = /run ([0-9a-f]{32})/.exec(passed.stderr)?.[1] as string;
    assert.equal((await kiln.tracking.getRun(okId)).info.status, 'FINISHED');

    const missing = kilnFirst(['run', '--', join(scratch, 'no-such-program')]);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /cannot run/);
  });
});

describe('training progress', () => {
  const job = (state: 'queued' | 'running', step?: number) => ({
    id: 'train-1',
    state,
    request: { data: 'd', target: 't', task: 'regression' as const, model: 'gbdt' as const },
    ...(step === undefined ? {} : { progress: { step, total: 100, metrics: { validation_rmse: 1.23456789 } } }),
    created_by: 'a',
    created_at: '',
    updated_at: '',
  });

  test('redraws one bar on a terminal', () => {
    const written: string[] = [];
    const progress = trainingProgress({ isTTY: true, write: (text: string) => written.push(text) });
    progress.update(job('running', 50));
    progress.finish();
    assert.match(written[0] ?? '', /^\rtraining \[#{15}-{15}\] 50\/100 validation_rmse=1\.2346/);
    assert.equal(written.at(-1), '\n');
  });

  test('prints a line per state and per tenth of the rounds otherwise', () => {
    const written: string[] = [];
    const progress = trainingProgress({ isTTY: false, write: (text: string) => written.push(text) });
    progress.update(job('queued'));
    for (const step of [1, 5, 10, 11, 55]) progress.update(job('running', step));
    progress.finish();
    assert.deepEqual(written, [
      'job train-1: queued\n',
      'job train-1: running\n',
      'step 1/100 validation_rmse=1.2346\n',
      'step 10/100 validation_rmse=1.2346\n',
      'step 55/100 validation_rmse=1.2346\n',
    ]);
  });
});
