import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FileBlobStore } from './file.js';
import { openBlobStore } from './open.js';
import { S3BlobStore } from './s3.js';

describe('openBlobStore', () => {
  it('opens a file store for file:// URLs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-open-blob-'));
    try {
      const store = openBlobStore({ url: pathToFileURL(join(dir, 'with space')).href });
      assert.ok(store instanceof FileBlobStore);
      assert.equal(store.root, join(dir, 'with space'));
      await store.put('k', 'v');
      assert.equal((await store.stat('k'))?.size, 1);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens an S3 store for s3:// URLs, without network I/O', async () => {
    const store = openBlobStore({ url: 's3://bucket/prefix', s3Endpoint: 'http://127.0.0.1:9', s3Region: 'eu-west-1' });
    assert.ok(store instanceof S3BlobStore);
    assert.equal(store.bucket, 'bucket');
    assert.equal(store.prefix, 'prefix');
    assert.equal(store.url, 's3://bucket/prefix');
    await store.close();
  });

  it('refuses other schemes with INVALID_CONFIGURATION', () => {
    for (const url of ['http://example.com/x', 'gs://bucket', '/plain/path', 'memory:']) {
      assert.throws(() => openBlobStore({ url }), { code: 'INVALID_CONFIGURATION' }, url);
    }
  });
});
