import type { Readable } from 'node:stream';
import { invalidParameter, KilnError, type RequestContext } from '../core/index.js';
import { type BlobBody, type BlobStore, canonicalKey } from '../store/index.js';
import { ArtifactRoot, PROXY_SCHEME } from './artifact-location.js';
import { checkMaxResults } from './paging.js';
import type { RunService } from './runs-service.js';

/** Most entries one listing page returns, and the default. */
export const MAX_ARTIFACT_PAGE = 1000;
/** Blob keys one listing call reads at most before it answers with what it has and a page token. */
export const ARTIFACT_SCAN_BUDGET = 10_000;

/** Run ids as tracking accepts them (Kiln issues 32 hex digits; imported runs may differ). */
const RUN_ID = /^[A-Za-z0-9][\w-]{0,255}$/;
const PROXY_PREFIX = `${PROXY_SCHEME}:/`;

/** One entry of a directory listing; `fileSize` is absent for directories (MLflow's FileInfo). */
export interface ArtifactFile {
  /** Relative to the run's artifact root, e.g. `model/MLmodel`. */
  path: string;
  isDir: boolean;
  fileSize?: number;
}

/** One page of one directory level; `nextPageToken` is present when more entries may follow. */
export interface ArtifactListing {
  rootUri: string;
  files: ArtifactFile[];
  nextPageToken?: string;
}

/** A requested byte range: HTTP's `a-b` / `a-` (`start`, optional `end`) or `-n` (`suffix`). */
export type ArtifactRange = { start: number; end?: number } | { suffix: number };

/** An opened artifact. `size` is the whole file's; `range` (inclusive) is set when one was asked for. */
export interface ArtifactDownload {
  path: string;
  size: number;
  range?: { start: number; end: number };
  stream: Readable;
}

/** What an upload stored. */
export interface ArtifactUpload {
  path: string;
  size: number;
  sha256: string;
}

/** Options of {@link ArtifactService}. */
export interface ArtifactServiceOptions {
  /** The artifact root the blob store is opened at (`KILN_ARTIFACTS_URL`). */
  artifactRoot: string | ArtifactRoot;
  /** Blob keys a listing call may read; default {@link ARTIFACT_SCAN_BUDGET}. */
  scanBudget?: number;
}

/**
 * Run artifacts over the blob store. A run's artifact URI (`<root>/<experiment>/<run>/artifacts`
 * or `mlflow-artifacts:/<path>`) becomes a key prefix; every caller path goes through
 * `canonicalKey` and is appended below that prefix, so no path reaches outside the run's tree.
 * Runs whose artifacts live elsewhere (another scheme or root) are INVALID_STATE.
 *
 * Directories are derived from the flat key listing one level at a time. A call reads at most
 * `scanBudget` keys, so a sub-directory with millions of files costs bounded work per page: the
 * answer may then hold fewer entries than asked for, with a `nextPageToken` to continue.
 *
 * @example
 * const artifacts = new ArtifactService(blobs, tracking.runs, { artifactRoot: config.artifactsUrl });
 * await artifacts.put(ctx, runId, 'model/MLmodel', 'flavors: {}');
 * const { files } = await artifacts.list(ctx, runId, 'model'); // [{ path: 'model/MLmodel', isDir: false, fileSize: 12 }]
 * const { stream } = await artifacts.open(ctx, runId, 'model/MLmodel', { start: 0, end: 6 });
 */
export class ArtifactService {
  private readonly root: ArtifactRoot;
  private readonly scanBudget: number;

  constructor(
    private readonly blobs: BlobStore,
    private readonly runs: RunService,
    options: ArtifactServiceOptions,
  ) {
    this.root =
      typeof options.artifactRoot === 'string' ? new ArtifactRoot(options.artifactRoot) : options.artifactRoot;
    this.scanBudget = options.scanBudget ?? ARTIFACT_SCAN_BUDGET;
  }

