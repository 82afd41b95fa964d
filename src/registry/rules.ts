import { invalidParameter } from '../core/index.js';
import { MODEL_STAGES, type ModelStage } from './model.js';

/** Longest registered model name, in characters. */
export const MAX_MODEL_NAME_LENGTH = 256;
/** Longest alias, in characters (MLflow guarantees 256 bytes). */
export const MAX_ALIAS_LENGTH = 255;
/** Longest tag key, in characters, as for MLflow's run and registry tags. */
export const MAX_TAG_KEY_LENGTH = 250;
/** Longest tag value, in characters. */
export const MAX_TAG_VALUE_LENGTH = 5000;
/** Longest description of a model or version, in characters. */
export const MAX_DESCRIPTION_LENGTH = 65_535;
/** Longest run link, in characters. */
export const MAX_RUN_LINK_LENGTH = 2048;

const CONTROL = /\p{Cc}/u;
/**
 * Characters a model name may not hold. Names appear in `models:/<name>/<version>` and
 * `models:/<name>@<alias>` URIs and in URL paths, where these would change the meaning.
 */
const NAME_FORBIDDEN = /[/\\@#?%]/;
const ALIAS = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const VERSION_LIKE_ALIAS = /^v\d+$/i;
const TAG_KEY = /^[\p{L}\p{N}_/.\- :]+$/u;
const RUN_ID = /^[A-Za-z0-9][\w-]{0,255}$/;
const POSITIVE_INTEGER = /^[1-9]\d{0,15}$/;

/**
 * Returns a valid registered model name or throws INVALID_PARAMETER_VALUE naming `field`: 1 to
 * {@link MAX_MODEL_NAME_LENGTH} characters, no control characters, no leading or trailing space,
 * none of `/ \ @ # ? %`.
 *
 * @example
 * checkModelName('name', 'churn-classifier'); // 'churn-classifier'
 * checkModelName('name', 'a/b');              // throws "name: must not contain '/' …"
 */
export function checkModelName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(field, 'must be a non-empty string', value);
  if (value.length > MAX_MODEL_NAME_LENGTH) {
    throw invalidParameter(field, `must be at most ${MAX_MODEL_NAME_LENGTH} characters`, value.slice(0, 64));
  }
  if (CONTROL.test(value)) throw invalidParameter(field, 'must not contain control characters', value);
  if (value.trim() !== value) throw invalidParameter(field, 'must not start or end with white space', value);
  const bad = NAME_FORBIDDEN.exec(value);
  if (bad !== null) {
    throw invalidParameter(field, `must not contain '${bad[0]}' (names appear in models:/ URIs)`, value);
  }
  return value;
}

/**
 * Returns a valid alias or throws. Aliases are letters, digits, `_`, `.` and `-`, not starting
 * with `.` or `-`; `latest` and version-like names (`v3`) are refused, as MLflow does, because
 * `models:/name@v3` would read as a version.
 *
 * @example
 * checkAlias('champion'); // 'champion'
 * checkAlias('v2');       // throws "alias: 'v2' is reserved …"
 */
export function checkAlias(value: unknown, field = 'alias'): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(field, 'must be a non-empty string', value);
  if (value.length > MAX_ALIAS_LENGTH) {
    throw invalidParameter(field, `must be at most ${MAX_ALIAS_LENGTH} characters`, value.slice(0, 64));
  }
  if (!ALIAS.test(value)) {
    throw invalidParameter(
      field,
      "must be letters, digits, '_', '.' or '-', starting with a letter, digit or '_'",
      value,
    );
  }
  if (value.toLowerCase() === 'latest' || VERSION_LIKE_ALIAS.test(value)) {
    throw invalidParameter(field, `'${value}' is reserved: 'latest' and v<number> would read as versions`, value);
  }
  return value;
}

/**
 * Returns a version number from a number or its decimal string (the MLflow wire sends "3"), or
 * throws INVALID_PARAMETER_VALUE naming `field`.
 *
 * @example
 * checkVersion('3'); // 3
 * checkVersion('0'); // throws "version: must be a positive whole number"
 */
export function checkVersion(value: unknown, field = 'version'): number {
  const n = typeof value === 'string' && POSITIVE_INTEGER.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw invalidParameter(field, 'must be a positive whole number', value);
  }
  return n;
}

