import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { contextIn, openTracking, rejectsWith, TEST_ARTIFACT_ROOT, type TrackingHarness } from './testing/harness.js';

const ctx = contextIn();
const other = contextIn('team-b');

for (const target of await testDatabases()) {
  describe(`runs on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TrackingHarness;
    let experimentId: string;

    before(async () => {
      db = await target.create();
      t = await openTracking(db);
      experimentId = (await t.experiments.create(ctx, { name: 'runs' })).experimentId;
    });
    after(() => db.cleanup());

    it('should create a RUNNING run with MLflow defaults', async () => {
      const before = Date.now();
      const run = await t.runs.create(ctx, { experimentId });
      assert.match(run.info.runId, /^[0-9a-f]{32}$/);
      assert.equal(run.info.experimentId, experimentId);
      assert.equal(run.info.status, 'RUNNING');
      assert.equal(run.info.lifecycleStage, 'active');
      assert.ok(run.info.startTime >= before);
      assert.equal(run.info.endTime, null);
      assert.equal(run.info.userId, 'tester');
      assert.match(run.info.runName, /^[a-z]+-[a-z]+-\d{1,3}$/);
      assert.equal(run.info.artifactUri, `${TEST_ARTIFACT_ROOT}/${experimentId}/${run.info.runId}/artifacts`);
      assert.deepEqual(run.data.tags, [{ key: 'mlflow.runName', value: run.info.runName }]);
      assert.deepEqual(run.data.metrics, []);
      assert.deepEqual(run.inputs.datasetInputs, []);
    });

    it('should take the name, user and parent from the request and the mlflow tags', async () => {
      const parent = await t.runs.create(ctx, { experimentId, runName: 'parent', startTime: 1_700_000_000_000 });
      assert.equal(parent.info.startTime, 1_700_000_000_000);
      const child = await t.runs.create(ctx, {
        experimentId,
        tags: [
          { key: 'mlflow.runName', value: 'child' },
          { key: 'mlflow.user', value: 'root' },
          { key: 'mlflow.parentRunId', value: parent.info.runId },
          { key: 'mlflow.source.name', value: 'train.py' },
        ],
      });
      assert.equal(child.info.runName, 'child');
      assert.equal(child.info.userId, 'root');
      assert.equal(child.info.parentRunId, parent.info.runId);
      assert.equal(child.data.tags.length, 4);
      await assert.rejects(
        t.runs.create(ctx, { experimentId, runName: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^run_name: both run_name and the mlflow.runName tag/),
      );
      const explicit = await t.runs.create(ctx, { experimentId, userId: 'ana' });
      assert.equal(explicit.info.userId, 'ana');
    });

    it('should refuse unknown experiments and bad input', async () => {
      await assert.rejects(t.runs.create(ctx, { experimentId: '987654' }), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
      await assert.rejects(t.runs.create(other, { experimentId }), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
      await assert.rejects(
        t.runs.create(ctx, { experimentId, startTime: -1 }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^start_time/),
      );
      await assert.rejects(
        t.runs.create(ctx, { experimentId, tags: [{ key: 'a\nb', value: 'x' }] }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^tags\[0\]\.key/),
      );
      await assert.rejects(
        t.runs.get(ctx, 'f'.repeat(32)),
        rejectsWith('RESOURCE_DOES_NOT_EXIST', /Run with id=f+ not found/),
      );
      await assert.rejects(t.runs.get(ctx, '../x'), rejectsWith('INVALID_PARAMETER_VALUE', /^run_id/));
    });

    it('should update status, end time and name, keeping mlflow.runName in step', async () => {
      const run = await t.runs.create(ctx, { experimentId, runName: 'first' });
      const info = await t.runs.update(ctx, run.info.runId, {
        status: 'FINISHED',
        endTime: 1_800_000_000_000,
        runName: 'second',
      });
      assert.equal(info.status, 'FINISHED');
      assert.equal(info.endTime, 1_800_000_000_000);
      assert.equal(info.runName, 'second');
      const tags = (await t.runs.get(ctx, run.info.runId)).data.tags;
      assert.deepEqual(tags, [{ key: 'mlflow.runName', value: 'second' }]);
      await t.runs.setTag(ctx, run.info.runId, 'mlflow.runName', 'third');
      assert.equal((await t.runs.get(ctx, run.info.runId)).info.runName, 'third');
      await assert.rejects(
        t.runs.update(ctx, run.info.runId, { status: 'DONE' }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^status: must be one of RUNNING/),
      );
    });

    it('should set and delete tags, un-nesting a run when its parent tag goes', async () => {
      const run = await t.runs.create(ctx, { experimentId });
      await t.runs.setTag(ctx, run.info.runId, 'stage', 'demo');
      await t.runs.setTag(ctx, run.info.runId, 'stage', 'prod');
      await t.runs.setTag(ctx, run.info.runId, 'mlflow.parentRunId', 'a'.repeat(32));
      await t.runs.setTag(ctx, run.info.runId, 'mlflow.user', 'bob');
      let got = await t.runs.get(ctx, run.info.runId);
      assert.equal(got.info.parentRunId, 'a'.repeat(32));
      assert.equal(got.info.userId, 'bob');
      assert.equal(got.data.tags.find((tag) => tag.key === 'stage')?.value, 'prod');
      await t.runs.deleteTag(ctx, run.info.runId, 'mlflow.parentRunId');
      await t.runs.deleteTag(ctx, run.info.runId, 'stage');
      got = await t.runs.get(ctx, run.info.runId);
      assert.equal(got.info.parentRunId, null);
      assert.equal(
        got.data.tags.some((tag) => tag.key === 'stage'),
        false,
      );
      await assert.rejects(
        t.runs.deleteTag(ctx, run.info.runId, 'stage'),
        rejectsWith('RESOURCE_DOES_NOT_EXIST', /No tag with name: stage/),
      );
      await assert.rejects(
        t.runs.setTag(ctx, run.info.runId, 'k', 'v'.repeat(8001)),
        rejectsWith('INVALID_PARAMETER_VALUE', /^value: has length 8001, which exceeds the limit of 8000/),
      );
    });

    it('should soft-delete and restore, refusing writes while deleted', async () => {
      const run = await t.runs.create(ctx, { experimentId });
      const id = run.info.runId;
      await t.runs.delete(ctx, id);
      await t.runs.delete(ctx, id);
      const deleted = await t.runs.get(ctx, id);
      assert.equal(deleted.info.lifecycleStage, 'deleted');
      assert.ok(deleted.info.deletedTime !== null);
      const inactive = rejectsWith(
        'INVALID_PARAMETER_VALUE',
        /must be in the 'active' state. Current state is deleted/,
      );
      await assert.rejects(t.runs.setTag(ctx, id, 'k', 'v'), inactive);
      await assert.rejects(t.runs.deleteTag(ctx, id, 'mlflow.runName'), inactive);
      await assert.rejects(t.runs.update(ctx, id, { status: 'FAILED' }), inactive);
      await assert.rejects(t.runData.logParam(ctx, id, 'p', '1'), inactive);
      await assert.rejects(t.runData.logMetric(ctx, id, { key: 'm', value: 1, timestamp: 1 }), inactive);
      await assert.rejects(t.runData.logBatch(ctx, id, { tags: [{ key: 'a', value: 'b' }] }), inactive);
      await assert.rejects(t.runData.logInputs(ctx, id, []), inactive);
      await t.runs.restore(ctx, id);
      const restored = await t.runs.get(ctx, id);
      assert.equal(restored.info.lifecycleStage, 'active');
      assert.equal(restored.info.deletedTime, null);
      await t.runs.setTag(ctx, id, 'k', 'v');
      await assert.rejects(t.runs.delete(ctx, 'e'.repeat(32)), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
    });

    it('should keep runs of other workspaces invisible and untouchable', async () => {
      const run = await t.runs.create(ctx, { experimentId });
      const id = run.info.runId;
      const missing = rejectsWith('RESOURCE_DOES_NOT_EXIST');
      await assert.rejects(t.runs.get(other, id), missing);
      await assert.rejects(t.runs.update(other, id, { status: 'KILLED' }), missing);
      await assert.rejects(t.runs.delete(other, id), missing);
      await assert.rejects(t.runs.setTag(other, id, 'k', 'v'), missing);
      await assert.rejects(t.runData.logBatch(other, id, { params: [{ key: 'p', value: '1' }] }), missing);
      await assert.rejects(t.runData.getMetricHistory(other, id, 'm'), missing);
      const found = await t.runs.search(other, { experimentIds: [experimentId] });
      assert.deepEqual(found.runs, []);
      assert.equal((await t.runs.get(ctx, id)).info.status, 'RUNNING');
    });
  });
}
