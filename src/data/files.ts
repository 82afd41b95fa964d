import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hexId } from '../core/index.js';
import type { BlobStore } from '../store/index.js';

/**
 * Local files for version content, for DuckDB to read. A file blob store hands out its own path; a
 * remote one (S3) is copied once into `cacheDir` and reused: a version's Parquet never changes, so
 * a cached copy is never stale. Concurrent requests for one key share one download.
 *
 * @example
 * const files = new VersionFiles(blobs, '/var/kiln/cache/datasets');
 * const path = await files.path(version.blobKey);
 */
export class VersionFiles {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly cacheDir: string,
  ) {}

  async path(blobKey: string): Promise<string> {
    const local = await this.blobs.localPath?.(blobKey);
    if (local !== undefined) return local;
    const target = join(this.cacheDir, `${createHash('sha256').update(blobKey).digest('hex')}.parquet`);
    if (
      await stat(target)
        .then((info) => info.isFile())
        .catch(() => false)
    )
      return target;
    const pending = this.inflight.get(target);
    if (pending !== undefined) return pending;
    const download = this.download(blobKey, target).finally(() => this.inflight.delete(target));
    this.inflight.set(target, download);
    return download;
  }

  private async download(blobKey: string, target: string): Promise<string> {
    await mkdir(this.cacheDir, { recursive: true });
    const temp = `${target}.${hexId()}.partial`;
    try {
      await pipeline(await this.blobs.get(blobKey), createWriteStream(temp));
      await rename(temp, target);
      return target;
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}
