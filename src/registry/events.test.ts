import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/index.js';
import { testDatabases } from '../store/testing/databases.js';
import { type RegistryEvent, RegistryEventHub } from './events.js';
import { RegistryService } from './service.js';
import { KyselyRegistryStore } from './store/kysely.js';
import type { RegistryStore, RegistryWriter } from './store.js';
import { contextFor, openRegistry, type RegistryFixture, rejectsWith, TEST_ARTIFACT_ROOT } from './testing/fixture.js';

const ctx = contextFor('default', 'alice');

function event(id: number): RegistryEvent {
  return {
    id,
    workspace: 'default',
    type: 'registered_model.created',
    model: 'm',
    payload: {},
    actor: 'a',
    requestId: 'r',
    createdAt: '2027-01-01T00:00:00.000Z',
  };
}

describe('RegistryEventHub', () => {
  it('delivers in order to every listener, isolating one that throws or rejects', async () => {
    const hub = new RegistryEventHub(silentLogger());
    const seen: number[] = [];
    hub.subscribe(() => {
      throw new Error('boom');
    });
    hub.subscribe(async () => {
      throw new Error('async boom');
    });
    hub.subscribe((e) => {
      seen.push(e.id);
    });
    hub.publish([event(1), event(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [1, 2]);
  });

  it('stops delivering after unsubscribe, per subscription', () => {
    const hub = new RegistryEventHub();
    const seen: number[] = [];
    const listener = (e: RegistryEvent) => {
      seen.push(e.id);
    };
    const off = hub.subscribe(listener);
    hub.subscribe(listener);
    hub.publish([event(1)]);
    off();
    hub.publish([event(2)]);
    assert.deepEqual(seen, [1, 1, 2]);
  });
});

/** A store whose transactions fail at the last step, recording events, as a full disk would. */
function failingAtEvents(store: RegistryStore): RegistryStore {
  return Object.assign(Object.create(store) as RegistryStore, {
    write<T>(fn: (tx: RegistryWriter) => Promise<T>): Promise<T> {
      return store.write((tx) =>
        fn(
          new Proxy(tx, {
            get(target, property) {
              if (property === 'appendEvents') return () => Promise.reject(new Error('disk full'));
              const value = Reflect.get(target, property, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          }),
        ),
      );
    },
  });
}

for (const target of await testDatabases()) {
  describe(`registry events on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    before(async () => {
      f = await openRegistry(target);
    });
    after(() => f?.cleanup());

    it('records every change in order, with who, where and what, and publishes the same after commit', async () => {
      const run = f.addRun();
      await f.service.createRegisteredModel(ctx, { name: 'churn', tags: [{ key: 't', value: '1' }] });
      await f.service.updateRegisteredModel(ctx, 'churn', { description: 'd' });
      await f.service.setRegisteredModelTag(ctx, 'churn', 'team', 'risk');
      await f.service.deleteRegisteredModelTag(ctx, 'churn', 'team');
      await f.service.createModelVersion(ctx, { name: 'churn', source: `runs:/${run}/model`, runId: run });
      await f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/m' });
      await f.service.updateModelVersion(ctx, 'churn', 1, { description: 'v1' });
      await f.service.setModelVersionTag(ctx, 'churn', 1, 'ok', 'yes');
      await f.service.deleteModelVersionTag(ctx, 'churn', 1, 'ok');
      await f.service.setAlias(ctx, 'churn', 'champion', 1);
      await f.service.setAlias(ctx, 'churn', 'champion', 1);
      await f.service.setAlias(ctx, 'churn', 'champion', 2);
      await f.service.transitionModelVersionStage(ctx, 'churn', 1, 'Production');
      await f.service.transitionModelVersionStage(ctx, 'churn', 2, 'Production', { archiveExistingVersions: true });
      await f.service.renameRegisteredModel(ctx, 'churn', 'churn-v2');
      await f.service.deleteAlias(ctx, 'churn-v2', 'champion');
      await f.service.setAlias(ctx, 'churn-v2', 'challenger', 2);
      await f.service.deleteModelVersion(ctx, 'churn-v2', 2);
      await f.service.deleteRegisteredModel(ctx, 'churn-v2');

      const events = await f.service.listEvents(ctx, { limit: 1000 });
      const summary = events.map((e) => [e.type, e.model, e.version ?? null, e.alias ?? null, e.payload]);
      assert.deepEqual(summary, [
        ['registered_model.created', 'churn', null, null, { description: '', tags: [{ key: 't', value: '1' }] }],
        ['registered_model.updated', 'churn', null, null, { description: 'd' }],
        ['registered_model_tag.set', 'churn', null, null, { key: 'team', value: 'risk' }],
        ['registered_model_tag.deleted', 'churn', null, null, { key: 'team' }],
        ['model_version.created', 'churn', 1, null, { source: `runs:/${run}/model`, run_id: run, tags: [] }],
        ['model_version.created', 'churn', 2, null, { source: 's3://b-1/m', tags: [] }],
        ['model_version.updated', 'churn', 1, null, { description: 'v1' }],
        ['model_version_tag.set', 'churn', 1, null, { key: 'ok', value: 'yes' }],
        ['model_version_tag.deleted', 'churn', 1, null, { key: 'ok' }],
        ['model_version_alias.created', 'churn', 1, 'champion', {}],
        ['model_version_alias.moved', 'churn', 2, 'champion', { from_version: 1 }],
        ['model_version.stage_transitioned', 'churn', 1, null, { from: 'None', to: 'Production' }],
        ['model_version.stage_transitioned', 'churn', 2, null, { from: 'None', to: 'Production' }],
        [
          'model_version.stage_transitioned',
          'churn',
          1,
          null,
          { from: 'Production', to: 'Archived', archived_by_version: 2 },
        ],
        ['registered_model.renamed', 'churn-v2', null, null, { from: 'churn', to: 'churn-v2' }],
        ['model_version_alias.deleted', 'churn-v2', 2, 'champion', {}],
        ['model_version_alias.created', 'churn-v2', 2, 'challenger', {}],
        ['model_version_alias.deleted', 'churn-v2', 2, 'challenger', { reason: 'version deleted' }],
        ['model_version.deleted', 'churn-v2', 2, null, {}],
        ['registered_model.deleted', 'churn-v2', null, null, {}],
      ]);
      assert.deepEqual(
        events.map((e) => e.id),
        events.map((_, i) => i + 1),
      );
      for (const e of events) {
        assert.equal(e.workspace, 'default');
        assert.equal(e.actor, 'alice');
        assert.equal(e.requestId, ctx.requestId);
        assert.match(e.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      }
      assert.deepEqual(f.published, events);
    });

    it('pages with afterId and filters by model across a rename and a delete, within the workspace', async () => {
      await f.service.createRegisteredModel(contextFor('team-b'), { name: 'churn' });
      const first = await f.service.listEvents(ctx, { limit: 5 });
      const rest = await f.service.listEvents(ctx, { afterId: first.at(-1)?.id ?? 0, limit: 1000 });
      assert.deepEqual(
        [...first, ...rest].map((e) => e.id),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      await f.service.createRegisteredModel(ctx, { name: 'churn' });
      const byOldName = await f.service.listEvents(ctx, { model: 'churn', limit: 1000 });
      assert.equal(byOldName.filter((e) => e.model === 'churn').length, byOldName.length);
      assert.equal(byOldName.length, 15);
      assert.equal((await f.service.listEvents(ctx, { model: 'churn-v2' })).length, 6);
      const theirs = await f.service.listEvents(contextFor('team-b'));
      assert.deepEqual(
        theirs.map((e) => [e.id, e.type]),
        [[21, 'registered_model.created']],
      );
      await f.service.createRegisteredModel(ctx, { name: 'before' });
      await f.service.renameRegisteredModel(ctx, 'before', 'after');
      const followed = await f.service.listEvents(ctx, { model: 'after' });
      assert.deepEqual(
        followed.map((e) => [e.type, e.model]),
        [
          ['registered_model.created', 'before'],
          ['registered_model.renamed', 'after'],
        ],
      );
      await rejectsWith(f.service.listEvents(ctx, { afterId: -1 }), 'INVALID_PARAMETER_VALUE', /after_id/);
      await rejectsWith(f.service.listEvents(ctx, { limit: 1001 }), 'INVALID_PARAMETER_VALUE', /limit/);
    });

    it('emits nothing for a change that fails, before or inside the transaction', async () => {
      const countBefore = (await f.service.listEvents(ctx, { limit: 1000 })).length;
      const published = f.published.length;
      await rejectsWith(f.service.createRegisteredModel(ctx, { name: 'churn' }), 'RESOURCE_ALREADY_EXISTS');
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'nope', source: 's3://b-1/x' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await rejectsWith(f.service.setAlias(ctx, 'churn', 'champion', 7), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(
        f.service.createModelVersion(ctx, { name: 'churn', source: 'http://x/y' }),
        'INVALID_PARAMETER_VALUE',
      );

      const failing = new RegistryService(failingAtEvents(new KyselyRegistryStore(f.database)), {
        artifactRoot: TEST_ARTIFACT_ROOT,
        runs: { getRun: async () => undefined },
      });
      const heard: RegistryEvent[] = [];
      failing.onEvent((e) => {
        heard.push(e);
      });
      await assert.rejects(
        failing.createRegisteredModel(ctx, { name: 'ghost', tags: [{ key: 'a', value: 'b' }] }),
        /disk full/,
      );
      await assert.rejects(failing.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/x' }), /disk full/);
      await rejectsWith(f.service.getRegisteredModel(ctx, 'ghost'), 'RESOURCE_DOES_NOT_EXIST');
      assert.deepEqual((await f.service.getRegisteredModel(ctx, 'churn')).latestVersions, []);
      assert.equal((await f.service.createModelVersion(ctx, { name: 'churn', source: 's3://b-1/x' })).version, 1);

      assert.deepEqual(heard, []);
      const log = await f.service.listEvents(ctx, { limit: 1000 });
      assert.equal(log.length, countBefore + 1);
      assert.equal(log.at(-1)?.type, 'model_version.created');
      assert.equal(f.published.length, published + 1);
    });
  });
}
