import { posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileUrlPath, invalidParameter, KilnError } from '../core/index.js';
import { canonicalKey } from '../store/index.js';
import { MODEL_STAGES } from './model.js';
import { checkAlias, checkModelName, checkRunId, checkVersion } from './rules.js';

/** Longest source URI accepted, in characters. */
export const MAX_SOURCE_LENGTH = 4096;

/**
 * Where this install keeps artifacts (`KILN_ARTIFACTS_URL`): local `file:` and plain-path sources
 * are accepted only below it.
 */
export type ArtifactRoot =
  | { readonly kind: 'file'; readonly url: string; readonly path: string }
  | { readonly kind: 's3'; readonly url: string; readonly bucket: string; readonly prefix: string };

/**
 * A source after validation, by scheme. `path` and `key` are canonical (see `canonicalKey`); a
 * `file` path is absolute and below the artifact root; `runs` with path '' means the run's root.
 */
export type ModelSource =
  | { readonly kind: 'runs'; readonly runId: string; readonly path: string }
  | { readonly kind: 'models'; readonly name: string; readonly version?: number; readonly alias?: string }
  | { readonly kind: 'mlflow-artifacts'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'file'; readonly path: string };

/** A validated source: the canonical URI to store and its parts. */
export interface CheckedSource {
  readonly uri: string;
  readonly parsed: ModelSource;
}

const CONTROL = /\p{Cc}/u;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
const ALLOWED = 'runs:/, models:/, mlflow-artifacts:/, s3:// or a path inside the artifact root';

/**
 * Reads an artifact root URL (`file:///abs/dir`, `s3://bucket/prefix`) once, at service start.
 *
 * @example
 * parseArtifactRoot('file:///var/kiln/artifacts'); // { kind: 'file', path: '/var/kiln/artifacts', … }
 */
export function parseArtifactRoot(url: string): ArtifactRoot {
  const bad = (problem: string) =>
    new KilnError('INVALID_CONFIGURATION', `artifact root '${url}' ${problem}`, { artifactRoot: url });
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length).replace(/\/+$/, '');
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!S3_BUCKET.test(bucket)) throw bad('names no valid S3 bucket');
    return { kind: 's3', url, bucket, prefix: slash < 0 ? '' : rest.slice(slash + 1) };
  }
  if (url.startsWith('file://')) {
    const path = posix.normalize(fileUrlPath(url)).replace(/(.)\/+$/, '$1');
    return { kind: 'file', url, path };
  }
  throw bad('must be a file:// or s3:// URL');
}

/**
 * Validates a model version `source` against the allow-list, the defence against MLflow's long
 * line of source-URI CVEs (file reads through `file:///etc/`, encoded and backslash traversal,
 * `?`/`#` smuggling, UNC paths, SSRF through `http://`). Accepted: `runs:/<run_id>[/<path>]`,
 * `models:/<name>/<version>`, `models:/<name>@<alias>`, `mlflow-artifacts:/<path>`,
 * `s3://<bucket>/<key>`, and — only when the artifact root is local — `file:///…` URLs and plain
 * absolute paths strictly inside it. Every relative part goes through `canonicalKey`. The check
 * never depends on tags or other fields, so nothing can switch it off. Throws
 * INVALID_PARAMETER_VALUE naming `field`.
 *
 * @example
 * checkSource('runs:/0a1b…/model//x', root).uri; // 'runs:/0a1b…/model/x'
 * checkSource('file:///etc/passwd', root);       // throws "source: … outside the artifact root"
 */
export function checkSource(value: unknown, root: ArtifactRoot, field = 'source'): CheckedSource {
  const fail = (problem: string) =>
    invalidParameter(field, problem, typeof value === 'string' ? shorten(value) : value);
  if (typeof value !== 'string' || value.length === 0) throw fail('must be a non-empty string');
  if (value.length > MAX_SOURCE_LENGTH) throw fail(`must be at most ${MAX_SOURCE_LENGTH} characters`);
  if (CONTROL.test(value)) throw fail('must not contain control characters');
  if (value.trim() !== value) throw fail('must not start or end with white space');
  if (value.includes('\\')) throw fail("must not contain '\\'");
  if (value.includes('?') || value.includes('#')) throw fail("must not carry a query ('?') or fragment ('#')");

  const match = SCHEME.exec(value);
  if (match === null) return plainPath(value, root, field, fail);
  const scheme = (match[1] ?? '').toLowerCase();
  const rest = match[2] ?? '';
  switch (scheme) {
    case 'runs':
      return runsSource(singleSlash(rest, 'runs:/<run_id>/<path>', fail), field);
    case 'models':
      return modelsSource(singleSlash(rest, 'models:/<name>/<version> or models:/<name>@<alias>', fail), field, fail);
    case 'mlflow-artifacts': {
      const path = canonicalKey(singleSlash(rest, 'mlflow-artifacts:/<path>', fail), field);
      return { uri: `mlflow-artifacts:/${path}`, parsed: { kind: 'mlflow-artifacts', path } };
    }
    case 's3':
      return s3Source(rest, field, fail);
    case 'file':
      return fileSource(rest, root, field, fail);
    default:
      throw fail(`scheme '${scheme}:' is not allowed; use ${ALLOWED}`);
  }
}

