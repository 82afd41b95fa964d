import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabases } from '../store/testing/databases.js';
import type { RegistrySearchInput } from './models.js';
import type { RegistryService } from './service.js';
import { contextFor, openRegistry, type RegistryFixture, rejectsWith } from './testing/fixture.js';

const ctx = contextFor();

type Case = [label: string, input: RegistrySearchInput, expected: string[]];

/** Models are created in the order alpha, Beta, beta-2, gamma (so creation time follows that order). */
const MODEL_CASES: readonly Case[] = [
  ['default order: name, code point', {}, ['Beta', 'alpha', 'beta-2', 'gamma']],
  ['name LIKE is case-sensitive', { filter: "name LIKE 'b%'" }, ['beta-2']],
  ['name ILIKE is not', { filter: "name ILIKE 'b%'" }, ['Beta', 'beta-2']],
  ['name =', { filter: "name = 'gamma'" }, ['gamma']],
  ['name !=', { filter: "name != 'gamma'" }, ['Beta', 'alpha', 'beta-2']],
  ['tag =', { filter: "tags.team = 'risk'" }, ['alpha', 'beta-2']],
  ['tag and name', { filter: "tags.team = 'risk' AND name LIKE '%2'" }, ['beta-2']],
  ['tag with a space in its key', { filter: "tags.`cost center` = '7'" }, ['gamma']],
  ['tag != skips models without it', { filter: "tags.team != 'risk'" }, ['gamma']],
  ['name DESC', { orderBy: ['name DESC'] }, ['gamma', 'beta-2', 'alpha', 'Beta']],
  ['timestamp DESC', { orderBy: ['timestamp DESC'] }, ['gamma', 'beta-2', 'Beta', 'alpha']],
  [
    'last_updated_timestamp DESC: new and deleted versions bump a model',
    { orderBy: ['last_updated_timestamp DESC'] },
    ['alpha', 'gamma', 'Beta', 'beta-2'],
  ],
  ['no match', { filter: "name = 'delta'" }, []],
];

/** Version labels are name/version; run r1 made alpha/1 and gamma/1, r2 alpha/2, r3 alpha/3. */
const VERSION_CASES: readonly Case[] = [
  [
    'default order: name, then version DESC; deleted alpha/4 never shows',
    {},
    ['Beta/1', 'alpha/3', 'alpha/2', 'alpha/1', 'gamma/1'],
  ],
  ['name =', { filter: "name = 'alpha'" }, ['alpha/3', 'alpha/2', 'alpha/1']],
  ['version_number >', { filter: 'version_number > 2' }, ['alpha/3']],
  ['version_number <= with name', { filter: "name = 'alpha' AND version_number <= 2" }, ['alpha/2', 'alpha/1']],
  ['run_id IN', { filter: "run_id IN ('r1', 'r3')" }, ['alpha/3', 'alpha/1', 'gamma/1']],
  ['run_id =', { filter: "run_id = 'r2'" }, ['alpha/2']],
  ['tags.x =', { filter: "tags.x = 'y'" }, ['alpha/2', 'gamma/1']],
  ['tag LIKE', { filter: "tags.x LIKE 'y%'" }, ['alpha/3', 'alpha/2', 'gamma/1']],
  ['source_path LIKE', { filter: "source_path LIKE 's3://b-1/alpha/%'" }, ['alpha/3', 'alpha/2', 'alpha/1']],
  [
    'order by version_number ASC',
    { orderBy: ['version_number ASC'] },
    ['Beta/1', 'alpha/1', 'gamma/1', 'alpha/2', 'alpha/3'],
  ],
  [
    'order by creation_timestamp DESC',
    { orderBy: ['creation_timestamp DESC'] },
    ['alpha/3', 'gamma/1', 'alpha/2', 'alpha/1', 'Beta/1'],
  ],
];

async function pages<T>(
  search: (input: RegistrySearchInput) => Promise<{ items: readonly T[]; nextPageToken?: string }>,
  input: RegistrySearchInput,
): Promise<{ items: T[]; sizes: number[] }> {
  const items: T[] = [];
  const sizes: number[] = [];
  let token: string | undefined;
  do {
    const page = await search({ ...input, ...(token === undefined ? {} : { pageToken: token }) });
    items.push(...page.items);
    sizes.push(page.items.length);
    token = page.nextPageToken;
  } while (token !== undefined);
  return { items, sizes };
}

/** Seeds the data the cases describe; returns the run id each label (r1, r2, r3) stands for. */
async function seed(f: RegistryFixture, service: RegistryService): Promise<Map<string, string>> {
  const runs = new Map<string, string>();
  for (const label of ['r1', 'r2', 'r3']) runs.set(label, f.addRun());
  const run = (label: string) => runs.get(label) ?? '';
  await service.createRegisteredModel(ctx, { name: 'alpha', tags: [{ key: 'team', value: 'risk' }] });
  await service.createRegisteredModel(ctx, { name: 'Beta' });
  await service.createRegisteredModel(ctx, { name: 'beta-2', tags: [{ key: 'team', value: 'risk' }] });
  await service.createRegisteredModel(ctx, {
    name: 'gamma',
    tags: [
      { key: 'cost center', value: '7' },
      { key: 'team', value: 'growth' },
    ],
  });
  await service.createRegisteredModel(contextFor('team-b'), { name: 'alpha' });
  await service.createModelVersion(contextFor('team-b'), { name: 'alpha', source: 's3://b-1/theirs' });
  const add = (name: string, runLabel: string | undefined, tags: { key: string; value: string }[] = []) =>
    service.createModelVersion(ctx, {
      name,
      source: `s3://b-1/${name}/${runLabel ?? 'none'}`,
      ...(runLabel === undefined ? {} : { runId: run(runLabel) }),
      tags,
    });
  await add('Beta', undefined);
  await add('alpha', 'r1');
  await add('alpha', 'r2', [{ key: 'x', value: 'y' }]);
  await add('gamma', 'r1', [{ key: 'x', value: 'y' }]);
  await add('alpha', 'r3', [{ key: 'x', value: 'yes' }]);
  await add('alpha', 'r1');
  await service.deleteModelVersion(ctx, 'alpha', 4);
  return runs;
}

