import { invalidParameter } from '../core/index.js';
import { VIEW_TYPES, type ViewType } from './model.js';
import { decodePageToken, encodePageToken } from './search/index.js';

/** Runs and experiments per search page when the caller does not say: MLflow's default. */
export const DEFAULT_SEARCH_RESULTS = 1000;
/** Largest search page: the most MLflow servers guarantee. */
export const MAX_SEARCH_RESULTS = 50_000;

/** A page of search results; `nextPageToken` is present when more follow. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** Checks `max_results`: a whole number from 1 to `max`; `fallback` when absent. */
export function checkMaxResults(value: unknown, fallback: number, max: number, field = 'max_results'): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidParameter(field, `must be a whole number from 1 to ${max}, got ${String(value)}`, value);
  }
  return value;
}

/** Checks a view type name; ACTIVE_ONLY when absent. */
export function checkViewType(value: unknown, field = 'view_type'): ViewType {
  if (value === undefined || value === null) return 'ACTIVE_ONLY';
  if (typeof value !== 'string' || !(VIEW_TYPES as readonly string[]).includes(value)) {
    throw invalidParameter(field, `must be one of ${VIEW_TYPES.join(', ')}`, value);
  }
  return value as ViewType;
}

/**
 * Fetches one offset page — MLflow's `{"offset": N}` token — asking the store for one row more
 * than the page so that a next-page token is issued only when rows really follow.
 *
 * @example
 * const page = await offsetPage((limit, offset) => store.searchRuns({ …, limit, offset }), 100, token);
 */
export async function offsetPage<T>(
  fetch: (limit: number, offset: number) => Promise<T[]>,
  maxResults: number,
  pageToken: string | undefined,
): Promise<Page<T>> {
  const offset = decodePageToken(pageToken);
  const rows = await fetch(maxResults + 1, offset);
  if (rows.length <= maxResults) return { items: rows };
  return { items: rows.slice(0, maxResults), nextPageToken: encodePageToken(offset + maxResults) };
}
