import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../store/testing/databases.js';
import type { RegistryService } from './service.js';
import { contextFor, openRegistry, type RegistryFixture, rejectsWith } from './testing/fixture.js';

const ctx = contextFor();

async function versions(service: RegistryService, name: string, count: number): Promise<void> {
  await service.createRegisteredModel(ctx, { name });
  for (let i = 0; i < count; i++) await service.createModelVersion(ctx, { name, source: `s3://b-1/${name}/${i}` });
}

for (const target of await testDatabases()) {
  describe(`aliases and concurrency on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    let second: RegistryService;
    before(async () => {
      f = await openRegistry(target);
      // Two SQLite handles in one process would stall each other: better-sqlite3 waits for the
      // other connection's write lock synchronously, blocking the event loop that would release it.
      // SQLite's cross-process safety is the store's BEGIN IMMEDIATE; here both halves share a handle.
      second = target.name === 'postgres' ? await f.openAnother() : f.service;
      await versions(f.service, 'churn', 3);
    });
    after(() => f?.cleanup());

    it('sets, reads, moves and deletes an alias, listed on the model and the version', async () => {
      await f.service.setAlias(ctx, 'churn', 'champion', 1);
      await f.service.setAlias(ctx, 'churn', 'challenger', '2');
      assert.equal((await f.service.getModelVersionByAlias(ctx, 'churn', 'champion')).version, 1);
      await f.service.setAlias(ctx, 'churn', 'champion', 2);
      const v2 = await f.service.getModelVersionByAlias(ctx, 'churn', 'champion');
      assert.equal(v2.version, 2);
      assert.deepEqual(v2.aliases, ['challenger', 'champion']);
      assert.deepEqual((await f.service.getModelVersion(ctx, 'churn', 1)).aliases, []);
      assert.deepEqual((await f.service.getRegisteredModel(ctx, 'churn')).aliases, [
        { alias: 'challenger', version: 2 },
        { alias: 'champion', version: 2 },
      ]);
      await f.service.deleteAlias(ctx, 'churn', 'challenger');
      await rejectsWith(f.service.getModelVersionByAlias(ctx, 'churn', 'challenger'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.deleteAlias(ctx, 'churn', 'challenger'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('refuses reserved names, missing versions and missing models', async () => {
      await rejectsWith(f.service.setAlias(ctx, 'churn', 'latest', 1), 'INVALID_PARAMETER_VALUE', /^alias: /);
      await rejectsWith(f.service.setAlias(ctx, 'churn', 'v3', 1), 'INVALID_PARAMETER_VALUE', /^alias: /);
      await rejectsWith(f.service.setAlias(ctx, 'churn', 'x', 0), 'INVALID_PARAMETER_VALUE', /^version: /);
      await rejectsWith(f.service.setAlias(ctx, 'churn', 'x', 9), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(f.service.setAlias(ctx, 'nope', 'x', 1), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(
        f.service.getModelVersionByAlias(contextFor('team-b'), 'churn', 'champion'),
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    it('gives concurrent registrations distinct consecutive numbers, across two handles', async () => {
      await f.service.createRegisteredModel(ctx, { name: 'race' });
      const created = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 === 0 ? f.service : second).createModelVersion(ctx, { name: 'race', source: `s3://b-1/race/${i}` }),
        ),
      );
      const numbers = created.map((v) => v.version).sort((a, b) => a - b);
      assert.deepEqual(
        numbers,
        Array.from({ length: 24 }, (_, i) => i + 1),
      );
      const bySource = new Map(created.map((v) => [v.source, v.version]));
      const { items } = await f.service.searchModelVersions(ctx, { filter: "name = 'race'" });
      assert.equal(items.length, 24);
      for (const v of items) assert.equal(bySource.get(v.source), v.version);
    });

    it('moves an alias atomically under concurrent movers: readers never miss it, one consistent winner', async () => {
      await versions(f.service, 'contest', 12);
      await f.service.setAlias(ctx, 'contest', 'champion', 1);
      const since = f.published.at(-1)?.id ?? 0;
      let reads = 0;
      const moves = Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? f.service : second).setAlias(ctx, 'contest', 'champion', i + 1),
      );
      const readers = Array.from({ length: 12 }, async () => {
        const found = await f.service.getModelVersionByAlias(ctx, 'contest', 'champion');
        assert.ok(found.version >= 1 && found.version <= 12);
        reads++;
      });
      await Promise.all([...moves, ...readers]);
      assert.equal(reads, 12);
      const winner = (await f.service.getModelVersionByAlias(ctx, 'contest', 'champion')).version;
      const model = await f.service.getRegisteredModel(ctx, 'contest');
      assert.deepEqual(model.aliases, [{ alias: 'champion', version: winner }]);
      const log = (await f.service.listEvents(ctx, { afterId: since, model: 'contest', limit: 1000 })).filter(
        (e) => e.alias === 'champion',
      );
      // Every move saw its predecessor: the chain of from_version → version is unbroken and ends at the winner.
      let current = 1;
      for (const event of log) {
        assert.equal(event.type, 'model_version_alias.moved');
        assert.equal(event.payload.from_version, current);
        assert.notEqual(event.version, current);
        current = event.version ?? Number.NaN;
      }
      assert.equal(current, winner);
      // Each mover moved it once, except the one naming version 1 if it ran while 1 was current.
      const targets = new Set(log.map((e) => e.version));
      for (let v = 2; v <= 12; v++) assert.ok(targets.has(v), `no move to ${v}`);
      assert.equal(log.length, targets.has(1) ? 12 : 11);
    });

    it('serialises concurrent stage moves with archiving: one version ends in Production', async () => {
      await versions(f.service, 'prod', 8);
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? f.service : second).transitionModelVersionStage(ctx, 'prod', i + 1, 'Production', {
            archiveExistingVersions: true,
          }),
        ),
      );
      const latest = await f.service.getLatestVersions(ctx, 'prod', ['Production']);
      assert.equal(latest.length, 1);
      const { items } = await f.service.searchModelVersions(ctx, { filter: "name = 'prod'" });
      assert.equal(items.filter((v) => v.currentStage === 'Production').length, 1);
      assert.equal(items.filter((v) => v.currentStage === 'Archived').length, 7);
    });

    it('lets exactly one of several concurrent renames to the same name win', async () => {
      const names = ['mv-a', 'mv-b', 'mv-c', 'mv-d'];
      for (const name of names) await f.service.createRegisteredModel(ctx, { name });
      const outcomes = await Promise.allSettled(
        names.map((name, i) => (i % 2 === 0 ? f.service : second).renameRegisteredModel(ctx, name, 'mv-target')),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) {
        if (o.status === 'rejected') assert.equal((o.reason as { code?: string }).code, 'RESOURCE_ALREADY_EXISTS');
      }
      const remaining = (await f.service.searchRegisteredModels(ctx, { filter: "name LIKE 'mv-%'" })).items;
      assert.equal(remaining.length, 4);
      assert.ok(remaining.some((m) => m.name === 'mv-target'));
    });

    it('lets exactly one of two concurrent creators of a name win', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? f.service : second).createRegisteredModel(ctx, { name: 'contested' }),
        ),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) {
        if (o.status === 'rejected') assert.equal((o.reason as { code?: string }).code, 'RESOURCE_ALREADY_EXISTS');
      }
    });
  });
}
