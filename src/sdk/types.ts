/** Answer of `GET /health/live`. */
export interface LiveStatus {
  status: 'ok';
}

/** Answer of `GET /health/ready` when every dependency answered: each check is `'ok'`. */
export interface ReadyStatus {
  status: 'ready';
  checks: Record<string, string>;
}

/** Answer of `GET /api/v1/version`. */
export interface VersionInfo {
  version: string;
}

/** A workspace as the REST API returns it. */
export interface Workspace {
  name: string;
  description: string;
  /** ISO-8601 UTC. */
  created_at: string;
  /** ISO-8601 UTC. */
  updated_at: string;
}

/** One page of workspaces; pass `next_page_token` back as `pageToken` for the next. */
export interface WorkspaceList {
  workspaces: Workspace[];
  next_page_token?: string;
}
