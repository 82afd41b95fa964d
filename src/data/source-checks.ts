/**
 * Checks of a source file before and around DuckDB's read: what its first bytes say it is, NUL
 * bytes, invalid UTF-8 and over-long lines found in the same streaming pass as the digest, and the
 * one error shape every ingest problem takes (a 400 naming file, format, line and column).
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { KilnError } from '../core/index.js';
import type { DataFormat } from './model.js';

/** Where in the source a problem is, as far as it is known. */
export interface Position {
  line?: number;
  column?: string;
}

/** Whether the declared format is wrong (`format`) or the content is bad (`file`). */
type ProblemField = 'file' | 'format';

/** A 400 whose message names the file, the format and, when known, the line and column. */
export function inputError(
  path: string,
  format: DataFormat,
  problem: string,
  field: ProblemField,
  at: Position = {},
  extra: Record<string, unknown> = {},
): KilnError {
  const where = [
    at.line === undefined ? undefined : `line ${at.line}`,
    at.column === undefined ? undefined : `column "${at.column}"`,
  ].filter((part) => part !== undefined);
  const prefix = `cannot read ${path} as ${format}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
  const details: Record<string, unknown> = { path, format, field, ...extra };
  if (at.line !== undefined) details.line = at.line;
  if (at.column !== undefined) details.column = at.column;
  return new KilnError('INVALID_PARAMETER_VALUE', `${prefix}: ${problem}`, details);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** DuckDB messages can quote a whole offending line; a message never carries more than this. */
export const MAX_PROBLEM_CHARS = 300;

export function clip(text: string): string {
  return text.length <= MAX_PROBLEM_CHARS ? text : `${text.slice(0, MAX_PROBLEM_CHARS)}…`;
}

export async function checkFile(path: string, format: DataFormat): Promise<number> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    const problem = err.code === 'ENOENT' ? 'does not exist' : `cannot be opened (${err.message})`;
    throw new KilnError('INVALID_PARAMETER_VALUE', `file ${path} ${problem}`, { path, format, field: 'path' });
  });
  if (!info.isFile()) {
    const what = info.isDirectory() ? 'a directory' : 'not a regular file';
    throw new KilnError('INVALID_PARAMETER_VALUE', `${path} is ${what}, not a ${format} file`, {
      path,
      format,
      field: 'path',
    });
  }
  if (info.size === 0) throw inputError(path, format, 'the file is empty', 'file');
  return info.size;
}

/** What the first bytes of a file say it is, whatever its name claims. */
type ContentKind = 'parquet' | 'arrow' | 'jsonArray' | 'jsonObjects' | 'text' | 'blank' | 'gzip' | 'zip' | 'utf16';

const CONTENT_NAMES: Record<ContentKind, string> = {
  parquet: 'a Parquet file',
  arrow: 'an Arrow IPC file',
  jsonArray: 'a JSON array (format json)',
  jsonObjects: 'JSON objects (format json or ndjson)',
  text: 'plain text such as CSV',
  blank: 'whitespace only',
  gzip: 'gzip-compressed data (decompress it first)',
  zip: 'a ZIP archive (an Excel workbook, perhaps)',
  utf16: 'UTF-16 text',
};

/**
 * Which content kinds each declared format accepts. DuckDB reads lines of JSON objects declared as
 * `json` correctly, but a JSON array declared as `ndjson` silently becomes one row holding a list.
 */
const ACCEPTS: Record<DataFormat, readonly ContentKind[]> = {
  csv: ['text'],
  json: ['jsonArray', 'jsonObjects'],
  ndjson: ['jsonObjects'],
  parquet: ['parquet'],
  arrow: ['arrow'],
};

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * `{"` / `{}` opens JSON objects, `[` followed by a value start a JSON array; a CSV header such as
 * `[id],name` is neither.
 */
function jsonKind(head: Buffer): ContentKind | undefined {
  let i = startsWith(head, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (i < head.length && WHITESPACE.has(head[i] as number)) i++;
  const open = head[i];
  if (open !== 0x7b && open !== 0x5b) return undefined;
  i++;
  while (i < head.length && WHITESPACE.has(head[i] as number)) i++;
  const next = i === head.length ? '' : String.fromCharCode(head[i] as number);
  if (open === 0x7b) return next === '' || '"}'.includes(next) ? 'jsonObjects' : undefined;
  return next === '' || '{["]-0123456789'.includes(next) ? 'jsonArray' : undefined;
}

/**
 * Parquet and Arrow files carry magic bytes (`PAR1`, `ARROW1`, or the IPC stream's 0xFFFFFFFF
 * continuation marker); gzip, ZIP and UTF-16 byte order marks are recognisable too. Everything
 * else is JSON when it opens like JSON, and text otherwise.
 */
async function sniffContent(path: string, size: number): Promise<ContentKind> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0);
    const head = buffer.subarray(0, bytesRead);
    if (startsWith(head, [0x50, 0x41, 0x52, 0x31])) return 'parquet';
    if (startsWith(head, [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]) || startsWith(head, [0xff, 0xff, 0xff, 0xff])) {
      return 'arrow';
    }
    if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
    if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
    if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) return 'utf16';
    if (bytesRead === size && head.every((byte) => WHITESPACE.has(byte))) return 'blank';
    return jsonKind(head) ?? 'text';
  } finally {
    await handle.close();
  }
}