  /** One directory level under `path` ('' for the root), paged by `pageToken`. */
  async list(
    ctx: RequestContext,
    runId: string,
    path = '',
    options: { pageToken?: string; maxResults?: number } = {},
  ): Promise<ArtifactListing> {
    const run = await this.resolve(ctx, runId);
    const dir = path === '' ? '' : this.keyOf(run.prefix, path).relative;
    const maxResults = checkMaxResults(options.maxResults, MAX_ARTIFACT_PAGE, MAX_ARTIFACT_PAGE);
    const token = options.pageToken === undefined || options.pageToken === '' ? {} : readToken(options.pageToken, dir);
    const listPrefix = `${run.prefix}/${dir === '' ? '' : `${dir}/`}`;
    const files: ArtifactFile[] = [];
    let cursor = token.cursor;
    let lastDir = token.dir;
    let scanned = 0;
    for (;;) {
      const limit = Math.min(MAX_ARTIFACT_PAGE, maxResults - files.length);
      const page = await this.blobs.list(listPrefix, { cursor, limit }).catch((error: unknown) => {
        throw cursor !== undefined && isInvalid(error) ? badToken('is not valid for this store') : error;
      });
      for (const item of page.items) {
        const rest = item.key.slice(listPrefix.length);
        const slash = rest.indexOf('/');
        if (slash === -1) files.push({ path: join(dir, rest), isDir: false, fileSize: item.size });
        else if (rest.slice(0, slash) !== lastDir) {
          lastDir = rest.slice(0, slash);
          files.push({ path: join(dir, lastDir), isDir: true });
        }
      }
      scanned += page.items.length;
      cursor = page.nextCursor;
      if (cursor === undefined) return { rootUri: run.uri, files };
      if (files.length >= maxResults || scanned >= this.scanBudget) {
        return { rootUri: run.uri, files, nextPageToken: writeToken({ path: dir, cursor, dir: lastDir }) };
      }
    }
  }

  /**
   * Opens a file for reading, whole or a byte range. A directory is INVALID_PARAMETER_VALUE
   * naming `path`; a range starting past the end is INVALID_PARAMETER_VALUE naming `range`,
   * with the file's `size` in the details (for HTTP's `Content-Range: bytes *\/size`).
   */
  async open(ctx: RequestContext, runId: string, path: string, range?: ArtifactRange): Promise<ArtifactDownload> {
    const run = await this.resolve(ctx, runId);
    const { relative, key } = this.keyOf(run.prefix, path);
    const facts = await this.blobs.stat(key);
    if (facts === undefined) {
      const inside = await this.blobs.list(`${key}/`, { limit: 1 });
      if (inside.items.length > 0) {
        throw invalidParameter('path', `'${relative}' is a directory; list it instead of downloading it`, relative);
      }
      throw missing(relative, run.runId);
    }
    if (range === undefined) return { path: relative, size: facts.size, stream: await this.blobs.get(key) };
    const bytes = satisfiable(range, facts.size);
    return { path: relative, size: facts.size, range: bytes, stream: await this.blobs.get(key, bytes) };
  }

  /** Streams `body` to `path` in an active (not deleted) run's artifacts, replacing any file there. */
  async put(ctx: RequestContext, runId: string, path: string, body: BlobBody): Promise<ArtifactUpload> {
    const run = await this.resolve(ctx, runId, { active: true });
    const { relative, key } = this.keyOf(run.prefix, path);
    const stored = await this.blobs.put(key, body);
    return { path: relative, size: stored.size, sha256: stored.sha256 };
  }

