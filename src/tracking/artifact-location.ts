import { pathToFileURL } from 'node:url';
import { invalidParameter, KilnError } from '../core/index.js';
import { canonicalKey } from '../store/index.js';

/** The proxy scheme MLflow clients resolve against the tracking server (`mlflow-artifacts:/1/<run>/artifacts`). */
export const PROXY_SCHEME = 'mlflow-artifacts';

const MAX_LOCATION_LENGTH = 2048;
const CONTROL = /\p{Cc}/u;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const NUMERIC_SEGMENT = /^[0-9]+$/;

/**
 * Where experiments keep their artifacts, and the gate for user-supplied artifact locations.
 *
 * The root is a URL: `file:///srv/kiln/artifacts`, `s3://bucket/prefix`, or MLflow's proxy form
 * `mlflow-artifacts:/` (clients then upload through the server's artifact routes). An
 * experiment's default location is `<root>/<experiment_id>`; a run's artifact URI is
 * `<experiment location>/<run_id>/artifacts`.
 *
 * A user-supplied location (MLflow's `artifact_location`) is accepted only in two forms, because
 * arbitrary locations are how MLflow servers were made to read and write files they should not
 * (mlflow.md §6.1, CVE-2023-6909, CVE-2024-1483): `mlflow-artifacts:/<path>`, which resolves
 * under the root, or a URL under the root in the root's own scheme. The relative part goes through
 * `canonicalKey` (no `..`, no encoded separators or dots, no drive letters, no control
 * characters); queries, fragments, backslashes, hosts in file URLs and other schemes are refused.
 * Its first segment must not be a number: `<root>/<n>` is experiment n's default home, and a
 * location there would read and write another experiment's artifacts.
 *
 * @example
 * const root = new ArtifactRoot('mlflow-artifacts:/');
 * root.experimentLocation('7');                 // 'mlflow-artifacts:/7'
 * root.runArtifactUri('mlflow-artifacts:/7', 'ab…'); // 'mlflow-artifacts:/7/ab…/artifacts'
 * root.checkLocation('mlflow-artifacts:/team/churn'); // 'mlflow-artifacts:/team/churn'
 * root.checkLocation('file:///etc');            // throws INVALID_PARAMETER_VALUE
 */
export class ArtifactRoot {
  /** The root without a trailing slash: `file:///srv/a`, `s3://bucket/p`, or `mlflow-artifacts:`. */
  readonly base: string;
  readonly scheme: string;

  constructor(root: string) {
    const parsed = parseRoot(root);
    this.base = parsed.base;
    this.scheme = parsed.scheme;
  }

  /** The default location of experiment `experimentId`. */
  experimentLocation(experimentId: string): string {
    return `${this.base}/${experimentId}`;
  }

  /** The artifact URI of run `runId` in an experiment located at `experimentLocation`. */
  runArtifactUri(experimentLocation: string, runId: string): string {
    return `${experimentLocation.replace(/\/+$/, '')}/${runId}/artifacts`;
  }

  /**
   * Returns the canonical form of a user-supplied artifact location, or throws
   * INVALID_PARAMETER_VALUE naming `field` (see the class comment for the rules).
   */
  checkLocation(location: unknown, field = 'artifact_location'): string {
    if (typeof location !== 'string') throw invalidParameter(field, 'must be a string');
    const fail = (problem: string) => invalidParameter(field, problem, shorten(location));
    if (location.length === 0) throw fail('must not be empty');
    if (location.length > MAX_LOCATION_LENGTH) throw fail(`must be at most ${MAX_LOCATION_LENGTH} characters`);
    if (CONTROL.test(location)) throw fail('must not contain control characters');
    if (location.includes('\\')) throw fail("must not contain '\\'");
    if (location.includes('?') || location.includes('#'))
      throw fail("must not contain a query ('?') or fragment ('#')");
    const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
    const allowed = this.allowedForms();
    if (scheme === undefined) throw fail(`must be a URI: ${allowed}`);
    const rest = location.slice(scheme.length + 1);
    let relative: string;
    if (scheme === PROXY_SCHEME) {
      if (!rest.startsWith('/') || rest.startsWith('//')) throw fail(`must have the form ${PROXY_SCHEME}:/<path>`);
      relative = rest.slice(1);
    } else if (scheme === this.scheme && scheme !== PROXY_SCHEME) {
      const normalised = scheme === 'file' && !rest.startsWith('//') ? `file://${rest}` : `${scheme}:${rest}`;
      if (!normalised.startsWith(`${this.base}/`)) throw fail(`must be under the server's artifact root: ${allowed}`);
      relative = normalised.slice(this.base.length + 1);
    } else {
      throw fail(`scheme '${scheme}:' is not allowed: ${allowed}`);
    }
    const canonical = canonicalKey(relative, field);
    if (NUMERIC_SEGMENT.test(canonical.split('/')[0] ?? '')) {
      throw fail('must not start with a numeric segment: those hold the default locations of experiments');
    }
    return scheme === PROXY_SCHEME ? `${PROXY_SCHEME}:/${canonical}` : `${this.base}/${canonical}`;
  }

  private allowedForms(): string {
    const proxy = `${PROXY_SCHEME}:/<path>`;
    return this.scheme === PROXY_SCHEME
      ? `use ${proxy}`
      : `use ${proxy} or a ${this.scheme}: URL under the artifact root`;
  }
}

function parseRoot(root: string): { base: string; scheme: string } {
  const bad = (problem: string) =>
    new KilnError('INVALID_CONFIGURATION', `Artifact root '${root}' ${problem}`, { artifactRoot: root });
  if (typeof root !== 'string' || root.length === 0) throw bad('must be a non-empty URL');
  if (root.startsWith('/')) return parseRoot(pathToFileURL(root).href);
  const scheme = SCHEME.exec(root)?.[1]?.toLowerCase();
  if (scheme === PROXY_SCHEME) {
    if (!/^mlflow-artifacts:\/?$/i.test(root)) throw bad(`must be exactly '${PROXY_SCHEME}:/'`);
    return { base: `${PROXY_SCHEME}:`, scheme };
  }
  if (scheme !== 'file' && scheme !== 's3') throw bad(`must be a file://, s3:// or ${PROXY_SCHEME}:/ URL`);
  let url: URL;
  try {
    url = new URL(root);
  } catch {
    throw bad('is not a valid URL');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw bad('must not carry a query, fragment or credentials');
  }
  if (scheme === 'file' && url.host !== '') throw bad('must be a local file:/// URL');
  if (scheme === 's3' && url.host === '') throw bad('must name a bucket: s3://bucket/prefix');
  const path = url.pathname.replace(/\/+$/, '');
  return { base: `${scheme}://${url.host}${path}`, scheme };
}

function shorten(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
