import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PENGUINS_JSON } from '../../data/testing/fixtures.js';
import { KilnClient, type ScoringJob } from '../../sdk/index.js';
import { type ChildServer, startChildServer } from '../../sdk/testing/server.js';
import { scoringProgress } from './predict.js';

const PROGRAM = fileURLToPath(new URL('../program.ts', import.meta.url));
const PREDICT = fileURLToPath(new URL('./predict.ts', import.meta.url));
const EXIT = fileURLToPath(new URL('../exit.ts', import.meta.url));

/** Runs the `kiln` command tree from source, with `kiln predict` added when program.ts does not register it yet. */
function kiln(args: readonly string[], url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    import { createProgram } from ${JSON.stringify(PROGRAM)};
    import { registerPredictCommand } from ${JSON.stringify(PREDICT)};
    import { reportError } from ${JSON.stringify(EXIT)};
    const program = createProgram(process.env);
    if (!program.commands.some((c) => c.name() === 'predict')) registerPredictCommand(program, process.env);
    try {
      await program.parseAsync(JSON.parse(process.env.PREDICT_TEST_ARGS), { from: 'user' });
    } catch (err) {
      process.exitCode = reportError(err, process.env);
    }`;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...env, KILN_LOG_LEVEL: 'warn', PREDICT_TEST_ARGS: JSON.stringify([...args, '--url', url]) },
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
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kiln predict against a real kiln server', () => {
  let server: ChildServer;
  let kilnClient: KilnClient;
  before(async () => {
    server = await startChildServer();
    kilnClient = new KilnClient({ baseUrl: server.url, retryDelayMs: 1, timeoutMs: 120_000 });
    await kilnClient.data.createDataset('penguins');
    await kilnClient.data.uploadFile('penguins', PENGUINS_JSON);
    const trained = await kilnClient.training.train(
      {
        data: 'penguins@1',
        target: 'Species',
        task: 'classification',
        model: 'gbdt',
        params: { n_estimators: 8, max_depth: 3 },
        register: 'penguins',
      },
      { pollMs: 100 },
    );
    assert.deepEqual(trained.modelVersion, { name: 'penguins', version: 1 });
    await kilnClient.registry.setAlias('penguins', 'champion', 1);
  });
  after(() => server?.stop());

  it('--json prints the job id, model, input, output version and rows; progress goes to stderr as plain lines', async () => {
    const run = await kiln(
      [
        'predict',
        '--model',
        'models:/penguins@champion',
        '--data',
        'penguins@1',
        '--out',
        'scored',
        '--chunk-rows',
        '100',
        '--json',
      ],
      server.url,
    );
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.match(String(out.job_id), /^score-[0-9a-f]+$/);
    assert.deepEqual(out, {
      job_id: out.job_id,
      model: { name: 'penguins', version: 1 },
      input: { dataset: 'penguins', version: 1 },
      output: { dataset: 'scored', version: 1 },
      rows: 344,
    });
    assert.match(run.stderr, /job score-[0-9a-f]+: (queued|running)/);

    const version = await kilnClient.data.getVersion('scored', 1);
    assert.equal(version.row_count, 344);
    assert.deepEqual(
      version.schema.columns.slice(-4).map((c) => c.name),
      ['prediction', 'probability_Adelie', 'probability_Chinstrap', 'probability_Gentoo'],
    );
    const rows = (await kilnClient.data.preview('scored', 1, { limit: 344 })).rows as Record<string, unknown>[];
    assert.equal(rows.length, 344);
    let agree = 0;
    for (const row of rows) {
      const p = ['Adelie', 'Chinstrap', 'Gentoo'].map((c) => Number(row[`probability_${c}`]));
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9, 'probabilities sum to 1');
      if (row.prediction === row.Species) agree += 1;
    }
    assert.ok(agree > 330, `the trained model agrees with the labels on ${agree} of 344 rows`);
    const lineage = await kilnClient.data.lineage('penguins', 1);
    assert.ok(
      lineage.edges.some((e) => e.from === 'dataset:penguins@1' && e.to === 'dataset:scored@1' && e.role === 'predict'),
      JSON.stringify(lineage.edges),
    );
  });

  it('prints the rows scored and the new version for people, and --no-wait prints the queued job', async () => {
    const run = await kiln(
      ['predict', '--model', 'models:/penguins/1', '--data', 'penguins', '--out', 'scored'],
      server.url,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^scored 344 rows of penguins@1 with models:\/penguins\/1 into scored@2 \(job score-[0-9a-f]+\)$/m,
    );
    const queued = await kiln(
      ['predict', '--model', 'models:/penguins/1', '--data', 'penguins', '--out', 'later', '--no-wait', '--json'],
      server.url,
    );
    assert.equal(queued.code, 0, queued.stderr);
    const { job } = JSON.parse(queued.stdout) as { job: ScoringJob };
    assert.equal(job.state, 'queued');
    assert.equal(job.request.out, 'later');
    const done = await kilnClient.scoring.wait(job.id, { pollMs: 100 });
    assert.deepEqual(done.output, { dataset: 'later', version: 1 });
  });

  it("exits 1 naming an unknown model or dataset, or with a failed job's error; 2 for a malformed command line", async () => {
    const model = await kiln(['predict', '--model', 'models:/gulls/1', '--data', 'penguins', '--out', 'x'], server.url);
    assert.equal(model.code, 1);
    assert.match(model.stderr, /gulls/);
    const data = await kiln(
      ['predict', '--model', 'models:/penguins/1', '--data', 'puffins@2', '--out', 'x'],
      server.url,
    );
    assert.equal(data.code, 1);
    assert.match(data.stderr, /puffins/);

    // The output dataset's suite refuses the scored rows: the job fails and records nothing.
    await kilnClient.data.createDataset('checked');
    await kilnClient.data.saveSuite({
      definition: { name: 'tiny', expectations: [{ type: 'row_count_between', max: 10 }] },
    });
    await kilnClient.data.attachSuite('checked', 'tiny');
    const failed = await kiln(
      ['predict', '--model', 'models:/penguins/1', '--data', 'penguins', '--out', 'checked'],
      server.url,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /scoring job score-[0-9a-f]+ failed: .*suite 'tiny'/);
    assert.deepEqual(await kilnClient.data.listVersions('checked'), []);

    const usage = await kiln(['predict', '--model', 'models:/penguins/1', '--data', 'penguins'], server.url);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--out/);
    const chunk = await kiln(
      ['predict', '--model', 'models:/penguins/1', '--data', 'penguins', '--out', 'x', '--chunk-rows', '0'],
      server.url,
    );
    assert.equal(chunk.code, 2);
  });
});

describe('scoringProgress', () => {
  const job = (state: ScoringJob['state'], rows: number): ScoringJob => ({
    id: 'score-1',
    state,
    request: { model: 'models:/m/1', data: 'd', out: 'o', chunk_rows: 100 },
    model: { name: 'm', version: 1 },
    input: { dataset: 'd', version: 1 },
    progress: { rows_scored: rows, total_rows: 1000, chunks_done: rows / 100, total_chunks: 10 },
    created_by: 'a',
    created_at: '',
    updated_at: '',
  });

  it('redraws one bar in place on a terminal', () => {
    const written: string[] = [];
    const progress = scoringProgress({ isTTY: true, write: (text) => written.push(text) });
    progress.update(job('running', 300));
    progress.update(job('running', 600));
    progress.finish();
    assert.equal(written.length, 3);
    assert.match(written[1] ?? '', /^\rscoring \[#{18}-{12}\] 600\/1,000 rows, chunk 6\/10 running/);
    assert.equal(written[2], '\n');
  });

  it('writes a line per state change and per tenth of the rows on a pipe', () => {
    const written: string[] = [];
    const progress = scoringProgress({ write: (text) => written.push(text) });
    for (const [state, rows] of [
      ['queued', 0],
      ['running', 0],
      ['running', 100],
      ['running', 150],
      ['running', 900],
    ] as const) {
      progress.update(job(state, rows));
    }
    progress.finish();
    assert.deepEqual(written, [
      'job score-1: queued\n',
      'job score-1: running\n',
      'scored 100/1,000 rows (chunk 1/10)\n',
      'scored 900/1,000 rows (chunk 9/10)\n',
    ]);
  });
});
