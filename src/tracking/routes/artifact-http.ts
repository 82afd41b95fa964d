import type { IncomingMessage } from 'node:http';
import { extname } from 'node:path';
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError } from '../../core/index.js';
import type { ArtifactDownload, ArtifactRange } from '../artifacts.js';

/**
 * Largest artifact one upload may carry unless the routes are given another limit: 5 GiB, S3's
 * ceiling for a single object written in one request chain and far above any model file Kiln's
 * own learners write. Uploads are streamed to the blob store, so the limit bounds disk use, not
 * memory; Fastify's JSON `bodyLimit` does not apply to artifact bodies.
 */
export const DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024 ** 3;

/** Download content types by extension; everything else is `application/octet-stream`. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.yaml': 'text/plain; charset=utf-8',
  '.yml': 'text/plain; charset=utf-8',
  '.toml': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.json': 'application/json',
  '.parquet': 'application/vnd.apache.parquet',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.pdf': 'application/pdf',
  '.gz': 'application/gzip',
  '.zip': 'application/zip',
};

/** MLflow's extension-less text files, served as text like MLflow does. */
const TEXT_NAMES: ReadonlySet<string> = new Set(['MLmodel', 'MLproject', 'LICENSE', 'README']);

/**
 * Lets the routes of one plugin scope receive request bodies of any content type as the raw
 * stream, so uploads are streamed to the blob store and never buffered or capped by `bodyLimit`.
 * Fastify parsers are encapsulated: call it inside the artifact plugin only.
 *
 * @example
 * const routes: FastifyPluginAsync = async (app) => { acceptRawBodies(app); app.put('/files/*', …); };
 */
export function acceptRawBodies(app: Pick<FastifyInstance, 'removeAllContentTypeParsers' | 'addContentTypeParser'>) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request: FastifyRequest, payload: IncomingMessage, done) => done(null, payload));
}

/**
 * The upload body of a request handled under {@link acceptRawBodies}, limited to `maxBytes`: a
 * declared `Content-Length` above it is refused at once, and a chunked body fails with
 * PAYLOAD_TOO_LARGE as soon as it passes the limit; a client that goes away mid-body fails it
 * with CANCELLED. Either way the store discards the partial write.
 */
export function uploadBody(request: FastifyRequest, maxBytes: number): Transform | Buffer {
  const tooLarge = () =>
    new KilnError('PAYLOAD_TOO_LARGE', `Artifact is larger than the ${maxBytes} bytes this server accepts`, {
      limit: maxBytes,
    });
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const source = request.body as IncomingMessage | undefined;
  if (source === undefined || source === null) return Buffer.alloc(0);
  let received = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.byteLength;
      callback(received > maxBytes ? tooLarge() : null, chunk);
    },
  });
  source.on('error', (error) => {
    limited.destroy(
      error instanceof KilnError ? error : new KilnError('CANCELLED', 'The upload was interrupted before its end'),
    );
  });
  // The store may start reading only after the run is looked up; an error before then must wait
  // for it (a destroyed stream rethrows its error to its reader) rather than crash the process.
  limited.on('error', () => undefined);
  source.pipe(limited);
  return limited;
}

/**
 * Runs an upload and, when it fails, asks for the connection to be closed: the rest of a refused
 * body is then not read, rather than drained up to its full size.
 */
export async function closeOnFailure<T>(reply: FastifyReply, upload: () => Promise<T>): Promise<T> {
  try {
    return await upload();
  } catch (error) {
    reply.header('connection', 'close');
    throw error;
  }
}

/**
 * Parses a `Range` header into one range. Forms HTTP lets a server ignore (several ranges, other
 * units, malformed specs, or an `If-Range` Kiln cannot check) give undefined: the whole file.
 *
 * @example
 * parseRange('bytes=0-99');  // { start: 0, end: 99 }
 * parseRange('bytes=-500');  // { suffix: 500 }
 * parseRange('bytes=0-1,5-6'); // undefined
 */
export function parseRange(header: string | undefined, ifRange?: string | string[]): ArtifactRange | undefined {
  if (header === undefined || ifRange !== undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  if (last === '') return { start };
  const end = Number(last);
  return end < start ? undefined : { start, end };
}

/**
 * Opens an artifact through `open`; when the range cannot be satisfied the error response also
 * carries `Content-Range: bytes *\/<size>`, as HTTP asks.
 */
export async function openForReply(
  reply: FastifyReply,
  open: () => Promise<ArtifactDownload>,
): Promise<ArtifactDownload> {
  try {
    return await open();
  } catch (error) {
    const size = error instanceof KilnError && error.details?.field === 'range' ? error.details.size : undefined;
    if (typeof size === 'number') reply.header('content-range', `bytes */${size}`);
    throw error;
  }
}

/**
 * Streams an opened artifact: 200, or 206 with `Content-Range` for a range; a content type from
 * the extension; always as an attachment with `nosniff` and a sandboxing CSP, so a browser never
 * renders an uploaded file as a page of Kiln's origin (mlflow.md §6.5, class 7).
 */
export function sendArtifact(reply: FastifyReply, download: ArtifactDownload): FastifyReply {
  reply
    .header('content-type', contentTypeFor(download.path))
    .header('content-disposition', contentDisposition(download.path))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('accept-ranges', 'bytes');
  if (download.range === undefined) return reply.header('content-length', download.size).send(download.stream);
  const { start, end } = download.range;
  return reply
    .code(206)
    .header('content-range', `bytes ${start}-${end}/${download.size}`)
    .header('content-length', end - start + 1)
    .send(download.stream);
}

/**
 * The content type a download is served with.
 *
 * @example
 * contentTypeFor('model/MLmodel'); // 'text/plain; charset=utf-8'
 * contentTypeFor('page.html');     // 'application/octet-stream'
 */
export function contentTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (TEXT_NAMES.has(name)) return 'text/plain; charset=utf-8';
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * `attachment` with the file's base name: an ASCII fallback where anything but letters, digits,
 * `.`, `-` and `_` becomes `_`, and the exact name in RFC 8187's `filename*`.
 *
 * @example
 * contentDisposition('plots/größe "a".png'); // `attachment; filename="gr__e__a_.png"; filename*=UTF-8''gr%C3%B6%C3%9Fe%20%22a%22.png`
 */
export function contentDisposition(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, '_') || 'artifact';
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
