import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileUrlPath, loadConfig } from '../core/index.js';
import { duckdbAnswer, PENGUINS_JSON, SEATTLE_CSV } from '../data/testing/fixtures.js';
import { type DatasetVersion, KilnClient, type Lineage, type SplitResult } from '../sdk/index.js';
import { type ChildServer, startChildServer } from '../sdk/testing/server.js';
import { type CliRun, runCli } from './testing/run.js';

let server: ChildServer;
let kiln: KilnClient;
let scratch: string;

function cli(args: string[]): CliRun {
  return runCli(args, server.url);
}

function ok(args: string[]): string {
  const run = cli(args);
  assert.equal(run.code, 0, `kiln ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

async function one(sql: string): Promise<number> {
  const [row] = await duckdbAnswer(sql);
  return Number(row?.n);
}

before(async () => {
  server = await startChildServer();
  kiln = new KilnClient({ baseUrl: server.url, retryDelayMs: 1, timeoutMs: 120_000 });
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cli-data-'));
});
after(async () => {
  await server?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('kiln.data through a running server', () => {
  let penguins: DatasetVersion;
  let weather: DatasetVersion;

  test('uploads penguins.json and seattle-weather.csv with the row counts DuckDB reads', async () => {
    await kiln.data.createDataset('penguins', { description: 'Palmer penguins' });
    penguins = await kiln.data.uploadFile('penguins', PENGUINS_JSON);
    assert.equal(penguins.version, 1);
    assert.equal(penguins.format, 'json');
    assert.equal(penguins.source, 'penguins.json');
    assert.equal(penguins.row_count, 344);
    assert.equal(
      penguins.row_count,
      await one(`select count(*)::integer as n from read_json_auto('${PENGUINS_JSON}')`),
    );
    assert.equal(penguins.column_count, 7);

    await kiln.data.createDataset('weather');
    weather = await kiln.data.uploadFile('weather', SEATTLE_CSV);
    assert.equal(weather.row_count, await one(`select count(*)::integer as n from read_csv_auto('${SEATTLE_CSV}')`));
    assert.deepEqual(
      weather.schema.columns.map((c) => [c.name, c.logical_type]),
      [
        ['date', 'datetime'],
        ['precipitation', 'float'],
        ['temp_max', 'float'],
        ['temp_min', 'float'],
        ['wind', 'float'],
        ['weather', 'categorical'],
      ],
    );
  });

  test('the same file twice is a new version with the same digest', async () => {
    const again = await kiln.data.uploadFile('penguins', PENGUINS_JSON);
    assert.equal(again.version, 2);
    assert.equal(again.digest, penguins.digest);
    assert.deepEqual(
      (await kiln.data.listVersions('penguins')).map((v) => [v.version, v.digest]),
      [
        [1, penguins.digest],
        [2, penguins.digest],
      ],
    );
    assert.deepEqual(await kiln.data.diff('penguins', 1, 2), {
      added: [],
      removed: [],
      retyped: [],
      nullability_changed: [],
    });
  });

  test('a Parquet download is the stored object byte for byte; a CSV download has every row', async () => {
    const parquet = join(scratch, 'penguins.parquet');
    const bytes = await kiln.data.download('penguins', 1, { to: parquet });
    const root = fileUrlPath(loadConfig({ KILN_HOME: server.home }).artifactsUrl);
    const stored = await readFile(join(root, 'datasets', 'sha256', `${penguins.digest}.parquet`));
    assert.equal(bytes, stored.length);
    assert.deepEqual(await readFile(parquet), stored);

    const csv = join(scratch, 'weather.csv');
    await kiln.data.download('weather', 1, { format: 'csv', to: csv });
    assert.equal(await one(`select count(*)::integer as n from read_csv_auto('${csv}')`), weather.row_count);
    const differing = `select count(*)::integer as n from (select * from read_csv_auto('${csv}')
      except select * from read_csv_auto('${SEATTLE_CSV}'))`;
    assert.equal(await one(differing), 0);
  });

  test('preview pages through rows in file order', async () => {
    const first = await kiln.data.preview('penguins', 1, { limit: 10 });
    assert.equal(first.rows.length, 10);
    assert.equal(first.total, 344);
    assert.equal(first.next_offset, 10);
    const last = await kiln.data.preview('penguins', 1, { offset: 340, limit: 10 });
    assert.equal(last.next_offset, undefined);
    const expected = await duckdbAnswer(
      `select "Body Mass (g)"::integer as mass from read_json_auto('${PENGUINS_JSON}') limit 10 offset 340`,
    );
    assert.deepEqual(
      last.rows.map((r) => r['Body Mass (g)']),
      expected.map((r) => r.mass),
    );
  });
});

describe('kiln data ingest with a suite', () => {
  const passing = ['name: penguin-checks', 'expectations:'];
  passing.push('  - type: not_null', '    column: Species');
  passing.push('  - type: row_count_between', '    min: 300', '    max: 400');
  passing.push('  - type: not_null', '    column: Sex', '    level: warn');
  const failing = ['expectations:', '  - type: between', '    column: Body Mass (g)', '    max: 5000'];

  test('a passing suite is saved, attached, and reported with its warnings', async () => {
    const suiteFile = join(scratch, 'penguin-checks.yaml');
    await writeFile(suiteFile, `${passing.join('\n')}\n`);
    const out = ok([
      'data',
      'ingest',
      PENGUINS_JSON,
      '--name',
      'birds',
      '--suite',
      suiteFile,
      '--description',
      'birds',
    ]);
    assert.match(out, /^version\s+1$/m);
    assert.match(out, /^digest\s+[0-9a-f]{64}$/m);
    assert.match(out, /^rows\s+344$/m);
    assert.match(out, /^columns\s+7$/m);
    assert.match(out, /^suite penguin-checks v1 passed on 344 rows: 0 error\(s\), 1 warning\(s\)$/m);
    const nullSex = await one(
      `select count(*)::integer as n from read_json_auto('${PENGUINS_JSON}') where Sex is null`,
    );
    assert.ok(nullSex > 0);
    assert.match(out, new RegExp(`^warn\\s+not_null\\s+Sex\\s+failed\\s+${nullSex} \\(`, 'm'));

    const dataset = await kiln.data.getDataset('birds');
    assert.deepEqual(dataset.suite, { name: 'penguin-checks', version: 1 });
    assert.equal(dataset.description, 'birds');
    assert.equal((await kiln.data.getVersion('birds', 1)).validation?.warnings, 1);
  });

  test('a failing suite prints the failing expectations, records nothing and exits 1', async () => {
    const suiteFile = join(scratch, 'heavy.yaml');
    await writeFile(suiteFile, `${failing.join('\n')}\n`);
    const run = cli(['data', 'ingest', PENGUINS_JSON, '--name', 'birds', '--suite', suiteFile]);
    assert.equal(run.code, 1, run.stderr);
    const heavy = await one(
      `select count(*)::integer as n from read_json_auto('${PENGUINS_JSON}') where "Body Mass (g)" > 5000`,
    );
    assert.ok(heavy > 0);
    assert.match(run.stdout, /^suite heavy v1 FAILED on 344 rows: 1 error\(s\), 0 warning\(s\)$/m);
    assert.match(run.stdout, new RegExp(`^error\\s+between\\s+Body Mass \\(g\\)\\s+failed\\s+${heavy} \\(`, 'm'));
    const examples = /^error\s+between.*\s(\d+(?:, \d+)*)$/m.exec(run.stdout)?.[1]?.split(', ').map(Number) ?? [];
    assert.ok(examples.length > 0 && examples.length <= 5, run.stdout);
    assert.ok(
      examples.every((mass) => mass > 5000),
      run.stdout,
    );
    assert.match(run.stderr, /^kiln: new version of 'birds' failed 1 error-level expectation\(s\) of suite 'heavy'/m);
    assert.deepEqual(
      (await kiln.data.listVersions('birds')).map((v) => v.version),
      [1],
    );
    assert.deepEqual((await kiln.data.getDataset('birds')).suite, { name: 'heavy', version: 1 });
  });

  test('validate exits 1 on a failing suite file and 0 on a passing saved suite', () => {
    const failed = cli(['data', 'validate', 'birds', '1', '--suite', join(scratch, 'heavy.yaml')]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^suite heavy FAILED on 344 rows: 1 error\(s\)/m);
    assert.match(failed.stderr, /^kiln: version 1 of 'birds' failed 1 error-level expectation/m);

    const passed = ok(['data', 'validate', 'birds', '1', '--suite', 'penguin-checks']);
    assert.match(passed, /^suite penguin-checks v1 passed on 344 rows/m, 'the saved version that ran');
    assert.match(passed, /^error\s+row_count_between\s+passed\s+/m);
  });

  test('show lists versions and, for one version, its schema', () => {
    assert.match(ok(['data', 'list']), /^birds\s+heavy v1\s+\S+\s+birds$/m);
    assert.match(ok(['data', 'show', 'birds']), /^1\s+344\s+7\s+json\s+[0-9a-f]{12}\s+\S+\s+upload: penguins\.json$/m);
    assert.match(
      ok(['data', 'show', 'birds', '1']),
      /^Species\s+categorical\s+VARCHAR\s+no\s+Adelie,Chinstrap,Gentoo$/m,
    );
    assert.equal(cli(['data', 'show', 'birds', 'one']).code, 2);
  });
});

describe('kiln data split and lineage', () => {
  let parts: SplitResult;

  test('a time split on date keeps every row and puts the earliest days in train', async () => {
    ok(['data', 'ingest', SEATTLE_CSV, '--name', 'seattle']);
    const args = ['data', 'split', 'seattle', '1', '--method', 'time', '--column', 'date', '--json'];
    parts = JSON.parse(ok([...args, '--train', '0.7', '--validation', '0.15', '--test', '0.15'])) as SplitResult;
    const { train, validation, test: held } = parts;
    assert.ok(train && validation && held);
    assert.equal(train.dataset_name, 'seattle.train');
    assert.equal(train.row_count + validation.row_count + held.row_count, 1461);
    const files: string[] = [];
    for (const part of [train, validation, held]) {
      const file = join(scratch, `${part.dataset_name}.parquet`);
      await kiln.data.download(part.dataset_name, part.version, { to: file });
      files.push(file);
    }
    const [trainFile, validationFile, testFile] = files;
    const range = (file: string | undefined) =>
      duckdbAnswer(`select min(date)::varchar as lo, max(date)::varchar as hi from '${file}'`);
    const [[t], [v], [h]] = await Promise.all([range(trainFile), range(validationFile), range(testFile)]);
    assert.equal(t?.lo, '2012-01-01');
    assert.ok(String(t?.hi) < String(v?.lo) && String(v?.hi) < String(h?.lo), JSON.stringify([t, v, h]));
    assert.equal(h?.hi, '2015-12-31');
  });

  test('lineage shows the split edges', () => {
    const out = ok(['data', 'lineage', 'seattle', '1']);
    for (const part of ['train', 'validation', 'test']) {
      assert.match(out, new RegExp(`^dataset:seattle@1\\s+split:${part}\\s+dataset:seattle\\.${part}@1$`, 'm'));
    }
    assert.match(out, /^dataset:seattle\.train@1\s+dataset_version\s+split, \d+ rows, [0-9a-f]{12}$/m);
  });

  test('a run that logs the train version appears in the lineage as its reader', async () => {
    const train = await kiln.data.getVersion('seattle.train', 1);
    const runId = await kiln.tracking.withRun({ experimentName: 'weather-model', runName: 'gbt' }, async (run) => {
      await run.logDatasetVersion(train, { context: 'training' });
      return run.runId;
    });
    const lineage: Lineage = await kiln.data.lineage('seattle', 1);
    assert.ok(lineage.nodes.some((n) => n.type === 'run' && n.run_id === runId && n.run_name === 'gbt'));
    assert.deepEqual(
      lineage.edges.filter((e) => e.to === `run:${runId}`),
      [{ from: 'dataset:seattle.train@1', to: `run:${runId}`, role: 'input:training' }],
    );
    assert.match(
      ok(['data', 'lineage', 'seattle', '1']),
      new RegExp(`^dataset:seattle\\.train@1\\s+input:training\\s+run:${runId}$`, 'm'),
    );

    const [input] = (await kiln.tracking.getRun(runId)).inputs.dataset_inputs;
    assert.equal(input?.dataset.source_type, 'kiln');
    assert.equal(input?.dataset.digest, train.digest);
    assert.deepEqual(JSON.parse(input?.dataset.source ?? ''), { uri: 'kiln://datasets/seattle.train/versions/1' });
    assert.deepEqual(input?.tags, [{ key: 'mlflow.data.context', value: 'training' }]);
  });

  test('derive, pii, profile, preview and download from the command line', async () => {
    const derived = JSON.parse(
      ok(['data', 'derive', 'rainy', '--sql', "select * from dataset('seattle', 1) where weather = 'rain'", '--json']),
    ) as { version: DatasetVersion };
    const rain = await one(`select count(*)::integer as n from read_csv_auto('${SEATTLE_CSV}') where weather = 'rain'`);
    assert.equal(derived.version.row_count, rain);
    assert.deepEqual(derived.version.inputs, [{ dataset: 'seattle', version: 1, role: 'sql' }]);

    assert.match(ok(['data', 'pii', 'seattle', '1']), /^No personal data found in 1461 rows\.$/m);
    assert.match(ok(['data', 'profile', 'seattle', '1']), /^weather\s+categorical\s+categorical\s+1461\s+0\s+\d+\s+/m);
    const preview = ok(['data', 'preview', 'seattle', '1', '--limit', '2']);
    assert.match(preview, /^date\s+precipitation\s+temp_max\s+temp_min\s+wind\s+weather$/m);
    assert.equal(preview.trim().split('\n').length, 3);

    const file = join(scratch, 'rainy.ndjson');
    ok(['data', 'download', 'rainy', '1', '--format', 'ndjson', '-o', file]);
    assert.equal((await readFile(file, 'utf8')).trim().split('\n').length, rain);
  });
});