  /**
   * Deletes the file at `path` of an active run or, when `path` is a directory, every file under
   * it. Answers how many files went; RESOURCE_DOES_NOT_EXIST when there was nothing.
   */
  async delete(ctx: RequestContext, runId: string, path: string): Promise<number> {
    const run = await this.resolve(ctx, runId, { active: true });
    const { relative, key } = this.keyOf(run.prefix, path);
    if (await this.blobs.delete(key)) return 1;
    let deleted = 0;
    let cursor: string | undefined;
    do {
      const page = await this.blobs.list(`${key}/`, { cursor });
      for (const item of page.items) if (await this.blobs.delete(item.key)) deleted++;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (deleted === 0) throw missing(relative, run.runId);
    return deleted;
  }

  /**
   * Splits an MLflow proxy path (`<experiment>/<run_id>/artifacts/<file>`, relative to the
   * artifact root) into the run and the path inside its artifacts, checking that the run exists in
   * the caller's workspace and that its artifact URI really is that prefix. Each segment followed
   * by `artifacts` is a candidate run id, tried from the left. Anything else is
   * RESOURCE_DOES_NOT_EXIST: the proxy reaches run artifacts only, never other blobs.
   *
   * @example
   * await artifacts.locate(ctx, '1/0123…cdef/artifacts/model/MLmodel'); // { runId: '0123…cdef', path: 'model/MLmodel' }
   */
  async locate(ctx: RequestContext, proxyPath: string, field = 'path'): Promise<{ runId: string; path: string }> {
    const segments = canonicalKey(proxyPath, field).split('/');
    for (let i = 0; i + 1 < segments.length; i++) {
      const runId = segments[i] ?? '';
      if (!RUN_ID.test(runId) || segments[i + 1] !== 'artifacts') continue;
      const run = await this.resolve(ctx, runId).catch((error: unknown) => {
        if (error instanceof KilnError && (error.code === 'RESOURCE_DOES_NOT_EXIST' || error.code === 'INVALID_STATE'))
          return undefined;
        throw error;
      });
      if (run?.prefix === segments.slice(0, i + 2).join('/')) return { runId, path: segments.slice(i + 2).join('/') };
    }
    throw new KilnError(
      'RESOURCE_DOES_NOT_EXIST',
      `${field}: no run's artifacts at '${shorten(proxyPath)}'; expected <experiment_id>/<run_id>/artifacts/<file>`,
      { field, value: shorten(proxyPath) },
    );
  }

  /**
   * The URI MLflow clients should see: `mlflow-artifacts:/<key>` for anything in Kiln's store, so
   * they upload and download through the proxy routes; other URIs unchanged.
   *
   * @example
   * artifacts.toProxyUri('file:///srv/kiln/artifacts/1/ab…/artifacts'); // 'mlflow-artifacts:/1/ab…/artifacts'
   */
  toProxyUri(uri: string): string {
    const key = this.keyPrefixOf(uri);
    return key === undefined ? uri : `${PROXY_PREFIX}${key}`;
  }

  private async resolve(
    ctx: RequestContext,
    runId: string,
    options: { active?: boolean } = {},
  ): Promise<{ runId: string; uri: string; prefix: string }> {
    const { info } = await this.runs.get(ctx, runId);
    if (options.active === true && info.lifecycleStage !== 'active') {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `The run ${info.runId} must be in the 'active' state. Current state is ${info.lifecycleStage}.`,
        { run_id: info.runId, lifecycle_stage: info.lifecycleStage },
      );
    }
    const prefix = this.keyPrefixOf(info.artifactUri);
    if (prefix === undefined) {
      throw new KilnError(
        'INVALID_STATE',
        `The artifacts of run ${info.runId} live outside Kiln's store (${shorten(info.artifactUri)})`,
        { run_id: info.runId, artifact_uri: info.artifactUri },
      );
    }
    return { runId: info.runId, uri: info.artifactUri, prefix };
  }

  /** The blob key prefix of a URI in the store, or undefined when the URI points elsewhere. */
  private keyPrefixOf(uri: string): string | undefined {
    let relative: string | undefined;
    if (uri.slice(0, PROXY_PREFIX.length).toLowerCase() === PROXY_PREFIX) relative = uri.slice(PROXY_PREFIX.length);
    else if (uri.startsWith(`${this.root.base}/`)) relative = uri.slice(this.root.base.length + 1);
    if (relative === undefined || relative.includes('?') || relative.includes('#')) return undefined;
    try {
      return canonicalKey(relative, 'artifact_uri');
    } catch {
      return undefined;
    }
  }

  private keyOf(prefix: string, path: string): { relative: string; key: string } {
    const relative = canonicalKey(path, 'path');
    return { relative, key: canonicalKey(`${prefix}/${relative}`, 'path') };
  }
}

/** The inclusive byte range `range` selects in a file of `size` bytes, or INVALID_PARAMETER_VALUE. */
function satisfiable(range: ArtifactRange, size: number): { start: number; end: number } {
  const fail = (problem: string) =>
    new KilnError('INVALID_PARAMETER_VALUE', `range: ${problem}`, { field: 'range', value: range, size });
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix < 1) throw fail('a suffix length must be at least 1');
    if (size === 0) throw fail('the file is empty');
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) throw fail(`start must be a whole number ≥ 0, got ${start}`);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) throw fail(`end must be ≥ start, got ${end}`);
  if (start >= size) throw fail(`start ${start} is not inside the file of ${size} bytes`);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

interface PageToken {
  path?: string;
  cursor?: string;
  dir?: string;
}

/** Page tokens carry the listed path, the blob cursor and the directory emitted last (not to repeat it). */
function writeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify({ p: token.path, c: token.cursor, d: token.dir }), 'utf8').toString('base64url');
}

function readToken(raw: string, path: string): PageToken {
  let parsed: unknown;
  try {
    parsed = raw.length <= 8192 ? JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const { p, c, d } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof p !== 'string' || typeof c !== 'string' || !(d === undefined || typeof d === 'string')) {
    throw badToken('is not a token returned by a previous page');
  }
  if (p !== path) throw badToken(`belongs to a listing of '${p}', not of '${path}'`);
  return { path: p, cursor: c, dir: d };
}

function badToken(problem: string): KilnError {
  return invalidParameter('page_token', problem);
}

function isInvalid(error: unknown): boolean {
  return error instanceof KilnError && error.code === 'INVALID_PARAMETER_VALUE';
}

function missing(path: string, runId: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact '${path}' in run ${runId}`, { path, run_id: runId });
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function shorten(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
