import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/index.js';
import { migrate } from '../store/index.js';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { TRACKING_MIGRATIONS } from './migrations.js';
import { contextIn, openTracking, rejectsWith, TEST_ARTIFACT_ROOT, type TrackingHarness } from './testing/harness.js';

const ctx = contextIn();
const other = contextIn('team-b');

for (const target of await testDatabases()) {
  describe(`experiments on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TrackingHarness;

    before(async () => {
      db = await target.create();
      t = await openTracking(db);
    });
    after(() => db.cleanup());

    it('should seed Default as experiment 0 of the default workspace, once', async () => {
      const seeded = await t.experiments.get(ctx, '0');
      assert.equal(seeded.name, 'Default');
      assert.equal(seeded.lifecycleStage, 'active');
      assert.equal(seeded.artifactLocation, `${TEST_ARTIFACT_ROOT}/0`);
      assert.deepEqual((await migrate(t.database, TRACKING_MIGRATIONS, silentLogger())).applied, []);
      assert.equal((await t.experiments.defaultExperiment(ctx)).experimentId, '0');
    });

    it('should create an experiment with tags and read it by id and by name', async () => {
      const created = await t.experiments.create(ctx, { name: 'churn', tags: [{ key: 'team', value: 'risk' }] });
      assert.match(created.experimentId, /^[1-9][0-9]*$/);
      assert.equal(created.artifactLocation, `${TEST_ARTIFACT_ROOT}/${created.experimentId}`);
      assert.deepEqual(created.tags, [{ key: 'team', value: 'risk' }]);
      assert.equal(created.creationTime, created.lastUpdateTime);
      assert.deepEqual(await t.experiments.get(ctx, created.experimentId), created);
      assert.deepEqual(await t.experiments.getByName(ctx, 'churn'), created);
    });

    it('should refuse a duplicate name with RESOURCE_ALREADY_EXISTS', async () => {
      await assert.rejects(
        t.experiments.create(ctx, { name: 'churn' }),
        rejectsWith('RESOURCE_ALREADY_EXISTS', /Experiment 'churn' already exists/),
      );
    });

    it('should answer RESOURCE_DOES_NOT_EXIST for unknown ids and names, and reject malformed ids', async () => {
      await assert.rejects(t.experiments.get(ctx, '999999'), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
      await assert.rejects(t.experiments.get(ctx, '99999999999999999999'), rejectsWith('INVALID_PARAMETER_VALUE'));
      await assert.rejects(t.experiments.get(ctx, 'abc'), rejectsWith('INVALID_PARAMETER_VALUE', /experiment_id/));
      await assert.rejects(
        t.experiments.getByName(ctx, 'client-demo'),
        rejectsWith('RESOURCE_DOES_NOT_EXIST', /Could not find experiment with name 'client-demo'/),
      );
    });

    it('should validate names and tags', async () => {
      await assert.rejects(t.experiments.create(ctx, { name: '' }), rejectsWith('INVALID_PARAMETER_VALUE', /^name:/));
      await assert.rejects(
        t.experiments.create(ctx, { name: 'x'.repeat(501) }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^name: has length 501/),
      );
      await assert.rejects(
        t.experiments.create(ctx, { name: 'tags', tags: [{ key: 'k', value: 'v'.repeat(5001) }] }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^tags\[0\]\.value: has length 5001/),
      );
    });

    it('should rename, refusing a taken name', async () => {
      const a = await t.experiments.create(ctx, { name: 'rename-a' });
      await t.experiments.create(ctx, { name: 'rename-b' });
      await assert.rejects(
        t.experiments.rename(ctx, a.experimentId, 'rename-b'),
        rejectsWith('RESOURCE_ALREADY_EXISTS'),
      );
      const renamed = await t.experiments.rename(ctx, a.experimentId, 'rename-c');
      assert.equal(renamed.name, 'rename-c');
      await assert.rejects(t.experiments.getByName(ctx, 'rename-a'), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
    });

    it('should set, overwrite and delete tags, and report a missing tag', async () => {
      const e = await t.experiments.create(ctx, { name: 'tagged' });
      await t.experiments.setTag(ctx, e.experimentId, 'stage', 'pilot');
      await t.experiments.setTag(ctx, e.experimentId, 'stage', 'prod');
      await t.experiments.setTag(ctx, e.experimentId, 'owner', 'ana');
      assert.deepEqual((await t.experiments.get(ctx, e.experimentId)).tags, [
        { key: 'owner', value: 'ana' },
        { key: 'stage', value: 'prod' },
      ]);
      await t.experiments.deleteTag(ctx, e.experimentId, 'stage');
      assert.deepEqual((await t.experiments.get(ctx, e.experimentId)).tags, [{ key: 'owner', value: 'ana' }]);
      await assert.rejects(
        t.experiments.deleteTag(ctx, e.experimentId, 'stage'),
        rejectsWith('RESOURCE_DOES_NOT_EXIST', /No tag with name: stage/),
      );
      await assert.rejects(
        t.experiments.setTag(ctx, e.experimentId, '../escape', 'x'),
        rejectsWith('INVALID_PARAMETER_VALUE', /^key:/),
      );
    });

    it('should soft-delete with its runs and restore only the runs deleted with it', async () => {
      const e = await t.experiments.create(ctx, { name: 'lifecycle' });
      const kept = await t.runs.create(ctx, { experimentId: e.experimentId });
      const earlier = await t.runs.create(ctx, { experimentId: e.experimentId });
      await t.runs.delete(ctx, earlier.info.runId);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.experiments.delete(ctx, e.experimentId);
      assert.equal((await t.experiments.get(ctx, e.experimentId)).lifecycleStage, 'deleted');
      assert.equal((await t.runs.get(ctx, kept.info.runId)).info.lifecycleStage, 'deleted');
      await assert.rejects(t.experiments.delete(ctx, e.experimentId), rejectsWith('INVALID_PARAMETER_VALUE'));
      await assert.rejects(
        t.experiments.setTag(ctx, e.experimentId, 'k', 'v'),
        rejectsWith('INVALID_PARAMETER_VALUE', /must be in the 'active' state/),
      );
      await assert.rejects(t.experiments.rename(ctx, e.experimentId, 'z'), rejectsWith('INVALID_PARAMETER_VALUE'));
      await assert.rejects(
        t.runs.create(ctx, { experimentId: e.experimentId }),
        rejectsWith('INVALID_PARAMETER_VALUE', /must be in the 'active' state/),
      );
      await assert.rejects(
        t.experiments.create(ctx, { name: 'lifecycle' }),
        rejectsWith('RESOURCE_ALREADY_EXISTS', /deleted state/),
      );
      await t.experiments.restore(ctx, e.experimentId);
      assert.equal((await t.experiments.get(ctx, e.experimentId)).lifecycleStage, 'active');
      assert.equal((await t.runs.get(ctx, kept.info.runId)).info.lifecycleStage, 'active');
      assert.equal((await t.runs.get(ctx, earlier.info.runId)).info.lifecycleStage, 'deleted');
      await assert.rejects(t.experiments.restore(ctx, e.experimentId), rejectsWith('INVALID_PARAMETER_VALUE'));
    });

    it('should refuse to delete the Default experiment', async () => {
      await assert.rejects(
        t.experiments.delete(ctx, '0'),
        rejectsWith('INVALID_PARAMETER_VALUE', /default experiment/),
      );
    });

    it('should keep workspaces apart', async () => {
      const mine = await t.experiments.getByName(ctx, 'churn');
      await assert.rejects(t.experiments.get(other, mine.experimentId), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
      await assert.rejects(t.experiments.get(other, '0'), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
      await assert.rejects(
        t.experiments.setTag(other, mine.experimentId, 'k', 'v'),
        rejectsWith('RESOURCE_DOES_NOT_EXIST'),
      );
      await assert.rejects(t.experiments.delete(other, mine.experimentId), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
      const theirs = await t.experiments.create(other, { name: 'churn' });
      assert.notEqual(theirs.experimentId, mine.experimentId);
      const names = (await t.experiments.search(other)).experiments.map((e) => e.name);
      assert.deepEqual(names, ['churn']);
      const fallback = await t.experiments.defaultExperiment(other);
      assert.equal(fallback.name, 'Default');
      assert.notEqual(fallback.experimentId, '0');
      assert.equal((await t.experiments.defaultExperiment(other)).experimentId, fallback.experimentId);
    });

    it('should search with filters, ordering, view types and pages', async () => {
      const w = contextIn('search-ws');
      for (const [name, team] of [
        ['alpha', 'risk'],
        ['beta', 'growth'],
        ['gamma', 'risk'],
        ['delta', 'ops'],
      ] as const) {
        await t.experiments.create(w, { name, tags: [{ key: 'team', value: team }] });
      }
      await t.experiments.delete(w, (await t.experiments.getByName(w, 'delta')).experimentId);
      const names = async (input: Parameters<typeof t.experiments.search>[1]) =>
        (await t.experiments.search(w, input)).experiments.map((e) => e.name);
      // Default order: newest first; experiments created in the same millisecond by id.
      const active = (await t.experiments.search(w)).experiments;
      const expected = [...active].sort(
        (a, b) => b.creationTime - a.creationTime || Number(a.experimentId) - Number(b.experimentId),
      );
      assert.deepEqual(active, expected);
      assert.deepEqual(active.map((e) => e.name).sort(), ['alpha', 'beta', 'gamma']);
      assert.deepEqual(await names({ filter: "tags.team = 'risk'", orderBy: ['name ASC'] }), ['alpha', 'gamma']);
      assert.deepEqual(await names({ filter: "name LIKE '%a' AND name != 'beta'", orderBy: ['name DESC'] }), [
        'gamma',
        'alpha',
      ]);
      assert.deepEqual(await names({ viewType: 'DELETED_ONLY' }), ['delta']);
      assert.deepEqual(await names({ viewType: 'ALL', orderBy: ['name'] }), ['alpha', 'beta', 'delta', 'gamma']);
      const first = await t.experiments.search(w, { orderBy: ['name'], maxResults: 2 });
      assert.deepEqual(
        first.experiments.map((e) => e.name),
        ['alpha', 'beta'],
      );
      assert.ok(first.nextPageToken);
      const second = await t.experiments.search(w, {
        orderBy: ['name'],
        maxResults: 2,
        pageToken: first.nextPageToken,
      });
      assert.deepEqual(
        second.experiments.map((e) => e.name),
        ['gamma'],
      );
      assert.equal(second.nextPageToken, undefined);
      assert.deepEqual((await t.experiments.search(w, { filter: "tags.team = 'risk'" })).experiments[0]?.tags, [
        { key: 'team', value: 'risk' },
      ]);
      await assert.rejects(
        t.experiments.search(w, { maxResults: 50_001 }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^max_results/),
      );
      await assert.rejects(
        t.experiments.search(w, { viewType: 'SOME' }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^view_type/),
      );
      await assert.rejects(
        t.experiments.search(w, { filter: 'metrics.x > 1' }),
        rejectsWith('INVALID_PARAMETER_VALUE'),
      );
    });

    it('should accept safe artifact locations and refuse hostile ones', async () => {
      const proxied = await t.experiments.create(ctx, {
        name: 'loc-1',
        artifactLocation: 'mlflow-artifacts:/team/churn',
      });
      assert.equal(proxied.artifactLocation, 'mlflow-artifacts:/team/churn');
      const run = await t.runs.create(ctx, { experimentId: proxied.experimentId });
      assert.equal(run.info.artifactUri, `mlflow-artifacts:/team/churn/${run.info.runId}/artifacts`);
      const under = await t.experiments.create(ctx, { name: 'loc-2', artifactLocation: `${TEST_ARTIFACT_ROOT}/a//b/` });
      assert.equal(under.artifactLocation, `${TEST_ARTIFACT_ROOT}/a/b`);
      const hostile = [
        'file:///etc',
        `${TEST_ARTIFACT_ROOT}/../x`,
        `${TEST_ARTIFACT_ROOT}/a/%2e%2e/%2e%2e/x`,
        'mlflow-artifacts:/../../etc',
        'mlflow-artifacts:/7',
        'http://169.254.169.254/latest',
        `${TEST_ARTIFACT_ROOT}/a?x=/../../b`,
        `${TEST_ARTIFACT_ROOT}/a#/../../b`,
        's3://other-bucket/x',
        '/etc/passwd',
      ];
      for (const [i, location] of hostile.entries()) {
        await assert.rejects(
          t.experiments.create(ctx, { name: `hostile-${i}`, artifactLocation: location }),
          rejectsWith('INVALID_PARAMETER_VALUE', /^artifact_location:/),
          location,
        );
      }
    });
  });
}
