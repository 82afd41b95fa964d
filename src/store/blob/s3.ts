import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { KilnError } from '../../core/index.js';
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
import {
  BodyDigest,
  checkBody,
  checkRange,
  decodeCursor,
  encodeCursor,
  listLimit,
  measuredChunks,
  rangeNotSatisfiable,
} from './input.js';
import { fitRange } from './s3-range.js';

/** Static S3 credentials; without them the AWS default provider chain (env, profile, IMDS…) is used. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3BlobStoreOptions {
  /** `s3://bucket` or `s3://bucket/prefix`; every key is stored under the prefix. */
  url: string;
  /** An S3-compatible server (MinIO, Ceph…); path-style addressing is used when set. */
  endpoint?: string;
  region?: string;
  credentials?: S3Credentials;
}

/** Multipart part size and parallelism: at most 4 × 8 MiB of a body is buffered at once. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

/**
 * Blob store on S3 or an S3-compatible server, for running Kiln on several machines. Puts stream
 * through a multipart upload while SHA-256 and size are computed on the way, and resolve once S3
 * has acknowledged the object. Request checksums are sent only when S3 requires them, so no body
 * goes out in aws-chunked framing with a trailing checksum, which several S3-compatible servers
 * store verbatim (silently corrupting the object).
 *
 * A missing bucket is reported as TEMPORARILY_UNAVAILABLE by put, get, list and ping; stat and
 * delete cannot tell it from a missing key (HEAD answers a bare 404) and report the key as absent.
 *
 * @example
 * const blobs = new S3BlobStore({ url: 's3://ml-artifacts/kiln', region: 'eu-west-1' });
 * await blobs.put('runs/abc/model.json', JSON.stringify(model));
 */