for (const target of await testDatabases()) {
  describe(`registry search on ${target.name}`, { skip: target.skip }, () => {
    let f: RegistryFixture;
    let runs: Map<string, string>;
    before(async () => {
      f = await openRegistry(target);
      runs = await seed(f, f.service);
    });
    after(() => f?.cleanup());

    for (const [label, input, expected] of MODEL_CASES) {
      it(`registered models: ${label}`, async () => {
        const { items } = await f.service.searchRegisteredModels(ctx, input);
        assert.deepEqual(
          items.map((m) => m.name),
          expected,
        );
      });
    }

    for (const [label, input, expected] of VERSION_CASES) {
      it(`model versions: ${label}`, async () => {
        // Run labels in a filter stand for the run ids the seed created.
        const filter = input.filter?.replace(/\br[123]\b/g, (l) => runs.get(l) ?? l);
        const { items } = await f.service.searchModelVersions(ctx, { ...input, ...(filter ? { filter } : {}) });
        assert.deepEqual(
          items.map((v) => `${v.name}/${v.version}`),
          expected,
        );
      });
    }

    it('returns full models in results: tags, aliases and latest versions', async () => {
      await f.service.setAlias(ctx, 'alpha', 'champion', 2);
      const [alpha] = (await f.service.searchRegisteredModels(ctx, { filter: "name = 'alpha'" })).items;
      assert.deepEqual(alpha?.tags, [{ key: 'team', value: 'risk' }]);
      assert.deepEqual(alpha?.aliases, [{ alias: 'champion', version: 2 }]);
      assert.deepEqual(
        alpha?.latestVersions.map((v) => v.version),
        [3],
      );
      const [v2] = (await f.service.searchModelVersions(ctx, { filter: "name = 'alpha' AND version_number = 2" }))
        .items;
      assert.deepEqual(v2?.aliases, ['champion']);
      assert.deepEqual(v2?.tags, [{ key: 'x', value: 'y' }]);
    });

    it('pages registered models and versions with tokens, losing and repeating nothing', async () => {
      const models = await pages((input) => f.service.searchRegisteredModels(ctx, input), { maxResults: 3 });
      assert.deepEqual(
        models.items.map((m) => m.name),
        ['Beta', 'alpha', 'beta-2', 'gamma'],
      );
      assert.deepEqual(models.sizes, [3, 1]);
      const versions = await pages((input) => f.service.searchModelVersions(ctx, input), { maxResults: 2 });
      assert.deepEqual(
        versions.items.map((v) => `${v.name}/${v.version}`),
        ['Beta/1', 'alpha/3', 'alpha/2', 'alpha/1', 'gamma/1'],
      );
      assert.deepEqual(versions.sizes, [2, 2, 1]);
      const exact = await f.service.searchRegisteredModels(ctx, { maxResults: 4 });
      assert.equal(exact.nextPageToken, undefined);
    });

    it('rejects bad searches with INVALID_PARAMETER_VALUE before touching the database', async () => {
      await rejectsWith(
        f.service.searchRegisteredModels(ctx, { maxResults: 1001 }),
        'INVALID_PARAMETER_VALUE',
        /max_results/,
      );
      await rejectsWith(f.service.searchRegisteredModels(ctx, { maxResults: 0 }), 'INVALID_PARAMETER_VALUE');
      await rejectsWith(f.service.searchModelVersions(ctx, { maxResults: 200_001 }), 'INVALID_PARAMETER_VALUE');
      await rejectsWith(
        f.service.searchRegisteredModels(ctx, { filter: 'version_number > 1' }),
        'INVALID_PARAMETER_VALUE',
      );
      await rejectsWith(f.service.searchModelVersions(ctx, { filter: "metrics.acc > 'x'" }), 'INVALID_PARAMETER_VALUE');
      await rejectsWith(
        f.service.searchModelVersions(ctx, { filter: "version_number > 'two'" }),
        'INVALID_PARAMETER_VALUE',
      );
      await rejectsWith(f.service.searchRegisteredModels(ctx, { orderBy: ['source DESC'] }), 'INVALID_PARAMETER_VALUE');
      await rejectsWith(
        f.service.searchRegisteredModels(ctx, { pageToken: 'not-a-token!' }),
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('binds an injection attempt as a value', async () => {
      const { items } = await f.service.searchRegisteredModels(ctx, {
        filter: "name = 'x''; drop table registered_models; --'",
      });
      assert.deepEqual(items, []);
      assert.equal((await f.service.searchRegisteredModels(ctx)).items.length, 4);
    });
  });
}
