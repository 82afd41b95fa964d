import type { Workspace } from './workspace.js';

/**
 * What {@link WorkspaceService} needs from persistence. Implementations report outcomes (false,
 * undefined) rather than throwing, so that the service alone decides which error the caller sees.
 *
 * @example
 * const store: WorkspaceStore = new KyselyWorkspaceStore(database);
 * await store.insert({ name: 'team-a', description: '', createdAt: now, updatedAt: now });
 */
export interface WorkspaceStore {
  /** Up to `limit` workspaces in name order, starting after the name `after` when given. */
  list(limit: number, after?: string): Promise<Workspace[]>;
  get(name: string): Promise<Workspace | undefined>;
  /** Stores a new workspace; resolves false when the name is already taken. */
  insert(workspace: Workspace): Promise<boolean>;
  /** Replaces the description; resolves the updated workspace, or undefined when there is none. */
  updateDescription(name: string, description: string, updatedAt: string): Promise<Workspace | undefined>;
  /** Removes the workspace; resolves false when there was none. */
  delete(name: string): Promise<boolean>;
}
