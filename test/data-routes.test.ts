import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';

const penguins = fileURLToPath(new URL('../node_modules/vega-datasets/data/penguins.json', import.meta.url));
const base = '/api/v1/datasets';

describe('datasets REST API', () => {
  let t: TestApp;
  let dir: string;
  let csvPath: string;
  let emptyPath: string;
  before(async () => {
    t = await createTestApp();
    dir = await mkdtemp(join(tmpdir(), 'kiln-data-routes-'));
    csvPath = join(dir, 'penguins.csv');
    emptyPath = join(dir, 'empty.csv');
    const rows = ['Species,Island,Beak Length (mm),Year', 'Adelie,Torgersen,39.1,2007', 'Gentoo,Biscoe,46.1,2008'];
    await writeFile(csvPath, `${rows.join('\n')}\n`);
    await writeFile(emptyPath, '');
  });
  after(async () => {
    await t?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });

  it('creates, gets and lists datasets, one page at a time', async () => {
    const created = await call('POST', base, { name: 'penguins', description: 'Palmer penguins', tags: { a: 'b' } });
    assert.equal(created.statusCode, 201);
    const dataset = created.json().dataset;
    assert.equal(dataset.name, 'penguins');
    assert.equal(dataset.description, 'Palmer penguins');
    assert.deepEqual(dataset.tags, { a: 'b' });
    assert.match(dataset.created_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal((await call('POST', base, { name: 'flights' })).statusCode, 201);

    const got = await call('GET', `${base}/penguins`);
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), { dataset });

    const all = await call('GET', base);
    assert.deepEqual(
      all.json().datasets.map((d: { name: string }) => d.name),
      ['flights', 'penguins'],
    );
    assert.equal(all.json().next_page_token, undefined);

    const first = await call('GET', `${base}?max_results=1`);
    assert.deepEqual(
      first.json().datasets.map((d: { name: string }) => d.name),
      ['flights'],
    );
    const token = first.json().next_page_token;
    assert.equal(typeof token, 'string');
    const second = await call('GET', `${base}?max_results=1&page_token=${token}`);
    assert.deepEqual(
      second.json().datasets.map((d: { name: string }) => d.name),
      ['penguins'],
    );
    assert.equal(second.json().next_page_token, undefined);

    const duplicate = await call('POST', base, { name: 'penguins' });
    assert.equal(duplicate.json().error_code, 'RESOURCE_ALREADY_EXISTS');
  });

  it('updates a description and replaces tags, refusing bad values by field', async () => {
    const patch = (payload: object) => t.app.inject({ method: 'PATCH', url: `${base}/penguins`, payload });
    const changed = await patch({ description: 'Palmer Station penguins', tags: { source: 'vega' } });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.json().dataset.description, 'Palmer Station penguins');
    assert.deepEqual(changed.json().dataset.tags, { source: 'vega' });
    assert.deepEqual((await call('GET', `${base}/penguins`)).json().dataset.tags, { source: 'vega' });
    const tagsOnly = await patch({ tags: {} });
    assert.equal(tagsOnly.json().dataset.description, 'Palmer Station penguins');
    assert.deepEqual(tagsOnly.json().dataset.tags, {});
    const bad = await patch({ tags: { a: 1 } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().details.field, /tags/);
    assert.equal((await patch({ colour: 'red' })).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'PATCH', url: `${base}/nobody`, payload: {} })).statusCode, 404);
  });
  it('ingests a file by path, returns its schema, and gives identical content the same digest', async () => {
    const v1 = await call('POST', `${base}/penguins/versions`, { path: penguins });
    assert.equal(v1.statusCode, 201, v1.body);
    const version = v1.json().version;
    assert.equal(version.version, 1);
    assert.equal(version.dataset_name, 'penguins');
    assert.equal(version.format, 'json');
    assert.equal(version.source_kind, 'path');
    assert.equal(version.row_count, 344);
    assert.equal(version.column_count, 7);
    assert.match(version.digest, /^[0-9a-f]{64}$/);
    assert.equal(version.blob_key, undefined);

    const got = await call('GET', `${base}/penguins/versions/1`);
    assert.equal(got.statusCode, 200);
    const columns = got.json().version.schema.columns;
    assert.deepEqual(
      columns.map((c: { name: string }) => c.name),
      ['Species', 'Island', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Sex'],
    );
    const beak = columns.find((c: { name: string }) => c.name === 'Beak Length (mm)');
    assert.equal(beak.logical_type, 'float');
    assert.equal(beak.nullable, true);
    assert.equal(typeof beak.physical_type, 'string');
    const species = columns.find((c: { name: string }) => c.name === 'Species');
    assert.equal(species.logical_type, 'categorical');
    assert.deepEqual(species.domain, ['Adelie', 'Chinstrap', 'Gentoo']);

    const again = await call('POST', `${base}/penguins/versions`, { path: penguins, format: 'json' });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json().version.version, 2);
    assert.equal(again.json().version.digest, version.digest);

    const listed = await call('GET', `${base}/penguins/versions`);
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      listed.json().versions.map((v: { version: number }) => v.version),
      [1, 2],
    );
    assert.equal(listed.json().versions[0].schema, undefined);
  });

  it('returns the profile stored with a version, snake_case', async () => {
    const res = await call('GET', `${base}/penguins/versions/1/profile`);
    assert.equal(res.statusCode, 200, res.body);
    const profile = res.json().profile;
    assert.equal(profile.row_count, 344);
    const mass = profile.columns['Body Mass (g)'];
    assert.equal(mass.kind, 'numeric');
    assert.equal(mass.logical_type, 'integer');
    assert.equal(mass.nulls, 2);
    assert.equal(mass.count, 342);
    assert.equal(typeof mass.quantiles.p50, 'number');
    assert.equal(
      mass.histogram.counts.reduce((a: number, b: number) => a + b, 0),
      342,
    );
    const species = profile.columns.Species;
    assert.equal(species.kind, 'categorical');
    assert.deepEqual(species.top[0], { value: 'Adelie', count: 152 });
    assert.equal((await call('GET', `${base}/penguins/versions/99/profile`)).statusCode, 404);
  });

  it('diffs the schemas of a JSON and a CSV version', async () => {
    const csv = await call('POST', `${base}/penguins/versions`, { path: csvPath, csv: { header: true } });
    assert.equal(csv.statusCode, 201, csv.body);
    const v = csv.json().version.version;
    assert.equal(csv.json().version.format, 'csv');

    const res = await call('GET', `${base}/penguins/diff?from=1&to=${v}`);
    assert.equal(res.statusCode, 200, res.body);
    const diff = res.json().diff;
    assert.deepEqual(
      diff.added.map((c: { name: string }) => c.name),
      ['Year'],
    );
    assert.equal(diff.added[0].logical_type, 'integer');
    assert.deepEqual(diff.removed.map((c: { name: string }) => c.name).sort(), [
      'Beak Depth (mm)',
      'Body Mass (g)',
      'Flipper Length (mm)',
      'Sex',
    ]);
    assert.ok(Array.isArray(diff.retyped));
    assert.ok(Array.isArray(diff.nullability_changed));

    const same = await call('GET', `${base}/penguins/diff?from=1&to=2`);
    assert.deepEqual(same.json().diff, { added: [], removed: [], retyped: [], nullability_changed: [] });
  });

  it('answers bad input with 400 naming the field, and unknown names with 404', async () => {
    const missing = await call('POST', `${base}/penguins/versions`, { format: 'json' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(missing.json().message, /body\.path/);

    const badFormat = await call('POST', `${base}/penguins/versions`, { path: penguins, format: 'xlsx' });
    assert.equal(badFormat.statusCode, 400);
    assert.match(badFormat.json().message, /body\.format/);

    const extra = await call('POST', `${base}/penguins/versions`, { path: penguins, sheet: 1 });
    assert.equal(extra.statusCode, 400);
    assert.match(extra.json().message, /body\.sheet/);

    const empty = await call('POST', `${base}/penguins/versions`, { path: emptyPath });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().message, /empty/);

    const badName = await call('POST', base, { name: '../etc' });
    assert.equal(badName.statusCode, 400);
    assert.match(badName.json().message, /body\.name/);

    const badVersion = await call('GET', `${base}/penguins/versions/zero`);
    assert.equal(badVersion.statusCode, 400);
    assert.match(badVersion.json().message, /path\.version/);

    const noTo = await call('GET', `${base}/penguins/diff?from=1`);
    assert.equal(noTo.statusCode, 400);
    assert.match(noTo.json().message, /query\.to/);

    const badToken = await call('GET', `${base}?page_token=!!`);
    assert.equal(badToken.statusCode, 400);
    assert.match(badToken.json().message, /page_token/);

    for (const url of [`${base}/nope`, `${base}/nope/versions`, `${base}/penguins/versions/99`]) {
      const res = await call('GET', url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
    }
    const ingestUnknown = await call('POST', `${base}/nope/versions`, { path: penguins });
    assert.equal(ingestUnknown.statusCode, 404);

    // Nothing half-registered: the failures above added no version.
    const listed = await call('GET', `${base}/penguins/versions`);
    assert.equal(listed.json().versions.length, 3);
  });

  it('documents ingest by server path as an admin operation in the OpenAPI document', async () => {
    const res = await call('GET', '/openapi.json');
    assert.equal(res.statusCode, 200);
    const post = res.json().paths['/api/v1/datasets/{name}/versions']?.post;
    assert.match(post?.description ?? '', /`admin` permission/);
  });
});
