import { invalidParameter } from '../core/index.js';

/**
 * A workspace scopes every top-level entity (experiments, datasets, models…) so that teams can
 * share one Kiln without seeing each other's work. Names appear in URLs and in the
 * `x-kiln-workspace` header, hence the conservative alphabet.
 *
 * @example
 * const ws: Workspace = { name: 'fraud', description: 'Card fraud models', createdAt, updatedAt };
 */
export interface Workspace {
  name: string;
  description: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC. */
  updatedAt: string;
}

/** 1–63 characters, lower-case letters, digits and hyphens, not starting with a hyphen (a DNS label). */
export const WORKSPACE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Longest description accepted, in characters. */
export const MAX_DESCRIPTION_LENGTH = 5000;

/**
 * True when `value` may name a workspace.
 *
 * @example
 * isWorkspaceName('team-a'); // true
 * isWorkspaceName('Team A'); // false
 */
export function isWorkspaceName(value: string): boolean {
  return WORKSPACE_NAME_PATTERN.test(value);
}

/**
 * Returns `value` when it may name a workspace; otherwise throws INVALID_PARAMETER_VALUE naming
 * `field`, so the header check and the API report the same rule.
 *
 * @example
 * checkWorkspaceName('x-kiln-workspace', request.headers['x-kiln-workspace']);
 */
export function checkWorkspaceName(field: string, value: unknown): string {
  if (typeof value === 'string' && isWorkspaceName(value)) return value;
  throw invalidParameter(
    field,
    'must be 1 to 63 lower-case letters, digits or hyphens, starting with a letter or digit',
    value,
  );
}
