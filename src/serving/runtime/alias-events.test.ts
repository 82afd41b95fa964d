import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { type RequestContext, silentLogger } from '../../core/index.js';
import type { RegistryService } from '../../registry/index.js';
import { contextFor, openRegistry, type RegistryFixture } from '../../registry/testing/fixture.js';
import { testDatabases } from '../../store/testing/databases.js';
import type { ModelRef } from '../types.js';
import { type AliasEvent, registryAliasEvents } from './alias-events.js';
import { ServingRuntime } from './runtime.js';
import { MemoryModelLoader } from './testing/memory-loader.js';
import { requestOf, runtimeModels } from './testing/models.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function eventually(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/** Models in memory, aliases resolved by the real registry (as the registry-backed loader does). */
class RegistryResolvingLoader extends MemoryModelLoader {
  constructor(private readonly registry: RegistryService) {
    super();
  }

  override async resolve(ctx: RequestContext, ref: ModelRef): Promise<ModelRef> {
    if (ref.kind !== 'alias') return ref;
    const version = await this.registry.getModelVersionByAlias(ctx, ref.name, ref.alias);
    return { kind: 'version', name: ref.name, version: version.version };
  }
}

for (const target of await testDatabases()) {
  describe(`registryAliasEvents on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    let elsewhere: RegistryService;
    const ctx = contextFor();

    before(async () => {
      f = await openRegistry(target);
      elsewhere = await f.openAnother();
      await f.service.createRegisteredModel(ctx, { name: 'penguins' });
      for (let v = 0; v < 3; v++)
        await f.service.createModelVersion(ctx, { name: 'penguins', source: 's3://models/p' });
    });
    after(() => f.cleanup());

    it('delivers alias moves made in this process once, and those of other processes by polling', async () => {
      await f.service.setAlias(ctx, 'penguins', 'old', 1);
      const source = registryAliasEvents(f.service, { pollMs: 20 });
      const seen: AliasEvent[] = [];
      const off = source.subscribe((event) => seen.push(event));
      await source.watch?.('default');
      await f.service.createModelVersion(ctx, { name: 'penguins', source: 's3://models/p' });
      await f.service.setAlias(ctx, 'penguins', 'champion', 1);
      await sleep(100);
      assert.deepEqual(seen, [{ workspace: 'default', name: 'penguins', alias: 'champion' }], 'once, history skipped');
      await elsewhere.setAlias(ctx, 'penguins', 'champion', 2);
      await eventually('the other process’s move is polled', () => seen.length === 2);
      await elsewhere.deleteAlias(ctx, 'penguins', 'old');
      await eventually('the deletion is polled', () => seen.length === 3);
      assert.deepEqual(seen[2], { workspace: 'default', name: 'penguins', alias: 'old' });
      off();
      await elsewhere.setAlias(ctx, 'penguins', 'champion', 3);
      await f.service.setAlias(ctx, 'penguins', 'champion', 1);
      await sleep(100);
      assert.equal(seen.length, 3, 'nothing after unsubscribing');
    });

    it('lets a serving replica follow an alias another process moves', async () => {
      const models = await runtimeModels();
      await f.service.setAlias(ctx, 'penguins', 'production', 1);
      const loader = new RegistryResolvingLoader(f.service);
      loader.register('penguins', 1, models.penguinGbdt);
      loader.register('penguins', 2, models.penguinLogistic);
      const runtime = new ServingRuntime({
        loader,
        metrics: new Registry(),
        logger: silentLogger(),
        aliases: registryAliasEvents(f.service, { pollMs: 20 }),
      });
      try {
        await runtime.apply(ctx, {
          workspace: 'default',
          name: 'replica',
          strategy: 'single',
          targets: [{ model: 'models:/penguins@production', role: 'primary', weight: 0 }],
          maxQueue: 100,
          timeoutMs: 5000,
          input: { extraColumns: 'ignore', maxBatchRows: 100 },
          logging: { sampleRate: 0 },
        });
        const endpoint = runtime.get('default', 'replica');
        assert.ok(endpoint);
        assert.equal((await endpoint.infer(requestOf(models.penguins.slice(0, 1), 'a'))).version, '1');
        await elsewhere.setAlias(ctx, 'penguins', 'production', 2);
        await eventually('the replica serves the new version', () => endpoint.models()[0]?.version === '2');
        assert.equal((await endpoint.infer(requestOf(models.penguins.slice(0, 1), 'b'))).version, '2');
        await eventually('the old version is closed', () => loader.loadedFor('penguins', 1)[0]?.closed === true);
      } finally {
        await runtime.close();
      }
    });
  });
}
