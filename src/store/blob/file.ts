import { type FileHandle, mkdir, open, realpath, rename, rmdir, stat as statPath, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { invalidParameter, KilnError } from '../../core/index.js';
import { canonicalKey, canonicalPrefix } from '../paths.js';
import type {
  BlobBody,
  BlobListOptions,
  BlobListPage,
  BlobPutResult,
  BlobRange,
  BlobStat,
  BlobStore,
} from './blob-store.js';
import { fsyncDirectory, isInside, sweepTemp, TEMP_DIR, tempName, writeFully } from './file-io.js';
import { listPage } from './file-list.js';
import {
  BodyDigest,
  checkBody,
  checkRange,
  decodeCursor,
  listLimit,
  measuredChunks,
  rangeNotSatisfiable,
} from './input.js';

/**
 * Blob store on the local file system, the embedded default: each key is a file under `root`.
 * A put streams into `root/.tmp/`, fsyncs, renames into place and fsyncs the directory, so an
 * acknowledged put survives a crash or power loss and a crashed put is never visible. Keys are
 * canonicalised and resolved paths re-checked against the real root, so neither `..` tricks nor a
 * symbolic link pointing outside the root reach other files.
 *
 * Differences from S3 worth knowing: `.tmp` is reserved as a first segment, and a key cannot be both
 * an object and a "directory" (`a` and `a/b`), which is refused with RESOURCE_CONFLICT.
 *
 * @example
 * const blobs = new FileBlobStore('/var/kiln/artifacts');
 * const { sha256 } = await blobs.put('runs/abc/model.json', '{"trees":[]}');
 */
export class FileBlobStore implements BlobStore {
  readonly url: string;
  private readonly ready: Promise<string>;

  constructor(readonly root: string) {
    if (!isAbsolute(root)) throw new KilnError('INVALID_CONFIGURATION', `blob store root must be absolute: ${root}`);
    this.url = pathToFileURL(root).href;
    this.ready = prepareRoot(root);
    this.ready.catch(() => undefined);
  }

  /** The content type is not kept: on disk it is derived from the key's extension when served. */
  async put(key: string, body: BlobBody, _options?: { contentType?: string }): Promise<BlobPutResult> {
    const canonical = this.checkKey(key);
    checkBody(body);
    const realRoot = await this.ready;
    let parent = await ensureParent(realRoot, canonical);
    const tempPath = join(realRoot, TEMP_DIR, tempName());
    const digest = new BodyDigest();
    const handle = await openTemp(realRoot, tempPath).catch((error) => rethrow(error, canonical));
    let closed = false;
    let bodyFailed = false;
    try {
      const chunks = measuredChunks(body, digest);
      for (;;) {
        const next = await chunks.next().catch((error: unknown) => {
          bodyFailed = true;
          throw error;
        });
        if (next.done) break;
        await writeFully(handle, next.value);
      }
      await handle.sync();
      closed = true;
      await handle.close();
      const name = canonical.slice(canonical.lastIndexOf('/') + 1);
      for (let attempt = 1; ; attempt++) {
        try {
          await rename(tempPath, join(parent, name));
          break;
        } catch (error) {
          // A concurrent delete may have pruned the freshly made parent; make it again.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw error;
          parent = await ensureParent(realRoot, canonical);
        }
      }
      await fsyncDirectory(parent);
      return { key: canonical, size: digest.size, sha256: digest.sha256() };
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await unlink(tempPath).catch(() => undefined);
      if (bodyFailed) throw error;
      return rethrow(error, canonical);
    }
  }

  async get(key: string, range?: BlobRange): Promise<Readable> {
    const canonical = this.checkKey(key);
    checkRange(range);
    const path = await this.existingPath(canonical);
    const handle = path === undefined ? undefined : await open(path, 'r').catch(() => undefined);
    if (handle === undefined) throw notFound(canonical);
    try {
      const facts = await handle.stat();
      if (!facts.isFile()) throw notFound(canonical);
      if (range === undefined) return handle.createReadStream({ autoClose: true });
      if (range.start >= facts.size) throw rangeNotSatisfiable(range, facts.size);
      const end = Math.min(range.end ?? facts.size - 1, facts.size - 1);
      return handle.createReadStream({ start: range.start, end, autoClose: true });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const canonical = this.checkKey(key);
    const path = await this.existingPath(canonical);
    const facts = path === undefined ? undefined : await statPath(path).catch(() => undefined);
    if (!facts?.isFile()) return undefined;
    return { key: canonical, size: facts.size, modified: facts.mtime };
  }

  async list(prefix: string, options: BlobListOptions = {}): Promise<BlobListPage> {
    const canonical = canonicalPrefix(prefix, 'prefix');
    const limit = listLimit(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const realRoot = await this.ready;
    return listPage(realRoot, canonical, limit, after);
  }

  async delete(key: string): Promise<boolean> {
    const canonical = this.checkKey(key);
    const realRoot = await this.ready;
    const real = await this.existingPath(canonical);
    const facts = real === undefined ? undefined : await statPath(real).catch(() => undefined);
    if (!facts?.isFile()) return false;
    const path = join(realRoot, canonical);
    try {
      const realParent = await realpath(dirname(path));
      await unlink(join(realParent, canonical.slice(canonical.lastIndexOf('/') + 1)));
      await fsyncDirectory(realParent);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      return rethrow(error, canonical);
    }
    await pruneEmptyParents(realRoot, dirname(path));
    return true;
  }

  async localPath(key: string): Promise<string | undefined> {
    const path = await this.existingPath(this.checkKey(key));
    const facts = path === undefined ? undefined : await statPath(path).catch(() => undefined);
    return facts?.isFile() ? path : undefined;
  }

  async ping(): Promise<void> {
    const realRoot = await this.ready;
    const probe = join(realRoot, TEMP_DIR, tempName());
    try {
      const handle = await open(probe, 'wx');
      await handle.writeFile('ping');
      await handle.close();
      await unlink(probe);
    } catch (error) {
      throw new KilnError('TEMPORARILY_UNAVAILABLE', `blob store at ${this.root} is not writable: ${message(error)}`, {
        root: this.root,
      });
    }
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {}

  private checkKey(key: string): string {
    const canonical = canonicalKey(key, 'key');
    if (canonical === TEMP_DIR || canonical.startsWith(`${TEMP_DIR}/`)) {
      throw invalidParameter('key', `'${TEMP_DIR}' is reserved for writes in progress`, key);
    }
    return canonical;
  }

  /** The real path of an existing entry for `canonical`, refused when it resolves outside the root. */
  private async existingPath(canonical: string): Promise<string | undefined> {
    const realRoot = await this.ready;
    let real: string;
    try {
      real = await realpath(join(realRoot, canonical));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
      return rethrow(error, canonical);
    }
    if (!isInside(realRoot, real)) throw outsideRoot(canonical);
    return real;
  }
}

/** Creates the root and temp area, sweeps abandoned temp files, and answers the real root path. */
async function prepareRoot(root: string): Promise<string> {
  try {
    await mkdir(join(root, TEMP_DIR), { recursive: true });
    const realRoot = await realpath(root);
    await sweepTemp(join(realRoot, TEMP_DIR));
    return realRoot;
  } catch (error) {
    throw new KilnError('TEMPORARILY_UNAVAILABLE', `blob store root ${root} is not usable: ${message(error)}`, {
      root,
    });
  }
}

/** Creates the temp file, remaking the temp area if someone removed it while the store was open. */
async function openTemp(realRoot: string, tempPath: string): Promise<FileHandle> {
  try {
    return await open(tempPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(join(realRoot, TEMP_DIR), { recursive: true });
    return open(tempPath, 'wx');
  }
}

/**
 * Makes the parent directories of `canonical` one level at a time, checking after each that the
 * real path is still a directory inside the root, so a symlinked component cannot redirect the
 * creation elsewhere. Each new directory's parent is fsynced so the directory itself is durable.
 */
async function ensureParent(realRoot: string, canonical: string): Promise<string> {
  const segments = canonical.split('/').slice(0, -1);
  if (segments.length === 0) return realRoot;
  const quick = await realpath(join(realRoot, ...segments)).catch(() => undefined);
  if (quick !== undefined && isInside(realRoot, quick) && (await statPath(quick)).isDirectory()) return quick;
  let current = realRoot;
  for (const [index, segment] of segments.entries()) {
    const next = join(current, segment);
    try {
      await mkdir(next);
      await fsyncDirectory(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return rethrow(error, canonical);
    }
    const real = await realpath(next);
    if (!isInside(realRoot, real)) throw outsideRoot(canonical);
    if (!(await statPath(real)).isDirectory()) {
      const blocker = segments.slice(0, index + 1).join('/');
      throw new KilnError('RESOURCE_CONFLICT', `key '${canonical}' cannot be stored: '${blocker}' is an object`, {
        key: canonical,
        conflict: blocker,
      });
    }
    current = real;
  }
  return current;
}

/** Removes now-empty directories from `dir` up to, not including, the root. */
async function pruneEmptyParents(realRoot: string, dir: string): Promise<void> {
  let current = dir;
  while (current !== realRoot && isInside(realRoot, current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}

function notFound(key: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `blob '${key}' does not exist`, { key });
}

function outsideRoot(key: string): KilnError {
  return new KilnError('PERMISSION_DENIED', `key '${key}' resolves outside the blob store root`, { key });
}

/** Turns file-system failures the caller can act on into KilnErrors; passes the rest through. */
function rethrow(error: unknown, key: string): never {
  if (error instanceof KilnError) throw error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'ENOTDIR' || code === 'EEXIST') {
    throw new KilnError('RESOURCE_CONFLICT', `key '${key}' conflicts with a directory of other objects`, { key });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw new KilnError('RESOURCE_EXHAUSTED', `blob store is out of space writing '${key}'`, { key });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    throw new KilnError('TEMPORARILY_UNAVAILABLE', `blob store cannot write '${key}': ${message(error)}`, { key });
  }
  throw error;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
