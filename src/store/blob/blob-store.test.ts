import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBlobStore } from './open.js';
import { describeBlobStoreConformance } from './testing/conformance.js';
import { S3RVER_CREDENTIALS, startS3rver } from './testing/s3rver-fixture.js';

describeBlobStoreConformance('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-blob-file-'));
  return {
    store: openBlobStore({ url: pathToFileURL(join(dir, 'artifacts')).href }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeBlobStoreConformance('s3', async () => {
  const s3 = await startS3rver();
  return {
    store: openBlobStore({
      url: `s3://${s3.bucket}/kiln/conformance`,
      s3Endpoint: s3.endpoint,
      credentials: S3RVER_CREDENTIALS,
    }),
    cleanup: () => s3.stop(),
    misordersMixedDepths: 's3rver lists by walking directories, not in key order as S3 does',
  };
});
