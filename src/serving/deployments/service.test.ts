import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/index.js';
import { REGISTRY_MIGRATIONS } from '../../registry/index.js';
import { contextFor, openRegistry, type RegistryFixture, rejectsWith } from '../../registry/testing/fixture.js';
import { migrate, nowIso } from '../../store/index.js';
import { testDatabases } from '../../store/testing/databases.js';
import { DEPLOYMENT_MIGRATIONS } from './migrations.js';
import { DeploymentService } from './service.js';
import { checkDeploymentInput } from './spec.js';
import { DeploymentStore } from './store.js';
import { RecordingRuntime } from './testing/recording-runtime.js';

const ctx = contextFor('default', 'alice');
const bob = contextFor('default', 'bob');
const teamA = contextFor('team-a', 'carol');

const CHAMPION = 'models:/flights@champion';
const V2 = 'models:/flights/2';
const V3 = 'models:/flights/3';
const V4 = 'models:/flights/4';

/** Registers `count` versions of `name` in the context's workspace, each from its own run. */
async function register(f: RegistryFixture, at: typeof ctx, name: string, count: number): Promise<void> {
  await f.service.createRegisteredModel(at, { name });
  for (let i = 0; i < count; i++) {
    const runId = f.addRun(at.workspace);
    await f.service.createModelVersion(at, { name, source: `runs:/${runId}/model`, runId });
  }
}

