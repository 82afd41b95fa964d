import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { hexId, KilnError } from '../core/index.js';
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

/**
 * Streams `body` to a new file at `path`, failing with PAYLOAD_TOO_LARGE past `maxBytes`. The body
 * is left undestroyed on failure so the server can still answer 413 on the same connection.
 */
export async function writeLimited(body: Readable, path: string, maxBytes: number): Promise<void> {
  const out = createWriteStream(path);
  let received = 0;
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes) {
        body.resume();
        throw new KilnError('PAYLOAD_TOO_LARGE', `upload is larger than ${maxBytes} bytes`, {
          field: 'file',
          limit: maxBytes,
        });
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await finished(out).catch(() => undefined);
  }
}
