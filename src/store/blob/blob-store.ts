import type { Readable } from 'node:stream';

/** Facts about one stored object. */
export interface BlobStat {
  key: string;
  size: number;
  modified: Date;
}

/** What a completed put stored; returned only after the bytes are durable. */
export interface BlobPutResult {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes written, computed while streaming. */
  sha256: string;
}

/** A byte range, both ends inclusive as in HTTP `Range: bytes=start-end`; `end` omitted = to EOF. */
export interface BlobRange {
  start: number;
  end?: number;
}

export interface BlobListOptions {
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor?: string;
  /** Page size, 1–1000; default 1000. */
  limit?: number;
}

export interface BlobListPage {
  /** Objects in lexicographic key order. */
  items: BlobStat[];
  nextCursor?: string;
}

export type BlobBody = Readable | Uint8Array | string;

/**
 * Where artifacts and dataset bytes live: the local file system by default, S3-compatible object
 * storage at scale. Keys are relative, `/`-separated and canonicalised by {@link canonicalKey}
 * before any I/O; a hostile key is rejected with INVALID_PARAMETER_VALUE, never touched.
 *
 * @example
 * const blobs = openBlobStore({ url: 'file:///var/kiln/artifacts' });
 * await blobs.put('runs/abc/model.json', JSON.stringify(model));
 * const stream = await blobs.get('runs/abc/model.json', { start: 0, end: 99 });
 */
export interface BlobStore {
  /** The URL it was opened with; for logs and `kiln config`. */
  readonly url: string;
  /** Streams `body` to `key`, replacing any object there; resolves only once it is durable. */
  put(key: string, body: BlobBody, options?: { contentType?: string }): Promise<BlobPutResult>;
  /** Streams the object (or a range of it). Throws RESOURCE_DOES_NOT_EXIST when absent. */
  get(key: string, range?: BlobRange): Promise<Readable>;
  /** The object's facts, or undefined when absent. */
  stat(key: string): Promise<BlobStat | undefined>;
  /** Objects whose key starts with `prefix` ('' for all), one page at a time. */
  list(prefix: string, options?: BlobListOptions): Promise<BlobListPage>;
  /**
   * The path of an existing object on this machine's file system, for readers such as DuckDB that
   * need a file; undefined when the object is absent or the store is remote (then copy it with `get`).
   * Callers must treat the file as read-only.
   */
  localPath?(key: string): Promise<string | undefined>;
  /** Removes the object; resolves false when there was none. */
  delete(key: string): Promise<boolean>;
  /** Resolves when the store is reachable and writable; for `/health/ready`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