for (const target of await testDatabases()) {
  describe(`deployments on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    let runtime: RecordingRuntime;
    let service: DeploymentService;

    before(async () => {
      f = await openRegistry(target);
      const report = await migrate(f.database, [...REGISTRY_MIGRATIONS, ...DEPLOYMENT_MIGRATIONS], silentLogger());
      assert.equal(report.error, undefined, report.error?.message);
      await register(f, ctx, 'flights', 4);
      await f.service.setAlias(ctx, 'flights', 'champion', 3);
      await register(f, teamA, 'flights', 1);
      await f.service.setAlias(teamA, 'flights', 'champion', 1);
      runtime = new RecordingRuntime({ registry: f.service, failOn: (model) => model.endsWith('/2') });
      service = new DeploymentService({ database: f.database, registry: f.service, runtime, logger: silentLogger() });
    });
    after(() => f?.cleanup());

    it('creates a deployment: applied to the runtime, stored as revision 1, live status with the alias resolved', async () => {
      const created = await service.create(ctx, {
        name: 'flights',
        targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: 10 }],
        batching: { max_batch_size: 16 },
      });
      assert.equal(created.revision, 1);
      assert.equal(created.reason, 'create');
      assert.equal(created.createdBy, 'alice');
      assert.equal(created.spec.strategy, 'canary');
      assert.deepEqual(runtime.specOf('default', 'flights'), created.spec);
      const got = await service.get(ctx, 'flights');
      assert.deepEqual(got.spec, created.spec);
      assert.equal(got.status.ready, true);
      assert.deepEqual(
        got.status.targets.map((t) => [t.model, t.role, t.weight, t.version]),
        [
          [CHAMPION, 'primary', 90, '3'],
          [V4, 'canary', 10, '4'],
        ],
      );
      assert.deepEqual(await service.status(ctx, 'flights'), got.status);
    });

    it('refuses a taken name without touching the runtime', async () => {
      const calls = runtime.calls.length;
      await rejectsWith(service.create(ctx, { name: 'flights', targets: [{ model: V3 }] }), 'RESOURCE_ALREADY_EXISTS');
      assert.equal(runtime.calls.length, calls);
    });

    it('answers 404 naming the target for a missing version, alias or model, and stores nothing', async () => {
      const calls = runtime.calls.length;
      await rejectsWith(
        service.create(ctx, {
          name: 'ghost',
          targets: [{ model: V3 }, { model: 'models:/flights/9', role: 'shadow' }],
        }),
        'RESOURCE_DOES_NOT_EXIST',
        /^targets\[1\]\.model: models:\/flights\/9 does not exist/,
      );
      await rejectsWith(
        service.create(ctx, { name: 'ghost', targets: [{ model: 'models:/flights@challenger' }] }),
        'RESOURCE_DOES_NOT_EXIST',
        /^targets\[0\]\.model: .*no alias 'challenger'/,
      );
      await rejectsWith(
        service.create(ctx, { name: 'ghost', targets: [{ model: 'models:/nope/1' }] }),
        'RESOURCE_DOES_NOT_EXIST',
        /^targets\[0\]\.model: /,
      );
      assert.equal(runtime.calls.length, calls);
      await rejectsWith(service.get(ctx, 'ghost'), 'RESOURCE_DOES_NOT_EXIST', /Deployment 'ghost' does not exist/);
    });

    it('stores nothing when the runtime cannot load a target, and returns its error', async () => {
      await rejectsWith(
        service.create(ctx, { name: 'broken', targets: [{ model: V2 }] }),
        'INVALID_PARAMETER_VALUE',
        /could not be loaded/,
      );
      await rejectsWith(service.get(ctx, 'broken'), 'RESOURCE_DOES_NOT_EXIST');
      assert.deepEqual(
        (await service.list(ctx)).items.map((d) => d.spec.name),
        ['flights'],
      );
    });

    it('updates weights and batching as revision 2; a failed update keeps revision and runtime as they were', async () => {
      const updated = await service.update(bob, 'flights', {
        targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: 25 }],
        batching: null,
      });
      assert.equal(updated.revision, 2);
      assert.equal(updated.reason, 'update');
      assert.equal(updated.updatedBy, 'bob');
      assert.equal(updated.createdBy, 'alice');
      assert.deepEqual(
        updated.spec.targets.map((t) => t.weight),
        [75, 25],
      );
      assert.equal(updated.spec.batching, undefined);
      assert.deepEqual(runtime.specOf('default', 'flights'), updated.spec);

      await rejectsWith(
        service.update(ctx, 'flights', { targets: [{ model: CHAMPION }, { model: V2, role: 'canary' }] }),
        'INVALID_PARAMETER_VALUE',
        /could not be loaded/,
      );
      await rejectsWith(
        service.update(ctx, 'flights', { targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: 101 }] }),
        'INVALID_PARAMETER_VALUE',
        /^targets\[1\]\.weight: /,
      );
      await rejectsWith(
        service.update(ctx, 'flights', { targets: [{ model: 'models:/flights/77' }] }),
        'RESOURCE_DOES_NOT_EXIST',
        /^targets\[0\]\.model: /,
      );
      const after = await service.get(ctx, 'flights');
      assert.equal(after.revision, 2);
      assert.deepEqual(after.spec, updated.spec);
      assert.deepEqual(runtime.specOf('default', 'flights'), updated.spec);
      await rejectsWith(service.update(ctx, 'nope', { max_queue: 3 }), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('promotes the canary to the single primary as revision 3', async () => {
      const promoted = await service.promote(ctx, 'flights');
      assert.equal(promoted.revision, 3);
      assert.equal(promoted.reason, 'promote');
      assert.equal(promoted.spec.strategy, 'single');
      assert.deepEqual(promoted.spec.targets, [{ model: V4, role: 'primary', weight: 100 }]);
      assert.deepEqual(runtime.specOf('default', 'flights'), promoted.spec);
      await rejectsWith(service.promote(ctx, 'flights'), 'INVALID_STATE', /nothing to promote/);
    });

    it('rolls back to the previous revision, then to a chosen one, each as a new revision', async () => {
      const revision2 = (await service.revisions(ctx, 'flights')).items.find((r) => r.revision === 2);
      const back = await service.rollback(ctx, 'flights');
      assert.equal(back.revision, 4);
      assert.equal(back.reason, 'rollback');
      assert.deepEqual(back.spec, revision2?.spec);
      assert.deepEqual(runtime.specOf('default', 'flights'), back.spec);

      const first = await service.rollback(ctx, 'flights', 1);
      assert.equal(first.revision, 5);
      assert.deepEqual(first.spec.batching, { maxBatchSize: 16, maxWaitMs: 2 });
      assert.deepEqual(
        first.spec.targets.map((t) => t.weight),
        [90, 10],
      );

      await rejectsWith(service.rollback(ctx, 'flights', 12), 'RESOURCE_DOES_NOT_EXIST', /^revision: .*no revision 12/);
      await rejectsWith(service.rollback(ctx, 'flights', 5), 'INVALID_STATE', /already the current/);
      await rejectsWith(service.rollback(ctx, 'flights', 0), 'INVALID_PARAMETER_VALUE', /^revision: /);

      const page = await service.revisions(ctx, 'flights', { maxResults: 2 });
      assert.deepEqual(
        page.items.map((r) => [r.revision, r.reason]),
        [
          [5, 'rollback'],
          [4, 'rollback'],
        ],
      );
      assert.ok(page.nextPageToken);
      const rest = await service.revisions(ctx, 'flights', { pageToken: page.nextPageToken });
      assert.deepEqual(
        rest.items.map((r) => [r.revision, r.reason, r.actor]),
        [
          [3, 'promote', 'alice'],
          [2, 'update', 'bob'],
          [1, 'create', 'alice'],
        ],
      );
      assert.equal(rest.nextPageToken, undefined);
    });

    it('keeps workspaces apart', async () => {
      await rejectsWith(service.get(teamA, 'flights'), 'RESOURCE_DOES_NOT_EXIST');
      const other = await service.create(teamA, { name: 'flights', targets: [{ model: CHAMPION }] });
      assert.equal(other.spec.workspace, 'team-a');
      assert.equal(other.status.targets[0]?.version, '1');
      assert.equal((await service.get(ctx, 'flights')).revision, 5);
      assert.deepEqual(
        (await service.list(teamA)).items.map((d) => [d.spec.name, d.revision]),
        [['flights', 1]],
      );
    });

    it('serialises concurrent changes to one deployment: each becomes its own revision', async () => {
      const results = await Promise.all([
        service.update(ctx, 'flights', { max_queue: 11 }),
        service.update(bob, 'flights', { timeout_ms: 1234 }),
        service.update(ctx, 'flights', { logging: { sample_rate: 0.1 } }),
      ]);
      assert.deepEqual(results.map((r) => r.revision).sort(), [6, 7, 8]);
      const now = await service.get(ctx, 'flights');
      assert.equal(now.revision, 8);
      assert.equal(now.spec.maxQueue, 11);
      assert.equal(now.spec.timeoutMs, 1234);
      assert.equal(now.spec.logging.sampleRate, 0.1);
      assert.deepEqual(runtime.specOf('default', 'flights'), now.spec);
    });

    it('refuses a change based on a revision that is no longer current (another process won)', async () => {
      const store = new DeploymentStore(f.database);
      const stale = await store.get('default', 'flights');
      assert.ok(stale);
      await service.update(ctx, 'flights', { max_queue: 12 });
      const changed = checkDeploymentInput({ name: 'flights', targets: [{ model: V3 }] }, 'default');
      await rejectsWith(store.append(stale, changed, 'update', 'mallory', nowIso()), 'RESOURCE_CONFLICT');
      await rejectsWith(store.delete('default', 'flights', stale.current.revision), 'RESOURCE_CONFLICT');
      const now = await service.get(ctx, 'flights');
      assert.equal(now.revision, 9);
      assert.equal(now.spec.maxQueue, 12);
    });

    it('pages the list by name', async () => {
      for (const name of ['a-one', 'b-two', 'c-three']) await service.create(ctx, { name, targets: [{ model: V3 }] });
      const first = await service.list(ctx, { maxResults: 2 });
      assert.deepEqual(
        first.items.map((d) => d.spec.name),
        ['a-one', 'b-two'],
      );
      const second = await service.list(ctx, { maxResults: 2, pageToken: first.nextPageToken });
      assert.deepEqual(
        second.items.map((d) => d.spec.name),
        ['c-three', 'flights'],
      );
      assert.equal(second.nextPageToken, undefined);
      await rejectsWith(service.list(ctx, { maxResults: 0 }), 'INVALID_PARAMETER_VALUE', /^max_results: /);
      await rejectsWith(service.list(ctx, { pageToken: '!!' }), 'INVALID_PARAMETER_VALUE', /^page_token: /);
    });

    it('restores every workspace on start, reporting the ones that fail and going on', async () => {
      // Version 2 exists in the registry but the runtime cannot load it; stored behind the runtime's back.
      const store = new DeploymentStore(f.database);
      await store.create(
        checkDeploymentInput({ name: 'a-broken', targets: [{ model: V2 }] }, 'default'),
        'x',
        nowIso(),
      );
      const fresh = new RecordingRuntime({ registry: f.service, failOn: (model) => model.endsWith('/2') });
      const restarted = new DeploymentService({
        database: f.database,
        registry: f.service,
        runtime: fresh,
        logger: silentLogger(),
      });
      const report = await restarted.restoreAll(contextFor('default', 'system'));
      assert.deepEqual(
        report.restored.map((d) => `${d.workspace}/${d.name}@${d.revision}`),
        ['default/a-one@1', 'default/b-two@1', 'default/c-three@1', 'default/flights@9', 'team-a/flights@1'],
      );
      assert.deepEqual(
        report.failed.map((d) => [d.workspace, d.name]),
        [['default', 'a-broken']],
      );
      assert.match(report.failed[0]?.error ?? '', /could not be loaded/);
      assert.deepEqual(fresh.specOf('team-a', 'flights'), (await service.get(teamA, 'flights')).spec);
      assert.equal((await restarted.get(ctx, 'a-broken')).status.ready, false);
      await restarted.delete(ctx, 'a-broken');
    });

    it('reports the shadow comparison, empty while the runtime has none', async () => {
      await service.create(ctx, {
        name: 'shadowed',
        targets: [{ model: V3 }, { model: V4, role: 'shadow', weight: 50 }],
      });
      const empty = await service.shadowReport(ctx, 'shadowed');
      assert.deepEqual(empty.comparisons, []);
      const report = {
        deployment: 'shadowed',
        since: '2027-01-01T00:00:00.000Z',
        comparisons: [
          {
            shadow: V4,
            shadowVersion: '4',
            mirrored: 10,
            shadowErrors: 0,
            labelAgreement: 0.9,
            primaryLatencyMs: { p50: 1, p99: 2 },
            shadowLatencyMs: { p50: 1, p99: 3 },
          },
        ],
      };
      runtime.shadowReports.set('default/shadowed', report);
      assert.deepEqual(await service.shadowReport(ctx, 'shadowed'), report);
      await rejectsWith(service.shadowReport(ctx, 'nope'), 'RESOURCE_DOES_NOT_EXIST');
      const promoted = await service.promote(ctx, 'shadowed', V4);
      assert.deepEqual(promoted.spec.targets, [{ model: V4, role: 'primary', weight: 100 }]);
      assert.equal(promoted.spec.strategy, 'single');
    });

    it('deletes: out of the runtime, gone with its history; the name starts again at revision 1', async () => {
      await service.delete(ctx, 'flights');
      assert.equal(runtime.specOf('default', 'flights'), undefined);
      assert.deepEqual(runtime.calls.at(-1), { op: 'remove', workspace: 'default', name: 'flights' });
      await rejectsWith(service.get(ctx, 'flights'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(service.revisions(ctx, 'flights'), 'RESOURCE_DOES_NOT_EXIST');
      await rejectsWith(service.delete(ctx, 'flights'), 'RESOURCE_DOES_NOT_EXIST');
      assert.ok(runtime.specOf('team-a', 'flights'));
      const again = await service.create(ctx, { name: 'flights', targets: [{ model: V3 }] });
      assert.equal(again.revision, 1);
      assert.deepEqual(
        (await service.revisions(ctx, 'flights')).items.map((r) => r.revision),
        [1],
      );
    });
  });
}