export class S3BlobStore implements BlobStore {
  readonly url: string;
  readonly bucket: string;
  /** Key prefix inside the bucket, without a trailing slash; '' for the whole bucket. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly where: string;

  constructor(options: S3BlobStoreOptions) {
    const { bucket, prefix } = parseS3Url(options.url);
    this.url = options.url;
    this.bucket = bucket;
    this.prefix = prefix;
    this.where = `s3://${bucket}${options.endpoint === undefined ? '' : ` at ${options.endpoint}`}`;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: BlobBody, options: { contentType?: string } = {}): Promise<BlobPutResult> {
    const canonical = canonicalKey(key, 'key');
    checkBody(body);
    const digest = new BodyDigest();
    let payload: Uint8Array | Readable;
    if (body instanceof Readable) {
      payload = Readable.from(measuredChunks(body, digest), { objectMode: false });
    } else {
      payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      digest.update(payload);
    }
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.fullKey(canonical),
        Body: payload,
        ContentType: options.contentType ?? 'application/octet-stream',
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw this.failure(error, 'store', canonical);
    }
    return { key: canonical, size: digest.size, sha256: digest.sha256() };
  }

  async get(key: string, range?: BlobRange): Promise<Readable> {
    const canonical = canonicalKey(key, 'key');
    checkRange(range);
    const header = range === undefined ? undefined : `bytes=${range.start}-${range.end ?? ''}`;
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(canonical), Range: header }),
      );
      if (!(response.Body instanceof Readable)) {
        throw new KilnError('INTERNAL_ERROR', `S3 answered '${canonical}' without a readable body`);
      }
      if (range === undefined) return response.Body;
      return fitRange(response.Body, range, response.ContentRange, response.ContentLength);
    } catch (error) {
      if (range !== undefined && errorName(error) === 'InvalidRange') {
        const size = Number((error as { ActualObjectSize?: string }).ActualObjectSize ?? Number.NaN);
        throw rangeNotSatisfiable(range, size);
      }
      throw this.failure(error, 'read', canonical);
    }
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const canonical = canonicalKey(key, 'key');
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(canonical) }));
      return { key: canonical, size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure(error, 'stat', canonical);
    }
  }

  /**
   * Pages with `StartAfter` rather than continuation tokens: the cursor is the previous page's last
   * key, encoded as the file store encodes it, so it is validated locally and never expires.
   */
  async list(prefix: string, options: BlobListOptions = {}): Promise<BlobListPage> {
    const canonical = canonicalPrefix(prefix, 'prefix');
    const limit = listLimit(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    try {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.fullKey(canonical),
          MaxKeys: limit,
          StartAfter: after === undefined ? undefined : this.fullKey(after),
        }),
      );
      const items: BlobStat[] = (page.Contents ?? []).map((object) => ({
        key: (object.Key ?? '').slice(strip),
        size: object.Size ?? 0,
        modified: object.LastModified ?? new Date(0),
      }));
      const last = items[items.length - 1];
      return page.IsTruncated === true && last !== undefined
        ? { items, nextCursor: encodeCursor(last.key) }
        : { items };
    } catch (error) {
      throw this.failure(error, 'list', canonical);
    }
  }

  async delete(key: string): Promise<boolean> {
    if ((await this.stat(key)) === undefined) return false;
    const canonical = canonicalKey(key, 'key');
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(canonical) }));
      return true;
    } catch (error) {
      throw this.failure(error, 'delete', canonical);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      throw this.failure(error, 'reach', undefined);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private fullKey(canonical: string): string {
    return this.prefix === '' ? canonical : `${this.prefix}/${canonical}`;
  }

  /**
   * Maps an S3 failure to a KilnError: a missing key is RESOURCE_DOES_NOT_EXIST; a missing bucket,
   * refused credentials, an unreachable endpoint or a server error is TEMPORARILY_UNAVAILABLE, since
   * the caller's request was fine and the operator has to act. Anything else passes through.
   */
  private failure(error: unknown, action: string, key: string | undefined): unknown {
    if (error instanceof KilnError) return error;
    const name = errorName(error);
    const status = statusOf(error);
    const what = key === undefined ? this.where : `'${key}' in ${this.where}`;
    const details = { bucket: this.bucket, ...(key === undefined ? {} : { key }), s3Error: name };
    if (key !== undefined && isMissing(error)) {
      return new KilnError('RESOURCE_DOES_NOT_EXIST', `blob '${key}' does not exist`, { key });
    }
    const unavailable = (reason: string) =>
      new KilnError('TEMPORARILY_UNAVAILABLE', `cannot ${action} ${what}: ${reason}`, details, { cause: error });
    if (name === 'NoSuchBucket' || (key === undefined && status === 404)) {
      return unavailable(`bucket '${this.bucket}' does not exist`);
    }
    if (CREDENTIAL_ERRORS.has(name) || status === 401 || status === 403) {
      return unavailable(`S3 refused the credentials (${name}); check AWS_ACCESS_KEY_ID / the AWS profile`);
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERRORS.has(code))
      return unavailable(`the endpoint is unreachable (${code})`);
    if (name === 'TimeoutError' || name === 'AbortError') return unavailable('the request timed out');
    if (status !== undefined && status >= 500) return unavailable(`S3 answered ${status} (${name})`);
    return error;
  }
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'Forbidden',
]);
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/**
 * Splits `s3://bucket/prefix` into bucket and canonical prefix; a malformed URL is a configuration
 * error, not a request error.
 *
 * @example
 * parseS3Url('s3://ml-artifacts/kiln/'); // { bucket: 'ml-artifacts', prefix: 'kiln' }
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  // Parsed by hand: WHATWG URL parsing would silently resolve `..` and `%2e%2e` in the path.
  const match = /^s3:\/\/([A-Za-z0-9][A-Za-z0-9._-]*)(\/[^?#]*)?$/.exec(url);
  if (match === null) {
    throw new KilnError('INVALID_CONFIGURATION', `expected s3://bucket/prefix, got '${url}'`, { url });
  }
  const bucket = match[1] ?? '';
  try {
    const path = decodeURIComponent(match[2] ?? '').replace(/^\/+|\/+$/g, '');
    return { bucket, prefix: path === '' ? '' : canonicalKey(path, 'url') };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new KilnError('INVALID_CONFIGURATION', `bad prefix in '${url}': ${reason}`, { url });
  }
}

function errorName(error: unknown): string {
  return (error as { name?: unknown })?.name?.toString() ?? 'Error';
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket');
}
