import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../store/testing/databases.js';
import { CLOCK_START, contextFor, openRegistry, type RegistryFixture, rejectsWith } from './testing/fixture.js';

const ctx = contextFor();
const other = contextFor('team-b', 'bob');

for (const target of await testDatabases()) {
  describe(`registered models on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    before(async () => {
      f = await openRegistry(target);
    });
    after(() => f?.cleanup());

    it('creates a model with description and tags and reads it back', async () => {
      const created = await f.service.createRegisteredModel(ctx, {
        name: 'churn',
        description: 'Predicts churn',
        tags: [
          { key: 'team', value: 'risk' },
          { key: 'domain', value: 'telco' },
        ],
      });
      assert.equal(created.name, 'churn');
      assert.equal(created.description, 'Predicts churn');
      assert.deepEqual(created.tags, [
        { key: 'domain', value: 'telco' },
        { key: 'team', value: 'risk' },
      ]);
      assert.deepEqual(created.aliases, []);
      assert.deepEqual(created.latestVersions, []);
      assert.equal(created.creationTimestamp, created.lastUpdatedTimestamp);
      assert.equal(created.creationTimestamp, CLOCK_START);
      assert.deepEqual(await f.service.getRegisteredModel(ctx, 'churn'), created);
    });

    it('answers RESOURCE_ALREADY_EXISTS for a taken name (the MLflow client then adds a version)', async () => {
      await rejectsWith(f.service.createRegisteredModel(ctx, { name: 'churn' }), 'RESOURCE_ALREADY_EXISTS', /churn/);
    });

    it('keeps workspaces apart: same name elsewhere is fine, and reads do not cross', async () => {
      await f.service.createRegisteredModel(other, { name: 'churn', description: 'theirs' });
      assert.equal((await f.service.getRegisteredModel(other, 'churn')).description, 'theirs');
      assert.equal((await f.service.getRegisteredModel(ctx, 'churn')).description, 'Predicts churn');
      await f.service.createRegisteredModel(other, { name: 'only-b' });
      await rejectsWith(f.service.getRegisteredModel(ctx, 'only-b'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.deleteRegisteredModel(ctx, 'only-b'), 'RESOURCE_DOES_NOT_EXIST');
      const names = (await f.service.searchRegisteredModels(other)).items.map((m) => m.name);
      assert.deepEqual(names, ['churn', 'only-b']);
    });

    it('rejects bad input naming the field', async () => {
      await rejectsWith(f.service.createRegisteredModel(ctx, { name: 'a/b' }), 'INVALID_PARAMETER_VALUE', /^name: /);
      await rejectsWith(
        f.service.createRegisteredModel(ctx, { name: 'x', tags: [{ key: '../k', value: 'v' }] }),
        'INVALID_PARAMETER_VALUE',
        /^tags\[0\]\.key: /,
      );
      await rejectsWith(
        f.service.createRegisteredModel(ctx, {
          name: 'x',
          tags: [
            { key: 'k', value: '1' },
            { key: 'k', value: '2' },
          ],
        }),
        'INVALID_PARAMETER_VALUE',
        /appears twice/,
      );
      await rejectsWith(f.service.renameRegisteredModel(ctx, 'churn', ''), 'INVALID_PARAMETER_VALUE', /^new_name: /);
      await rejectsWith(f.service.getRegisteredModel(ctx, 'x'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('updates the description and the update time', async () => {
      const earlier = await f.service.getRegisteredModel(ctx, 'churn');
      const updated = await f.service.updateRegisteredModel(ctx, 'churn', { description: 'v2 words' });
      assert.equal(updated.description, 'v2 words');
      assert.ok(updated.lastUpdatedTimestamp > earlier.lastUpdatedTimestamp);
      assert.equal(updated.creationTimestamp, earlier.creationTimestamp);
      await rejectsWith(f.service.updateRegisteredModel(ctx, 'nope', { description: '' }), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('sets, overwrites and deletes tags; deleting a missing tag is RESOURCE_DOES_NOT_EXIST', async () => {
      await f.service.setRegisteredModelTag(ctx, 'churn', 'team', 'growth');
      await f.service.setRegisteredModelTag(ctx, 'churn', 'new', '');
      await f.service.deleteRegisteredModelTag(ctx, 'churn', 'domain');
      assert.deepEqual((await f.service.getRegisteredModel(ctx, 'churn')).tags, [
        { key: 'new', value: '' },
        { key: 'team', value: 'growth' },
      ]);
      await rejectsWith(f.service.deleteRegisteredModelTag(ctx, 'churn', 'domain'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.setRegisteredModelTag(ctx, 'nope', 'k', 'v'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(
        f.service.setRegisteredModelTag(ctx, 'churn', 'k', 'x'.repeat(5001)),
        'INVALID_PARAMETER_VALUE',
        /^value: /,
      );
    });

    it('renames with versions, aliases and tags following; the old name is free again', async () => {
      await f.service.createRegisteredModel(ctx, { name: 'old-name', tags: [{ key: 't', value: '1' }] });
      const v1 = await f.service.createModelVersion(ctx, { name: 'old-name', source: 's3://b-1/m/1' });
      await f.service.createModelVersion(ctx, { name: 'old-name', source: 's3://b-1/m/2' });
      await f.service.setAlias(ctx, 'old-name', 'champion', v1.version);
      const renamed = await f.service.renameRegisteredModel(ctx, 'old-name', 'new-name');
      assert.equal(renamed.name, 'new-name');
      assert.deepEqual(renamed.aliases, [{ alias: 'champion', version: 1 }]);
      assert.deepEqual(renamed.tags, [{ key: 't', value: '1' }]);
      assert.deepEqual(
        renamed.latestVersions.map((v) => [v.name, v.version]),
        [['new-name', 2]],
      );
      const byAlias = await f.service.getModelVersionByAlias(ctx, 'new-name', 'champion');
      assert.equal(byAlias.name, 'new-name');
      assert.equal(byAlias.source, 's3://b-1/m/1');
      await rejectsWith(f.service.getRegisteredModel(ctx, 'old-name'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.getModelVersion(ctx, 'old-name', 1), 'RESOURCE_DOES_NOT_EXIST');
      const v3 = await f.service.createModelVersion(ctx, { name: 'new-name', source: 's3://b-1/m/3' });
      assert.equal(v3.version, 3);
      await f.service.createRegisteredModel(ctx, { name: 'old-name' });
      await rejectsWith(f.service.renameRegisteredModel(ctx, 'old-name', 'new-name'), 'RESOURCE_ALREADY_EXISTS');
      await rejectsWith(f.service.renameRegisteredModel(ctx, 'missing', 'x'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('deletes a model with its versions, tags and aliases, and the name can be registered afresh', async () => {
      await f.service.createRegisteredModel(ctx, { name: 'doomed', tags: [{ key: 'a', value: 'b' }] });
      const v = await f.service.createModelVersion(ctx, {
        name: 'doomed',
        source: 's3://b-1/doomed',
        tags: [{ key: 'x', value: 'y' }],
      });
      await f.service.setAlias(ctx, 'doomed', 'champion', v.version);
      await f.service.deleteRegisteredModel(ctx, 'doomed');
      await rejectsWith(f.service.getRegisteredModel(ctx, 'doomed'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.getModelVersion(ctx, 'doomed', 1), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.getModelVersionByAlias(ctx, 'doomed', 'champion'), 'RESOURCE_DOES_NOT_EXIST');
      const { items } = await f.service.searchModelVersions(ctx, { filter: "name = 'doomed'" });
      assert.deepEqual(items, []);
      const again = await f.service.createRegisteredModel(ctx, { name: 'doomed' });
      assert.deepEqual(again.tags, []);
      assert.equal((await f.service.createModelVersion(ctx, { name: 'doomed', source: 's3://b-1/d' })).version, 1);
      await rejectsWith(f.service.deleteRegisteredModel(ctx, 'never'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('answers getLatestVersions per stage, in stage order, skipping deleted versions', async () => {
      await f.service.createRegisteredModel(ctx, { name: 'staged' });
      for (let i = 1; i <= 5; i++)
        await f.service.createModelVersion(ctx, { name: 'staged', source: `s3://b-1/s/${i}` });
      await f.service.transitionModelVersionStage(ctx, 'staged', 1, 'Production');
      await f.service.transitionModelVersionStage(ctx, 'staged', 2, 'staging');
      await f.service.transitionModelVersionStage(ctx, 'staged', 3, 'Staging');
      await f.service.deleteModelVersion(ctx, 'staged', 5);
      const all = await f.service.getLatestVersions(ctx, 'staged');
      assert.deepEqual(
        all.map((v) => [v.currentStage, v.version]),
        [
          ['None', 4],
          ['Staging', 3],
          ['Production', 1],
        ],
      );
      const some = await f.service.getLatestVersions(ctx, 'staged', ['production', 'Staging', 'Archived']);
      assert.deepEqual(
        some.map((v) => v.version),
        [1, 3],
      );
      const model = await f.service.getRegisteredModel(ctx, 'staged');
      assert.deepEqual(
        model.latestVersions.map((v) => v.version),
        [4, 3, 1],
      );
      await rejectsWith(f.service.getLatestVersions(ctx, 'staged', ['Live']), 'INVALID_PARAMETER_VALUE', /^stages: /);
      await rejectsWith(f.service.getLatestVersions(ctx, 'nope'), 'RESOURCE_DOES_NOT_EXIST');
    });
  });
}
