/**
 * Who is asking, in which workspace, under which request id. Every service method takes one, so
 * that roles and the audit log can hook in later without changing signatures.
 *
 * @example
 * const ctx = systemContext('migrations');
 * await workspaces.list(ctx);
 */
export interface RequestContext {
  /** The authenticated principal, or `anonymous` while auth is off. */
  readonly actor: string;
  /** The workspace every read and write is scoped to. */
  readonly workspace: string;
  /** Correlates logs, audit entries and responses. */
  readonly requestId: string;
}

/** The workspace every entity belongs to unless the caller says otherwise. */
export const DEFAULT_WORKSPACE = 'default';

/** A context for work Kiln starts itself (start-up, schedules, workers). */
export function systemContext(requestId: string, workspace = DEFAULT_WORKSPACE): RequestContext {
  return { actor: 'system', workspace, requestId };
}
