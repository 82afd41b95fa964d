import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KilnClient } from '../sdk/index.js';
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

before(async () => {
  server = await startChildServer();
  kiln = new KilnClient({ baseUrl: server.url, retryDelayMs: 1 });
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cli-files-'));
});
after(async () => {
  await server?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('kiln experiments', () => {
  test('create then list shows it, as a table and as JSON; delete hides it', () => {
    const created = JSON.parse(ok(['experiments', 'create', 'cli-exp', '--json'])) as {
      experiment: { experiment_id: string; name: string };
    };
    assert.equal(created.experiment.name, 'cli-exp');
    const id = created.experiment.experiment_id;
    assert.match(ok(['experiments', 'list']), new RegExp(`^${id}\\s+cli-exp\\s+active\\s+\\d{4}-`, 'm'));
    const listed = JSON.parse(ok(['experiments', 'list', '--json'])) as { experiments: { name: string }[] };
    assert.deepEqual(listed.experiments.map((e) => e.name).sort(), ['Default', 'cli-exp']);

    ok(['experiments', 'delete', id]);
    assert.doesNotMatch(ok(['experiments', 'list']), /cli-exp/);
  });

  test('creating a name twice exits 1 with the server message', () => {
    ok(['experiments', 'create', 'twice']);
    const again = cli(['experiments', 'create', 'twice']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^kiln: .*twice.*already exists/im);
  });
});

describe('kiln runs', () => {
  const ids: string[] = [];
  let experimentId = '';
  before(async () => {
    for (const [name, auc, depth] of [
      ['low', 0.7, 3],
      ['high', 0.95, 6],
    ] as const) {
      await kiln.tracking.withRun({ experimentName: 'cli-runs', runName: name }, (run) => {
        ids.push(run.runId);
        experimentId = run.experimentId;
        run.logParams({ depth });
        run.logMetrics({ auc });
        if (name === 'high') run.logMetrics({ loss: Number.NaN });
      });
    }
  });

  test('search with a filter returns only the matching run', () => {
    const found = JSON.parse(
      ok(['runs', 'search', '--experiment', experimentId, '--filter', 'metrics.auc > 0.9', '--json']),
    ) as { runs: { info: { run_name: string }; data: { metrics: { key: string; value: unknown }[] } }[] };
    assert.deepEqual(
      found.runs.map((r) => r.info.run_name),
      ['high'],
    );
    assert.ok(found.runs[0]?.data.metrics.some((m) => m.key === 'loss' && m.value === 'NaN'));

    const table = ok(['runs', 'list', '--experiment', experimentId, '--order-by', 'metrics.auc ASC']);
    const names = table
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/)[1]);
    assert.deepEqual(names, ['low', 'high']);
  });

  test('a bad filter exits 1 naming the offending token', () => {
    const run = cli(['runs', 'search', '--experiment', experimentId, '--filter', 'metrics.auc >> 0.9']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kiln: filter: .*'>'/m);
    assert.equal(run.stdout, '');
  });

  test('missing --experiment is a usage error', () => {
    assert.equal(cli(['runs', 'list']).code, 2);
  });

  test('show lists params and metrics; compare puts them side by side', () => {
    const shown = ok(['runs', 'show', ids[1] as string]);
    assert.match(shown, /^params\.depth\s+6$/m);
    assert.match(shown, /^metrics\.auc\s+0\.95 \(step 0\)$/m);
    assert.match(shown, /^status\s+FINISHED$/m);

    const table = ok(['runs', 'compare', ids[0] as string, ids[1] as string]);
    assert.match(table, new RegExp(`^run_id\\s+${ids[0]}\\s+${ids[1]}$`, 'm'));
    assert.match(table, /^params\.depth\s+3\s+6$/m);
    assert.match(table, /^metrics\.auc\s+0\.7\s+0\.95$/m);
    assert.match(table, /^metrics\.loss\s+-\s+NaN$/m);

    const json = JSON.parse(ok(['runs', 'compare', ids[0] as string, ids[1] as string, '--json'])) as {
      runs: { params: Record<string, string>; metrics: Record<string, unknown> }[];
    };
    assert.deepEqual(
      json.runs.map((r) => [r.params['depth'], r.metrics['auc']]),
      [
        ['3', 0.7],
        ['6', 0.95],
      ],
    );
  });

  test('show of an unknown run exits 1', () => {
    const run = cli(['runs', 'show', '0'.repeat(32)]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kiln: /m);
  });
});

describe('kiln artifacts', () => {
  test('put a file, list it, get it back byte for byte to a file and to stdout', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'cli-artifacts' });
    await run.end();
    const local = join(scratch, 'weights.txt');
    await writeFile(local, 'w1=0.25\nw2=-1.5\n');

    const put = JSON.parse(ok(['artifacts', 'put', run.runId, local, 'model', '--json'])) as {
      artifacts: { path: string; file_size: number }[];
    };
    assert.deepEqual(
      put.artifacts.map((a) => [a.path, a.file_size]),
      [['model/weights.txt', 16]],
    );
    assert.match(ok(['artifacts', 'ls', run.runId]), /^model\s+dir\s*$/m);
    assert.match(ok(['artifacts', 'ls', run.runId, 'model']), /^model\/weights\.txt\s+file\s+16$/m);

    const out = join(scratch, 'back.txt');
    ok(['artifacts', 'get', run.runId, 'model/weights.txt', '-o', out]);
    assert.equal(await readFile(out, 'utf8'), 'w1=0.25\nw2=-1.5\n');
    assert.equal(ok(['artifacts', 'get', run.runId, 'model/weights.txt']), 'w1=0.25\nw2=-1.5\n');

    const missing = cli(['artifacts', 'get', run.runId, 'model/nope.txt']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^kiln: /m);
  });
});

describe('kiln models', () => {
  test('alias set moves the alias; show, versions and list reflect it; alias delete removes it', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'cli-models' });
    await run.end();
    await kiln.registry.registerModel('fraud', `runs:/${run.runId}/model`, { runId: run.runId });
    await kiln.registry.registerModel('fraud', `runs:/${run.runId}/model`);

    assert.match(ok(['models', 'alias', 'set', 'fraud', 'champion', '2']), /fraud@champion → version 2/);
    const shown = ok(['models', 'show', 'fraud']);
    assert.match(shown, /^alias\.champion\s+version 2$/m);
    assert.match(shown, /^2\s+READY\s+champion\s+/m);
    const json = JSON.parse(ok(['models', 'show', 'fraud', '--json'])) as {
      registered_model: { aliases: { alias: string; version: number }[] };
    };
    assert.deepEqual(json.registered_model.aliases, [{ alias: 'champion', version: 2 }]);
    assert.match(ok(['models', 'versions', 'fraud']), /^version.*\n2\s+READY\s+champion\s.*\n1\s+READY\s/m);
    assert.match(ok(['models', 'list']), /^fraud\s+champion=2\s/m);

    ok(['models', 'alias', 'delete', 'fraud', 'champion']);
    assert.doesNotMatch(ok(['models', 'show', 'fraud']), /champion/);
    const again = cli(['models', 'alias', 'delete', 'fraud', 'champion']);
    assert.equal(again.code, 1);
  });

  test('setting an alias to a version that does not exist exits 1', () => {
    const run = cli(['models', 'alias', 'set', 'fraud', 'champion', '99']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kiln: .*99/m);
  });
});