/** The part after `scheme:/`, refusing `scheme://authority` forms. */
function singleSlash(rest: string, form: string, fail: (problem: string) => KilnError): string {
  if (!rest.startsWith('/') || rest.startsWith('//')) throw fail(`must have the form ${form}`);
  const body = rest.slice(1);
  if (body === '') throw fail(`must have the form ${form}`);
  return body;
}

function runsSource(body: string, field: string): CheckedSource {
  const slash = body.indexOf('/');
  const runId = checkRunId(slash < 0 ? body : body.slice(0, slash), field);
  const rawPath = slash < 0 ? '' : body.slice(slash + 1);
  const path = rawPath === '' ? '' : canonicalKey(rawPath, field);
  return { uri: path === '' ? `runs:/${runId}` : `runs:/${runId}/${path}`, parsed: { kind: 'runs', runId, path } };
}

function modelsSource(body: string, field: string, fail: (problem: string) => KilnError): CheckedSource {
  const at = body.indexOf('@');
  if (at >= 0) {
    const name = checkModelName(field, body.slice(0, at));
    const alias = checkAlias(body.slice(at + 1), field);
    return { uri: `models:/${name}@${alias}`, parsed: { kind: 'models', name, alias } };
  }
  const slash = body.lastIndexOf('/');
  if (slash < 0) throw fail('must have the form models:/<name>/<version> or models:/<name>@<alias>');
  const name = checkModelName(field, body.slice(0, slash));
  const written = body.slice(slash + 1);
  if (written.toLowerCase() === 'latest' || MODEL_STAGES.some((s) => s.toLowerCase() === written.toLowerCase())) {
    throw fail(`must name a version number or an alias, not '${written}' (stages and 'latest' move)`);
  }
  const version = checkVersion(written, field);
  return { uri: `models:/${name}/${version}`, parsed: { kind: 'models', name, version } };
}

function s3Source(rest: string, field: string, fail: (problem: string) => KilnError): CheckedSource {
  if (!rest.startsWith('//')) throw fail('must have the form s3://<bucket>/<key>');
  const body = rest.slice(2);
  const slash = body.indexOf('/');
  const bucket = slash < 0 ? body : body.slice(0, slash);
  if (!S3_BUCKET.test(bucket) || bucket.includes('..') || IPV4.test(bucket)) {
    throw fail(`'${bucket}' is not a valid S3 bucket name`);
  }
  if (slash < 0 || slash === body.length - 1) throw fail('must name a key inside the bucket, s3://<bucket>/<key>');
  const key = canonicalKey(body.slice(slash + 1), field);
  return { uri: `s3://${bucket}/${key}`, parsed: { kind: 's3', bucket, key } };
}

function fileSource(rest: string, root: ArtifactRoot, field: string, fail: (problem: string) => KilnError) {
  if (root.kind !== 'file') throw fail('file: sources are accepted only when the artifact root is a local directory');
  let raw: string;
  if (rest.startsWith('///')) raw = rest.slice(2);
  else if (rest.toLowerCase().startsWith('//localhost/')) raw = rest.slice('//localhost'.length);
  else throw fail('must have the form file:///<absolute path> (no host, no UNC share)');
  // Check the still-encoded form first, so that every encoding layer is seen before decoding.
  canonicalKey(raw.slice(1), field);
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw fail('has a malformed percent escape');
  }
  const path = insideRoot(decoded, root, field, fail);
  return { uri: pathToFileURL(path).href, parsed: { kind: 'file', path } } satisfies CheckedSource;
}

function plainPath(value: string, root: ArtifactRoot, field: string, fail: (problem: string) => KilnError) {
  if (!value.startsWith('/') || value.startsWith('//')) {
    throw fail(`must be an absolute path inside the artifact root, or use ${ALLOWED}`);
  }
  if (root.kind !== 'file') throw fail('paths are accepted only when the artifact root is a local directory');
  const path = insideRoot(value, root, field, fail);
  return { uri: path, parsed: { kind: 'file', path } } satisfies CheckedSource;
}

/** The canonical absolute form of `absolute`, which must lie strictly below the root directory. */
function insideRoot(
  absolute: string,
  root: Extract<ArtifactRoot, { kind: 'file' }>,
  field: string,
  fail: (problem: string) => KilnError,
): string {
  if (!absolute.startsWith('/') || absolute.startsWith('//')) throw fail('must be an absolute path');
  const path = `/${canonicalKey(absolute.slice(1), field)}`;
  const prefix = root.path === '/' ? '/' : `${root.path}/`;
  if (!path.startsWith(prefix) || path.length === prefix.length) {
    throw fail(`must lie inside the artifact root ${root.path}, and '${path}' is outside it`);
  }
  canonicalKey(path.slice(prefix.length), field);
  return path;
}

function shorten(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
