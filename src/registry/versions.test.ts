import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../store/testing/databases.js';
import { contextFor, openRegistry, type RegistryFixture, rejectsWith, TEST_ARTIFACT_ROOT } from './testing/fixture.js';

const ctx = contextFor();
const signature = { inputs: [{ name: 'tenure', type: 'long' as const }], outputs: [{ type: 'double' as const }] };

for (const target of await testDatabases()) {
  describe(`model versions on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    let run: string;
    before(async () => {
      f = await openRegistry(target);
      run = f.addRun();
      await f.service.createRegisteredModel(ctx, { name: 'churn' });
    });
    after(() => f?.cleanup());

    it('registers version 1 READY with the run link, user, tags and signature', async () => {
      const v = await f.service.createModelVersion(ctx, {
        name: 'churn',
        source: `runs:/${run}/model`,
        runId: run,
        runLink: 'https://ci.example.com/runs/1',
        description: 'first',
        tags: [{ key: 'validated', value: 'true' }],
        signature,
      });
      assert.equal(v.version, 1);
      assert.equal(v.status, 'READY');
      assert.equal(v.currentStage, 'None');
      assert.equal(v.userId, 'alice');
      assert.equal(v.runId, run);
      assert.equal(v.runLink, 'https://ci.example.com/runs/1');
      assert.deepEqual(v.tags, [{ key: 'validated', value: 'true' }]);
      assert.deepEqual(v.signature, signature);
      assert.deepEqual(await f.service.getModelVersion(ctx, 'churn', '1'), v);
      const model = await f.service.getRegisteredModel(ctx, 'churn');
      assert.equal(model.lastUpdatedTimestamp, v.creationTimestamp);
    });

    it('stores the canonical source and omits run id and signature when not given', async () => {
      const v = await f.service.createModelVersion(ctx, { name: 'churn', source: 's3://bucket-a/models//churn/./2' });
      assert.equal(v.version, 2);
      assert.equal(v.source, 's3://bucket-a/models/churn/2');
      assert.equal('runId' in v, false);
      assert.equal('signature' in v, false);
    });

    it('refuses hostile sources whatever the tags say, and stores nothing', async () => {
      const hostile = ['file:///etc/passwd', 'http://169.254.169.254/', `${TEST_ARTIFACT_ROOT}/../x`, '/etc/shadow'];
      for (const source of hostile) {
        await rejectsWith(
          f.service.createModelVersion(ctx, {
            name: 'churn',
            source,
            tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }],
          }),
          'INVALID_PARAMETER_VALUE',
          /^source: /,
        );
      }
      const inside = await f.service.createModelVersion(ctx, {
        name: 'churn',
        source: `${TEST_ARTIFACT_ROOT}/exp/1/model`,
      });
      assert.equal(inside.version, 3);
      assert.equal(inside.source, 'file:///srv/kiln-test/artifacts/exp/1/model');
    });

    it('checks the runs a version names', async () => {
      const ghost = '0'.repeat(32);
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/x', runId: ghost }),
        'RESOURCE_DOES_NOT_EXIST',
        /Run/,
      );
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'churn', source: `runs:/${ghost}/model` }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      const elsewhere = f.addRun('team-b');
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/x', runId: elsewhere }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      const second = f.addRun();
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'churn', source: `runs:/${run}/model`, runId: second }),
        'INVALID_PARAMETER_VALUE',
        /^run_id: /,
      );
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'nope', source: 's3://b-1/x' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/x', runLink: 'javascript:x' }),
        'INVALID_PARAMETER_VALUE',
        /^run_link: /,
      );
      await rejectsWith(
        f.service.createModelVersion(ctx, {
          name: 'churn',
          source: 's3://b-1/x',
          signature: { inputs: [{ type: 'x' }] },
        }),
        'INVALID_PARAMETER_VALUE',
        /^signature: /,
      );
      assert.equal((await f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/x' })).version, 4);
    });

    it('accepts models:/ sources only when they name an existing version or alias', async () => {
      await f.service.setAlias(ctx, 'churn', 'champion', 1);
      await f.service.createRegisteredModel(ctx, { name: 'copy' });
      const byVersion = await f.service.createModelVersion(ctx, { name: 'copy', source: 'models:/churn/2' });
      const byAlias = await f.service.createModelVersion(ctx, { name: 'copy', source: 'models:/churn@champion' });
      assert.deepEqual([byVersion.version, byAlias.version], [1, 2]);
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'copy', source: 'models:/churn/99' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'copy', source: 'models:/churn@nobody' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'copy', source: 'models:/copy/3' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    it('resolves download URIs through runs and models:/ references', async () => {
      const runUri = `mlflow-artifacts:/1/${run}/artifacts/model`;
      assert.equal(await f.service.getModelVersionDownloadUri(ctx, 'churn', 1), runUri);
      assert.equal(await f.service.getModelVersionDownloadUri(ctx, 'churn', 2), 's3://bucket-a/models/churn/2');
      assert.equal(await f.service.getModelVersionDownloadUri(ctx, 'copy', 1), 's3://bucket-a/models/churn/2');
      assert.equal(await f.service.getModelVersionDownloadUri(ctx, 'copy', 2), runUri);
      await f.service.setAlias(ctx, 'copy', 'loop', 2);
      await f.service.createRegisteredModel(ctx, { name: 'cycle' });
      await f.service.createModelVersion(ctx, { name: 'cycle', source: 'models:/copy@loop' });
      await f.service.setAlias(ctx, 'cycle', 'self', 1);
      await f.service.setAlias(ctx, 'copy', 'loop', 1);
      await f.service.createModelVersion(ctx, { name: 'cycle', source: 'models:/cycle@self' });
      await f.service.setAlias(ctx, 'cycle', 'self', 2);
      await rejectsWith(f.service.getModelVersionDownloadUri(ctx, 'cycle', 2), 'INVALID_STATE', /cycle/);
    });

    it('updates the description and version update time only', async () => {
      const earlier = await f.service.getModelVersion(ctx, 'churn', 2);
      const updated = await f.service.updateModelVersion(ctx, 'churn', '2', { description: 'better' });
      assert.equal(updated.description, 'better');
      assert.equal(updated.source, earlier.source);
      assert.ok(updated.lastUpdatedTimestamp > earlier.lastUpdatedTimestamp);
      await rejectsWith(f.service.updateModelVersion(ctx, 'churn', 99, { description: '' }), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(
        f.service.updateModelVersion(ctx, 'churn', 'x', { description: '' }),
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('sets and deletes version tags', async () => {
      await f.service.setModelVersionTag(ctx, 'churn', 2, 'b', '2');
      await f.service.setModelVersionTag(ctx, 'churn', 2, 'a', '1');
      await f.service.setModelVersionTag(ctx, 'churn', 2, 'a', '1b');
      await f.service.deleteModelVersionTag(ctx, 'churn', 2, 'b');
      assert.deepEqual((await f.service.getModelVersion(ctx, 'churn', 2)).tags, [{ key: 'a', value: '1b' }]);
      await rejectsWith(f.service.deleteModelVersionTag(ctx, 'churn', 2, 'b'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.setModelVersionTag(ctx, 'churn', 42, 'a', '1'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('deletes a version with its aliases and never reuses its number', async () => {
      await f.service.setAlias(ctx, 'churn', 'doomed', 4);
      await f.service.deleteModelVersion(ctx, 'churn', 4);
      await rejectsWith(f.service.getModelVersion(ctx, 'churn', 4), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.getModelVersionByAlias(ctx, 'churn', 'doomed'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.deleteModelVersion(ctx, 'churn', 4), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.setAlias(ctx, 'churn', 'again', 4), 'RESOURCE_DOES_NOT_EXIST');
      assert.equal((await f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/y' })).version, 5);
      const aliases = (await f.service.getRegisteredModel(ctx, 'churn')).aliases.map((a) => a.alias);
      assert.deepEqual(aliases, ['champion']);
    });

    it('transitions stages, archiving the others in Staging or Production when asked', async () => {
      await f.service.createRegisteredModel(ctx, { name: 'stages' });
      for (let i = 0; i < 4; i++) await f.service.createModelVersion(ctx, { name: 'stages', source: 's3://b-1/s' });
      await f.service.transitionModelVersionStage(ctx, 'stages', 1, 'Production');
      await f.service.transitionModelVersionStage(ctx, 'stages', 2, 'Production');
      await f.service.transitionModelVersionStage(ctx, 'stages', 3, 'Staging');
      const moved = await f.service.transitionModelVersionStage(ctx, 'stages', 4, 'production', {
        archiveExistingVersions: true,
      });
      assert.equal(moved.currentStage, 'Production');
      const stages = [];
      for (let v = 1; v <= 4; v++) stages.push((await f.service.getModelVersion(ctx, 'stages', v)).currentStage);
      assert.deepEqual(stages, ['Archived', 'Archived', 'Staging', 'Production']);
      await rejectsWith(
        f.service.transitionModelVersionStage(ctx, 'stages', 3, 'Archived', { archiveExistingVersions: true }),
        'INVALID_PARAMETER_VALUE',
        /^archive_existing_versions: /,
      );
      await rejectsWith(f.service.transitionModelVersionStage(ctx, 'stages', 3, 'Live'), 'INVALID_PARAMETER_VALUE');
      const back = await f.service.transitionModelVersionStage(ctx, 'stages', 1, 'None');
      assert.equal(back.currentStage, 'None');
    });
  });
}