export async function checkContent(path: string, format: DataFormat, size: number): Promise<void> {
  const kind = await sniffContent(path, size);
  if (ACCEPTS[format].includes(kind)) return;
  if (kind === 'blank') throw inputError(path, format, 'the file holds only whitespace', 'file');
  if (kind === 'utf16') {
    throw inputError(path, format, 'the file is UTF-16 encoded; Kiln reads text as UTF-8, so convert it first', 'file');
  }
  throw inputError(
    path,
    format,
    `the content is not ${format} but looks like ${CONTENT_NAMES[kind]}; declare the format it really has`,
    'format',
    {},
    { detected: kind },
  );
}

/** The byte length of `bytes` up to the last complete UTF-8 character. */
function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/**
 * The offset of the first invalid UTF-8 byte in `bytes`, which `isUtf8` has rejected. Node's
 * decoder replaces each invalid sequence with U+FFFD; the first replacement that does not stand for
 * a literal EF BF BD in the input marks the spot, and everything before it is valid, so its byte
 * length is exact.
 */
function firstInvalidUtf8(bytes: Buffer): number {
  const text = bytes.toString('utf8');
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
    const at = Buffer.byteLength(text.slice(0, i));
    if (bytes[at] !== 0xef || bytes[at + 1] !== 0xbf || bytes[at + 2] !== 0xbd) return at;
  }
  return bytes.length;
}

/** DuckDB's default `max_line_size` for CSV; Kiln keeps it and checks it itself (see {@link scanText}). */
const CSV_MAX_LINE_BYTES = 2_000_000;

/** Chunks of the scan; smaller than {@link CSV_MAX_LINE_BYTES}, so a line inside one chunk is never too long. */
const SCAN_CHUNK_BYTES = 1 << 20;

/** What one streaming pass over a text file found besides its digest. */
export interface TextScan {
  digest: string;
  /** Byte offset of the first NUL byte. */
  nulAt?: number;
  /** Byte offset of the first byte that is not valid UTF-8. */
  invalidUtf8At?: number;
  /** The first line longer than the scan's line limit: where it starts and how long it is. */
  longLine?: { start: number; bytes: number };
  /** Whether a `"` occurs anywhere: only then can a CSV quote be unterminated. */
  hasDoubleQuote: boolean;
}

/**
 * Hashes a text file and, in the same pass, finds its first NUL byte, its first invalid UTF-8 and
 * (with `lineLimit`) its first over-long line. DuckDB's CSV sniffer takes minutes to reject a
 * 50 MB line and then names line 1 whatever the line was; here it costs two `indexOf` per chunk:
 * only the line running across chunk boundaries can exceed the limit, since chunks are shorter.
 */
