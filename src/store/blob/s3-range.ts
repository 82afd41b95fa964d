import { pipeline, type Readable, Transform } from 'node:stream';
import { KilnError } from '../../core/index.js';
import type { BlobRange } from './blob-store.js';
import { rangeNotSatisfiable } from './input.js';

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/**
 * Returns exactly the requested bytes from a ranged GET. HTTP lets a server ignore `Range` and send
 * the whole object with 200, and some S3-compatible servers answer a wider range than asked
 * (s3rver treats `bytes=0-0` as the whole object); both are trimmed here on the client. A compliant
 * answer passes through untouched.
 *
 * @example
 * const body = fitRange(response.Body, { start: 0, end: 0 }, response.ContentRange, response.ContentLength);
 */
export function fitRange(
  body: Readable,
  range: BlobRange,
  contentRange: string | undefined,
  contentLength: number | undefined,
): Readable {
  let first = 0;
  let last = (contentLength ?? 0) - 1;
  let total: number | undefined = contentLength;
  const match = contentRange === undefined ? null : CONTENT_RANGE.exec(contentRange);
  if (match !== null) {
    first = Number(match[1]);
    last = Number(match[2]);
    total = match[3] === '*' ? undefined : Number(match[3]);
  } else if (contentRange !== undefined) {
    body.destroy();
    throw new KilnError('INTERNAL_ERROR', `S3 answered a range request with Content-Range '${contentRange}'`);
  }
  if (total !== undefined && range.start >= total) {
    body.destroy();
    throw rangeNotSatisfiable(range, total);
  }
  const end = Math.min(range.end ?? Number.POSITIVE_INFINITY, total === undefined ? last : total - 1);
  if (first === range.start && last === end) return body;
  if (first > range.start || last < end) {
    body.destroy();
    throw new KilnError(
      'INTERNAL_ERROR',
      `S3 answered bytes ${first}-${last} to a request for bytes ${range.start}-${range.end ?? ''}`,
    );
  }
  return pipeline(body, slice(range.start - first, end - range.start + 1), () => undefined);
}

/** Drops `skip` bytes, passes `take` bytes, drops the rest; fails if the source ends short. */
function slice(skip: number, take: number): Transform {
  let toSkip = skip;
  let toTake = take;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let part = chunk;
      if (toSkip > 0) {
        const skipped = Math.min(toSkip, part.length);
        part = part.subarray(skipped);
        toSkip -= skipped;
      }
      if (toTake === 0 || part.length === 0) return done();
      const piece = part.subarray(0, toTake);
      toTake -= piece.length;
      done(null, piece);
    },
    flush(done) {
      done(toTake > 0 ? new KilnError('DATA_LOSS', `S3 ended the body ${toTake} bytes short of the range`) : null);
    },
  });
}
