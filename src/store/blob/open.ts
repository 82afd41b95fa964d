import { fileUrlPath, KilnError } from '../../core/index.js';
import type { BlobStore } from './blob-store.js';
import { FileBlobStore } from './file.js';
import { S3BlobStore, type S3Credentials } from './s3.js';

export interface OpenBlobStoreOptions {
  /** `file:///abs/path` or `s3://bucket/prefix`, as resolved from `KILN_ARTIFACTS_URL`. */
  url: string;
  /** `KILN_S3_ENDPOINT`: an S3-compatible server; implies path-style addressing. */
  s3Endpoint?: string;
  /** `KILN_S3_REGION`; default `us-east-1`. */
  s3Region?: string;
  /** Static S3 credentials; when absent the AWS default provider chain is used. */
  credentials?: S3Credentials;
}

/**
 * Opens the blob store a URL names, so callers depend only on {@link BlobStore} and the deployment
 * picks local disk or object storage by configuration. Opening does no network I/O; a file store
 * creates its root and sweeps abandoned temp files in the background, and its first operation
 * waits for that.
 *
 * @example
 * const config = loadConfig();
 * const blobs = openBlobStore({ url: config.artifactsUrl, s3Endpoint: config.s3Endpoint, s3Region: config.s3Region });
 * await blobs.ping();
 */
export function openBlobStore(options: OpenBlobStoreOptions): BlobStore {
  const { url } = options;
  if (url.startsWith('file://')) return new FileBlobStore(fileUrlPath(url));
  if (url.startsWith('s3://')) {
    return new S3BlobStore({
      url,
      ...(options.s3Endpoint === undefined ? {} : { endpoint: options.s3Endpoint }),
      ...(options.s3Region === undefined ? {} : { region: options.s3Region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }
  throw new KilnError('INVALID_CONFIGURATION', `blob store URL must start with file:// or s3://, got '${url}'`, {
    url,
  });
}