async function scanText(path: string, lineLimit: number): Promise<TextScan> {
  const hash = createHash('sha256');
  const scan: TextScan = { digest: '', hasDoubleQuote: false };
  let position = 0;
  let carry = Buffer.alloc(0);
  let lineStart = 0;
  const lineEnded = (end: number) => {
    if (scan.longLine === undefined && end - lineStart > lineLimit) {
      scan.longLine = { start: lineStart, bytes: end - lineStart };
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: SCAN_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (scan.nulAt === undefined) {
      const nul = chunk.indexOf(0);
      if (nul >= 0) scan.nulAt = position + nul;
    }
    if (!scan.hasDoubleQuote) scan.hasDoubleQuote = chunk.includes(0x22);
    if (scan.invalidUtf8At === undefined) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const complete = completeUtf8Length(bytes);
      const body = bytes.subarray(0, complete);
      if (!isUtf8(body)) scan.invalidUtf8At = position - carry.length + firstInvalidUtf8(body);
      carry = Buffer.from(bytes.subarray(complete));
    }
    const firstNewline = chunk.indexOf(0x0a);
    if (firstNewline >= 0) {
      lineEnded(position + firstNewline);
      lineStart = position + chunk.lastIndexOf(0x0a) + 1;
    }
    position += chunk.length;
  }
  lineEnded(position);
  if (scan.invalidUtf8At === undefined && carry.length > 0) scan.invalidUtf8At = position - carry.length;
  scan.digest = hash.digest('hex');
  return scan;
}

/** The 1-based line of byte `offset`, and the byte's 1-based position within that line. */
async function lineOfOffset(path: string, offset: number): Promise<{ line: number; byte: number }> {
  let line = 1;
  let lineStart = 0;
  let position = 0;
  if (offset > 0) {
    for await (const chunk of createReadStream(path, { end: offset - 1 }) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
        line++;
        lineStart = position + i + 1;
      }
      position += chunk.length;
    }
  }
  return { line, byte: offset - lineStart + 1 };
}

/** The first line longer than `limit` bytes (without its line break). */
export async function firstLongLine(path: string, limit: number): Promise<number | undefined> {
  let line = 1;
  let length = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: SCAN_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    for (let start = 0; ; ) {
      const newline = chunk.indexOf(0x0a, start);
      length += (newline < 0 ? chunk.length : newline) - start;
      if (length > limit) return line;
      if (newline < 0) break;
      line++;
      length = 0;
      start = newline + 1;
    }
  }
  return undefined;
}

/** The physical line of the `record`-th non-blank line (1-based), as DuckDB's JSON reader counts records. */
export async function lineOfRecord(path: string, record: number): Promise<number | undefined> {
  let line = 1;
  let records = 0;
  let content = false;
  for await (const chunk of createReadStream(path, { highWaterMark: SCAN_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (content && ++records === record) return line;
        line++;
        content = false;
      } else if (!content && !WHITESPACE.has(byte)) {
        content = true;
      }
    }
  }
  return content && records + 1 === record ? line : undefined;
}

/** Rejects NUL bytes, invalid UTF-8 and (in CSV) over-long lines, naming the line; returns the scan. */
export async function checkText(path: string, format: DataFormat): Promise<TextScan> {
  const scan = await scanText(path, format === 'csv' ? CSV_MAX_LINE_BYTES : Number.POSITIVE_INFINITY);
  const first = Math.min(scan.nulAt ?? Infinity, scan.invalidUtf8At ?? Infinity, scan.longLine?.start ?? Infinity);
  if (first === Infinity) return scan;
  const { line, byte } = await lineOfOffset(path, first);
  if (first === scan.nulAt) {
    throw inputError(path, format, `byte ${byte} of the line is a NUL byte, which text data never holds`, 'file', {
      line,
    });
  }
  if (first === scan.invalidUtf8At) {
    const value = (await readByte(path, first)).toString(16).padStart(2, '0');
    const problem = `byte ${byte} of the line (0x${value}) is not valid UTF-8; Kiln reads text as UTF-8`;
    throw inputError(path, format, problem, 'file', { line });
  }
  const problem = `the line is ${scan.longLine?.bytes} bytes long; DuckDB's CSV reader takes at most ${CSV_MAX_LINE_BYTES} bytes per line`;
  throw inputError(path, format, problem, 'file', { line }, { limit: CSV_MAX_LINE_BYTES });
}

async function readByte(path: string, offset: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, offset);
    return buffer[0] as number;
  } finally {
    await handle.close();
  }
}
