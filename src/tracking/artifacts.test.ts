import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../core/index.js';
import { type BlobStore, openBlobStore } from '../store/index.js';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { type ArtifactFile, ArtifactService } from './artifacts.js';
import { contextIn, openTracking, rejectsWith, type TrackingHarness } from './testing/harness.js';

const ctx = contextIn();

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const sqlite = (await testDatabases()).find((target) => target.name === 'sqlite');
assert.ok(sqlite, 'the SQLite target is always available');

describe('ArtifactService', () => {
  let dir: string;
  let root: string;
  let db: TestDatabase;
  let tracking: TrackingHarness;
  let blobs: BlobStore;
  let artifacts: ArtifactService;
  let runId: string;
  let prefix: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-artifacts-'));
    root = pathToFileURL(join(dir, 'artifacts')).href;
    db = await sqlite.create();
    tracking = await openTracking(db, root);
    blobs = openBlobStore({ url: root });
    artifacts = new ArtifactService(blobs, tracking.runs, { artifactRoot: root, scanBudget: 5 });
    const run = await tracking.runs.create(ctx, { experimentId: '0' });
    runId = run.info.runId;
    prefix = `0/${runId}/artifacts`;
    for (const [path, body] of [
      ['a.txt', 'alpha'],
      ['b.json', '{"b":1}'],
      ['model/MLmodel', 'flavors: {}'],
      ['model/data/weights.bin', '0123456789'],
      ['model.pkl', 'pickle'],
      ['z/deep/er/file.txt', 'deep'],
    ] as const) {
      await artifacts.put(ctx, runId, path, body);
    }
  });
  after(async () => {
    await blobs.close();
    await db.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('should store under <experiment>/<run>/artifacts and report size and SHA-256', async () => {
    const stored = await artifacts.put(ctx, runId, 'notes//./n.txt', 'hello');
    assert.deepEqual(stored, {
      path: 'notes/n.txt',
      size: 5,
      sha256: createHash('sha256').update('hello').digest('hex'),
    });
    assert.equal((await blobs.stat(`${prefix}/notes/n.txt`))?.size, 5);
    assert.equal(await artifacts.delete(ctx, runId, 'notes'), 1);
  });

  it('should list one level, deriving directories from keys, with paths relative to the run root', async () => {
    const top = await artifacts.list(ctx, runId);
    assert.equal(top.rootUri, `${root}/${prefix}`);
    assert.deepEqual(top.files, [
      { path: 'a.txt', isDir: false, fileSize: 5 },
      { path: 'b.json', isDir: false, fileSize: 7 },
      { path: 'model.pkl', isDir: false, fileSize: 6 },
      { path: 'model', isDir: true },
      { path: 'z', isDir: true },
    ]);
    assert.equal(top.nextPageToken, undefined);
    const model = await artifacts.list(ctx, runId, 'model/');
    assert.deepEqual(model.files, [
      { path: 'model/MLmodel', isDir: false, fileSize: 11 },
      { path: 'model/data', isDir: true },
    ]);
  });

  it('should list a file, a missing directory and a prefix of a name as empty', async () => {
    assert.deepEqual((await artifacts.list(ctx, runId, 'a.txt')).files, []);
    assert.deepEqual((await artifacts.list(ctx, runId, 'nothing/here')).files, []);
    assert.deepEqual((await artifacts.list(ctx, runId, 'mod')).files, []);
  });

  it('should page with max_results and a scan budget without repeating or losing entries', async () => {
    for (let i = 0; i < 12; i++) await artifacts.put(ctx, runId, `many/big/f${String(i).padStart(2, '0')}`, 'x');
    for (const name of ['many/a', 'many/c', 'many/d']) await artifacts.put(ctx, runId, name, 'y');
    const seen: ArtifactFile[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    let calls = 0;
    do {
      const page = await artifacts.list(ctx, runId, 'many', { maxResults: 2, pageToken: token });
      seen.push(...page.files);
      sizes.push(page.files.length);
      token = page.nextPageToken;
      assert.ok(++calls < 20, 'paging ends');
    } while (token !== undefined);
    assert.deepEqual(
      seen.map((f) => f.path),
      ['many/a', 'many/big', 'many/c', 'many/d'],
    );
    assert.ok(
      sizes.some((n) => n < 2),
      `the 12 keys under many/big exceed the budget of 5, so some page is short: ${sizes}`,
    );
    assert.ok(sizes.every((n) => n <= 2));
    assert.equal(await artifacts.delete(ctx, runId, 'many'), 15);
  });

  it('should refuse page tokens that are forged or belong to another listing', async () => {
    for (let i = 0; i < 3; i++) await artifacts.put(ctx, runId, `p/f${i}`, 'x');
    const first = await artifacts.list(ctx, runId, 'p', { maxResults: 1 });
    assert.ok(first.nextPageToken);
    await assert.rejects(
      artifacts.list(ctx, runId, 'model', { pageToken: first.nextPageToken }),
      rejectsWith('INVALID_PARAMETER_VALUE', /^page_token: belongs to a listing of 'p'/),
    );
    for (const token of ['garbage', 'e30', Buffer.from('{"p":"p","c":"!!"}').toString('base64url')]) {
      await assert.rejects(
        artifacts.list(ctx, runId, 'p', { pageToken: token }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^page_token: /),
      );
    }
    await assert.rejects(
      artifacts.list(ctx, runId, 'p', { maxResults: 1001 }),
      rejectsWith('INVALID_PARAMETER_VALUE', /^max_results/),
    );
    await artifacts.delete(ctx, runId, 'p');
  });

  it('should download whole files and byte ranges', async () => {
    const whole = await artifacts.open(ctx, runId, 'model/data/weights.bin');
    assert.equal(whole.size, 10);
    assert.equal(whole.range, undefined);
    assert.equal(await text(whole.stream), '0123456789');
    const cases = [
      [{ start: 2, end: 4 }, { start: 2, end: 4 }, '234'],
      [{ start: 7 }, { start: 7, end: 9 }, '789'],
      [{ start: 8, end: 100 }, { start: 8, end: 9 }, '89'],
      [{ suffix: 3 }, { start: 7, end: 9 }, '789'],
      [{ suffix: 50 }, { start: 0, end: 9 }, '0123456789'],
    ] as const;
    for (const [asked, range, expected] of cases) {
      const part = await artifacts.open(ctx, runId, 'model/data/weights.bin', asked);
      assert.deepEqual(part.range, range);
      assert.equal(part.size, 10);
      assert.equal(await text(part.stream), expected);
    }
  });

  it('should refuse unsatisfiable ranges naming range, with the size', async () => {
    for (const range of [{ start: 10 }, { start: 99, end: 120 }, { suffix: 0 }, { start: -1 }, { start: 5, end: 2 }]) {
      await assert.rejects(artifacts.open(ctx, runId, 'a.txt', range), (err: unknown) => {
        assert.ok(err instanceof KilnError);
        assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
        assert.match(err.message, /^range: /);
        assert.equal(err.details?.size, 5);
        return true;
      });
    }
  });

  it('should refuse to download a directory (400 naming path) and report missing files (404)', async () => {
    await assert.rejects(
      artifacts.open(ctx, runId, 'model'),
      rejectsWith('INVALID_PARAMETER_VALUE', /^path: 'model' is a directory/),
    );
    await assert.rejects(artifacts.open(ctx, runId, 'nope.txt'), rejectsWith('RESOURCE_DOES_NOT_EXIST', /nope\.txt/));
  });

  it('should delete a file, a whole directory, and answer 404 for nothing', async () => {
    await artifacts.put(ctx, runId, 'tmp/one', '1');
    await artifacts.put(ctx, runId, 'tmp/sub/two', '2');
    await artifacts.put(ctx, runId, 'tmp/sub/three', '3');
    assert.equal(await artifacts.delete(ctx, runId, 'tmp/one'), 1);
    assert.equal(await artifacts.delete(ctx, runId, 'tmp'), 2);
    assert.deepEqual((await artifacts.list(ctx, runId, 'tmp')).files, []);
    await assert.rejects(artifacts.delete(ctx, runId, 'tmp'), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
  });

  it('should refuse writes to a deleted run but still read it, and write again once restored', async () => {
    const run = await tracking.runs.create(ctx, { experimentId: '0' });
    const id = run.info.runId;
    await artifacts.put(ctx, id, 'kept.txt', 'kept');
    await tracking.runs.delete(ctx, id);
    await assert.rejects(
      artifacts.put(ctx, id, 'new.txt', 'x'),
      rejectsWith('INVALID_PARAMETER_VALUE', /must be in the 'active' state/),
    );
    await assert.rejects(artifacts.delete(ctx, id, 'kept.txt'), rejectsWith('INVALID_PARAMETER_VALUE', /'active'/));
    assert.equal(await text((await artifacts.open(ctx, id, 'kept.txt')).stream), 'kept');
    assert.equal((await artifacts.list(ctx, id)).files.length, 1);
    await tracking.runs.restore(ctx, id);
    await artifacts.put(ctx, id, 'new.txt', 'x');
  });

  it('should answer 404 for runs of other workspaces and 400 for malformed run ids', async () => {
    await assert.rejects(artifacts.list(contextIn('other'), runId), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
    await assert.rejects(artifacts.open(contextIn('other'), runId, 'a.txt'), rejectsWith('RESOURCE_DOES_NOT_EXIST'));
    await assert.rejects(artifacts.list(ctx, '../x'), rejectsWith('INVALID_PARAMETER_VALUE', /^run_id/));
  });

  it('should reject hostile paths naming path before touching the store', async () => {
    for (const path of [
      '../a.txt',
      'a/../../b',
      '/etc/passwd',
      '..%2f..%2fx',
      '%252e%252e%252fx',
      'C:\\x',
      'a\u0000b',
    ]) {
      for (const call of [
        () => artifacts.open(ctx, runId, path),
        () => artifacts.put(ctx, runId, path, 'x'),
        () => artifacts.delete(ctx, runId, path),
        () => artifacts.list(ctx, runId, path),
        () => artifacts.locate(ctx, path),
      ]) {
        await assert.rejects(call(), rejectsWith('INVALID_PARAMETER_VALUE', /^path: /));
      }
    }
  });

  it('should refuse paths that fit alone but not below the run prefix, naming path', async () => {
    const path = Array.from({ length: 4 }, () => 'a'.repeat(250)).join('/');
    for (const call of [
      () => artifacts.put(ctx, runId, path, 'x'),
      () => artifacts.list(ctx, runId, path),
      () => artifacts.open(ctx, runId, path),
    ]) {
      await assert.rejects(call(), rejectsWith('INVALID_PARAMETER_VALUE', /^path: must be at most 1024 bytes/));
    }
  });

  it('should map mlflow-artifacts: experiment locations onto the same store', async () => {
    const experiment = await tracking.experiments.create(ctx, {
      name: 'proxied',
      artifactLocation: 'mlflow-artifacts:/team/churn',
    });
    const run = await tracking.runs.create(ctx, { experimentId: experiment.experimentId });
    assert.equal(run.info.artifactUri, `mlflow-artifacts:/team/churn/${run.info.runId}/artifacts`);
    await artifacts.put(ctx, run.info.runId, 'x.txt', 'x');
    assert.equal((await blobs.stat(`team/churn/${run.info.runId}/artifacts/x.txt`))?.size, 1);
    assert.deepEqual(await artifacts.locate(ctx, `team/churn/${run.info.runId}/artifacts/x.txt`), {
      runId: run.info.runId,
      path: 'x.txt',
    });
  });

  it('should locate proxy paths only at the run’s own prefix', async () => {
    assert.deepEqual(await artifacts.locate(ctx, `0/${runId}/artifacts/model/MLmodel`), {
      runId,
      path: 'model/MLmodel',
    });
    assert.deepEqual(await artifacts.locate(ctx, `0/${runId}/artifacts`), { runId, path: '' });
    for (const path of [
      `7/${runId}/artifacts/a.txt`,
      `x/0/${runId}/artifacts/a.txt`,
      `0/${runId}/other/a.txt`,
      `0/${'f'.repeat(32)}/artifacts/a.txt`,
      'etc/passwd',
      `0/${runId}`,
    ]) {
      await assert.rejects(artifacts.locate(ctx, path), rejectsWith('RESOURCE_DOES_NOT_EXIST', /^path: no run's/));
    }
    await assert.rejects(
      artifacts.locate(contextIn('other'), `0/${runId}/artifacts/a.txt`),
      rejectsWith('RESOURCE_DOES_NOT_EXIST'),
    );
  });

  it('should rewrite store URIs to mlflow-artifacts: and leave others alone', () => {
    assert.equal(artifacts.toProxyUri(`${root}/0/${runId}/artifacts`), `mlflow-artifacts:/0/${runId}/artifacts`);
    assert.equal(artifacts.toProxyUri('mlflow-artifacts:/team/x'), 'mlflow-artifacts:/team/x');
    assert.equal(artifacts.toProxyUri('s3://elsewhere/x'), 's3://elsewhere/x');
    assert.equal(artifacts.toProxyUri(`${root}/../x`), `${root}/../x`);
  });

  it('should refuse runs whose artifacts live outside the store with INVALID_STATE', async () => {
    const otherDb = await sqlite.create();
    const elsewhere = await openTracking(otherDb, 's3://elsewhere/artifacts');
    const foreign = new ArtifactService(blobs, elsewhere.runs, { artifactRoot: root });
    const run = await elsewhere.runs.create(ctx, { experimentId: '0' });
    await assert.rejects(
      foreign.list(ctx, run.info.runId),
      rejectsWith('INVALID_STATE', /live outside Kiln's store \(s3:\/\/elsewhere/),
    );
    await assert.rejects(foreign.put(ctx, run.info.runId, 'a', 'x'), rejectsWith('INVALID_STATE'));
    await otherDb.cleanup();
  });
});
