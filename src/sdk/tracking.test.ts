import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KilnError } from '../core/index.js';
import { KilnClient } from './client.js';
import { type ChildServer, startChildServer } from './testing/server.js';

describe('kiln.tracking and kiln.registry against a real server', () => {
  let server: ChildServer;
  let kiln: KilnClient;
  let scratch: string;
  before(async () => {
    server = await startChildServer();
    kiln = new KilnClient({ baseUrl: server.url, retryDelayMs: 1 });
    scratch = await mkdtemp(join(tmpdir(), 'kiln-sdk-files-'));
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('should create, find, search and delete experiments', async () => {
    const created = await kiln.tracking.createExperiment('sdk-exp', { tags: [{ key: 'team', value: 'risk' }] });
    assert.equal((await kiln.tracking.getExperiment(created.experiment_id)).name, 'sdk-exp');
    assert.equal((await kiln.tracking.getExperimentByName('sdk-exp')).experiment_id, created.experiment_id);
    const found = await kiln.tracking.searchExperiments({ filter: "name LIKE 'sdk-%'", orderBy: ['name DESC'] });
    assert.deepEqual(
      found.experiments.map((e) => e.name),
      ['sdk-exp'],
    );
    await kiln.tracking.deleteExperiment(created.experiment_id);
    assert.equal((await kiln.tracking.getExperiment(created.experiment_id)).lifecycle_stage, 'deleted');
  });

  it('should deliver buffered metrics exactly once and in order after flush, NaN included', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'sdk-buffered', runName: 'r1', tags: { a: 'b' } });
    const values = [0.5, 0.4, Number.NaN, Number.POSITIVE_INFINITY, 0.1];
    values.forEach((loss, step) => {
      run.logMetrics({ loss }, { step, timestamp: 1000 + step });
    });
    run.logParams({ lr: 0.1, depth: 6 });
    run.setTags({ stage: 'dev' });
    await run.flush();
    const history = await kiln.tracking.getMetricHistory(run.runId, 'loss');
    assert.deepEqual(
      history.metrics.map((m) => [m.step, m.value]),
      values.map((v, step) => [step, v]),
    );
    const stored = await kiln.tracking.getRun(run.runId);
    assert.deepEqual(stored.data.params.map((p) => `${p.key}=${p.value}`).sort(), ['depth=6', 'lr=0.1']);
    assert.ok(stored.data.tags.some((t) => t.key === 'stage' && t.value === 'dev'));
    assert.ok(stored.data.tags.some((t) => t.key === 'a' && t.value === 'b'));
    const ended = await run.end();
    assert.equal(ended.status, 'FINISHED');
    assert.ok(ended.end_time !== null);
  });

  it('should split more than 1000 metrics across log-batch calls and lose none', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'sdk-buffered', flushIntervalMs: 60_000 });
    let calls = 0;
    const logBatch = kiln.tracking.logBatch.bind(kiln.tracking);
    kiln.tracking.logBatch = async (runId, batch) => {
      calls++;
      assert.ok((batch.metrics?.length ?? 0) <= 1000);
      return logBatch(runId, batch);
    };
    try {
      for (let step = 0; step < 2500; step++) run.logMetrics({ m: step }, { step });
      await run.end();
    } finally {
      kiln.tracking.logBatch = logBatch;
    }
    assert.equal(calls, 3);
    const history = await kiln.tracking.getMetricHistory(run.runId, 'm', { maxResults: 25_000 });
    assert.equal(history.metrics.length, 2500);
    assert.ok(history.metrics.every((m, i) => m.step === i && m.value === i));
  });

  it('should surface a failed flush at flush()', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'sdk-buffered' });
    run.logParams({ p: 'one' });
    await run.flush();
    run.logParams({ p: 'two' });
    await assert.rejects(
      run.flush(),
      (err: KilnError) => err.code === 'INVALID_PARAMETER_VALUE' && /'p'/.test(err.message),
    );
    await run.flush();
    await run.end();
  });

  it('should end FINISHED after withRun succeeds and FAILED when it throws, keeping what was logged', async () => {
    let okId = '';
    const value = await kiln.tracking.withRun({ experimentName: 'sdk-with' }, async (run) => {
      okId = run.runId;
      run.logMetrics({ auc: 0.9 });
      return 42;
    });
    assert.equal(value, 42);
    assert.equal((await kiln.tracking.getRun(okId)).info.status, 'FINISHED');

    let failedId = '';
    await assert.rejects(
      kiln.tracking.withRun({ experimentName: 'sdk-with' }, async (run) => {
        failedId = run.runId;
        run.logMetrics({ auc: 0.1 });
        throw new Error('training diverged');
      }),
      /training diverged/,
    );
    const failed = await kiln.tracking.getRun(failedId);
    assert.equal(failed.info.status, 'FAILED');
    assert.deepEqual(
      failed.data.metrics.map((m) => [m.key, m.value]),
      [['auc', 0.1]],
    );
    const { runs } = await kiln.tracking.searchRuns({
      experimentIds: [failed.info.experiment_id],
      filter: "attributes.status = 'FAILED'",
    });
    assert.deepEqual(
      runs.map((r) => r.info.run_id),
      [failedId],
    );
  });

  it('should upload a file and a directory and download them byte for byte', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'sdk-artifacts' });
    const file = join(scratch, 'model.json');
    await writeFile(file, '{"trees":[1,2,3]}');
    const dir = join(scratch, 'plots');
    await mkdir(join(dir, 'roc'), { recursive: true });
    await writeFile(join(dir, 'a.txt'), 'alpha');
    await writeFile(join(dir, 'roc', 'b.bin'), Buffer.from([0, 1, 2, 255]));

    const stored = await run.logArtifact(file, 'model');
    assert.equal(stored.path, 'model/model.json');
    assert.equal(stored.file_size, 17);
    const many = await run.logArtifacts(dir, 'plots');
    assert.deepEqual(
      many.map((s) => s.path),
      ['plots/a.txt', 'plots/roc/b.bin'],
    );

    const root = await kiln.tracking.artifacts.list(run.runId);
    assert.deepEqual(
      root.files.map((f) => [f.path, f.is_dir]),
      [
        ['model', true],
        ['plots', true],
      ],
    );
    const out = join(scratch, 'b.out');
    assert.equal(await kiln.tracking.artifacts.downloadToFile(run.runId, 'plots/roc/b.bin', out), 4);
    assert.deepEqual(await readFile(out), Buffer.from([0, 1, 2, 255]));
    await assert.rejects(kiln.tracking.artifacts.downloadToFile(run.runId, 'nope.txt', out), {
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
    await run.end();
  });

  it('should register versions, creating the model once, and resolve an alias', async () => {
    const run = await kiln.tracking.startRun({ experimentName: 'sdk-registry' });
    await run.end();
    const v1 = await kiln.registry.registerModel('churn', `runs:/${run.runId}/model`, {
      runId: run.runId,
      tags: { framework: 'kiln' },
      description: 'first',
    });
    const v2 = await kiln.registry.registerModel('churn', `runs:/${run.runId}/model`);
    assert.deepEqual([v1.version, v2.version], [1, 2]);
    assert.equal(v1.run_id, run.runId);
    assert.deepEqual(v1.tags, [{ key: 'framework', value: 'kiln' }]);

    await kiln.registry.setAlias('churn', 'champion', 1);
    assert.equal((await kiln.registry.getByAlias('churn', 'champion')).version, 1);
    await kiln.registry.setAlias('churn', 'champion', v2.version);
    assert.equal((await kiln.registry.getByAlias('churn', 'champion')).version, 2);
    assert.deepEqual((await kiln.registry.getModel('churn')).aliases, [{ alias: 'champion', version: 2 }]);
    const versions = await kiln.registry.listVersions('churn', { orderBy: ['version_number DESC'] });
    assert.deepEqual(
      versions.model_versions.map((v) => v.version),
      [2, 1],
    );
    await kiln.registry.deleteAlias('churn', 'champion');
    await assert.rejects(kiln.registry.getByAlias('churn', 'champion'), { code: 'RESOURCE_DOES_NOT_EXIST' });
  });
});