/**
 * Returns a tag key or throws: 1 to {@link MAX_TAG_KEY_LENGTH} characters of letters, digits,
 * `_ - . / :` and spaces, with no empty, `.` or `..` path segment (MLflow's rule; keys may become
 * file names in exports).
 *
 * @example
 * checkTagKey('mlflow.source.type'); // 'mlflow.source.type'
 * checkTagKey('../x');               // throws
 */
export function checkTagKey(value: unknown, field = 'key'): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(field, 'must be a non-empty string', value);
  if (value.length > MAX_TAG_KEY_LENGTH) {
    throw invalidParameter(field, `must be at most ${MAX_TAG_KEY_LENGTH} characters`, value.slice(0, 64));
  }
  if (!TAG_KEY.test(value)) {
    throw invalidParameter(field, "may only contain letters, digits, '_', '-', '.', '/', ':' and spaces", value);
  }
  if (value.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalidParameter(field, "must not have empty, '.' or '..' path segments", value);
  }
  return value;
}

/** Returns a tag value or throws: a string of at most {@link MAX_TAG_VALUE_LENGTH} characters. */
export function checkTagValue(value: unknown, field = 'value'): string {
  if (typeof value !== 'string') throw invalidParameter(field, 'must be a string', value);
  if (value.length > MAX_TAG_VALUE_LENGTH) {
    throw invalidParameter(field, `must be at most ${MAX_TAG_VALUE_LENGTH} characters`, value.slice(0, 64));
  }
  return value;
}

/** Returns a description or throws: a string of at most {@link MAX_DESCRIPTION_LENGTH} characters. */
export function checkDescription(value: unknown, field = 'description'): string {
  if (typeof value !== 'string') throw invalidParameter(field, 'must be a string', value);
  if (value.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidParameter(field, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`, value.slice(0, 64));
  }
  return value;
}

/**
 * Returns a stage in MLflow's spelling, accepting any letter case as MLflow does, or throws.
 *
 * @example
 * checkStage('production'); // 'Production'
 */
export function checkStage(value: unknown, field = 'stage'): ModelStage {
  const found =
    typeof value === 'string' ? MODEL_STAGES.find((stage) => stage.toLowerCase() === value.toLowerCase()) : undefined;
  if (found === undefined) throw invalidParameter(field, `must be one of ${MODEL_STAGES.join(', ')}`, value);
  return found;
}

/** Returns a run id (MLflow's rule: a letter or digit, then up to 255 of `[A-Za-z0-9_-]`) or throws. */
export function checkRunId(value: unknown, field = 'run_id'): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) {
    throw invalidParameter(field, "must be a run id: letters, digits, '_' and '-', at most 256", value);
  }
  return value;
}

/**
 * Returns a run link: empty, or an absolute http(s) URL without credentials. The link is shown to
 * people in the UI, so `javascript:` and other schemes are refused rather than rendered.
 *
 * @example
 * checkRunLink('https://ci.example.com/jobs/42'); // unchanged
 * checkRunLink('javascript:alert(1)');            // throws
 */
export function checkRunLink(value: unknown, field = 'run_link'): string {
  if (value === '') return value;
  if (typeof value !== 'string' || value.length > MAX_RUN_LINK_LENGTH || CONTROL.test(value)) {
    throw invalidParameter(field, `must be an http(s) URL of at most ${MAX_RUN_LINK_LENGTH} characters`, value);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParameter(field, 'must be an absolute http(s) URL', value);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !/^https?:\/\//i.test(value)) {
    throw invalidParameter(field, 'must be an http(s) URL', value);
  }
  if (url.username !== '' || url.password !== '') throw invalidParameter(field, 'must not carry credentials', value);
  return value;
}

/**
 * Returns a page size: `fallback` when absent, else an integer from 1 to `max`, or throws.
 *
 * @example
 * checkMaxResults(undefined, 100, 1000); // 100
 */
export function checkMaxResults(value: unknown, fallback: number, max: number, field = 'max_results'): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && POSITIVE_INTEGER.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    throw invalidParameter(field, `must be a whole number from 1 to ${max}`, value);
  }
  return n;
}
