import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseS3Url, S3BlobStore } from './s3.js';
import { fitRange } from './s3-range.js';
import { readAll } from './testing/conformance.js';
import { type RunningS3rver, S3RVER_CREDENTIALS, startS3rver } from './testing/s3rver-fixture.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

describe('S3BlobStore against s3rver', () => {
  let s3: RunningS3rver;
  const stores: S3BlobStore[] = [];
  const open = (url: string, options: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}) => {
    const store = new S3BlobStore({ url, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, ...options });
    stores.push(store);
    return store;
  };
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    for (const store of stores) await store.close();
    await s3.stop();
  });

  it('keeps every key under the URL prefix and lists relative to it', async () => {
    const scoped = open(`s3://${s3.bucket}/team/kiln`);
    const whole = open(`s3://${s3.bucket}`);
    await scoped.put('runs/a/model.json', '{}');
    await whole.put('elsewhere/x', 'x');
    await whole.put('team/kilnish', 'not under the prefix');
    assert.equal((await whole.stat('team/kiln/runs/a/model.json'))?.size, 2);
    assert.deepEqual(
      (await scoped.list('')).items.map((i) => i.key),
      ['runs/a/model.json'],
    );
    assert.equal(await scoped.stat('elsewhere/x'), undefined);
  });

  it('reports a missing bucket as TEMPORARILY_UNAVAILABLE naming it', async () => {
    const store = open('s3://no-such-bucket-kiln/p');
    const unavailable = { code: 'TEMPORARILY_UNAVAILABLE', message: /no-such-bucket-kiln/ };
    await assert.rejects(store.ping(), unavailable);
    await assert.rejects(store.put('k', 'v'), unavailable);
    await assert.rejects(store.get('k'), unavailable);
    await assert.rejects(store.list(''), unavailable);
  });

  it('reports refused credentials as TEMPORARILY_UNAVAILABLE', async () => {
    const store = open(`s3://${s3.bucket}`, { credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } });
    await assert.rejects(store.put('k', 'v'), { code: 'TEMPORARILY_UNAVAILABLE', message: /credentials/ });
    await assert.rejects(store.stat('k'), { code: 'TEMPORARILY_UNAVAILABLE', message: /credentials/ });
  });

  it('reports an unreachable endpoint as TEMPORARILY_UNAVAILABLE', async () => {
    const store = open(`s3://${s3.bucket}`, { endpoint: `http://127.0.0.1:${await closedPort()}` });
    await assert.rejects(store.ping(), { code: 'TEMPORARILY_UNAVAILABLE', message: /unreachable/ });
    await assert.rejects(store.get('k'), { code: 'TEMPORARILY_UNAVAILABLE', message: /unreachable/ });
  });
});

describe('parseS3Url', () => {
  it('splits bucket and canonical prefix', () => {
    assert.deepEqual(parseS3Url('s3://ml-artifacts'), { bucket: 'ml-artifacts', prefix: '' });
    assert.deepEqual(parseS3Url('s3://ml-artifacts/team//kiln/'), { bucket: 'ml-artifacts', prefix: 'team/kiln' });
  });

  it('rejects malformed URLs as INVALID_CONFIGURATION', () => {
    for (const url of [
      's3://',
      's3:///x',
      'http://bucket/x',
      'not a url',
      's3://b/%2e%2e/x',
      's3://b/a/../x',
      's3://b/a%5cb',
      's3://b/%zz',
      's3://b/x?versionId=1',
    ]) {
      assert.throws(() => parseS3Url(url), { code: 'INVALID_CONFIGURATION' }, url);
    }
  });
});

describe('fitRange', () => {
  const bytes = Buffer.from('0123456789');
  const body = () => Readable.from([bytes.subarray(0, 4), bytes.subarray(4)]);

  it('passes a compliant answer through', async () => {
    const part = Readable.from([bytes.subarray(2, 5)]);
    assert.equal(fitRange(part, { start: 2, end: 4 }, 'bytes 2-4/10', 3), part);
  });

  it('trims a server that ignored Range and sent the whole object', async () => {
    assert.equal((await readAll(fitRange(body(), { start: 3, end: 6 }, undefined, 10))).toString(), '3456');
    assert.equal((await readAll(fitRange(body(), { start: 7 }, undefined, 10))).toString(), '789');
  });

  it('trims a wider range than asked', async () => {
    assert.equal((await readAll(fitRange(body(), { start: 0, end: 0 }, 'bytes 0-9/10', 10))).toString(), '0');
  });

  it('rejects a start beyond the object, and answers that do not cover the request', async () => {
    assert.throws(() => fitRange(body(), { start: 10 }, 'bytes 0-9/10', 10), { code: 'INVALID_PARAMETER_VALUE' });
    assert.throws(() => fitRange(body(), { start: 0 }, 'bytes 0-0/0', 0), { code: 'INVALID_PARAMETER_VALUE' });
    assert.throws(() => fitRange(body(), { start: 2, end: 8 }, 'bytes 4-9/10', 6), { code: 'INTERNAL_ERROR' });
    assert.throws(() => fitRange(body(), { start: 0 }, 'items 0-9/10', 10), { code: 'INTERNAL_ERROR' });
  });

  it('fails with DATA_LOSS when the body ends short', async () => {
    const short = Readable.from([bytes.subarray(0, 5)]);
    await assert.rejects(readAll(fitRange(short, { start: 1, end: 8 }, undefined, 10)), { code: 'DATA_LOSS' });
  });
});
