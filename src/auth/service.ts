import { DEFAULT_WORKSPACE, invalidParameter, KilnError, type RequestContext } from '../core/index.js';
import { decodeKeysetToken, encodeKeysetToken, nowIso } from '../store/index.js';
import type { WorkspaceStore } from './store.js';
import { checkWorkspaceName, isWorkspaceName, MAX_DESCRIPTION_LENGTH, type Workspace } from './workspace.js';

/** Page size when the caller does not choose one. */
export const DEFAULT_PAGE_SIZE = 100;
/** Largest page a caller may ask for. */
export const MAX_PAGE_SIZE = 1000;

/** Paging of {@link WorkspaceService.list}; both fields optional. */
export interface ListWorkspacesOptions {
  /** 1 to {@link MAX_PAGE_SIZE}; default {@link DEFAULT_PAGE_SIZE}. */
  maxResults?: number;
  /** The `nextPageToken` of the previous page. */
  pageToken?: string;
}

/** One page of workspaces in name order. */
export interface WorkspacePage {
  workspaces: Workspace[];
  /** Present when more workspaces follow; pass it back as `pageToken`. */
  nextPageToken?: string;
}

/** What a new workspace needs: a name and, optionally, a description (default empty). */
export interface CreateWorkspaceInput {
  name: string;
  description?: string;
}

/**
 * The workspace use cases. Every method takes the caller's {@link RequestContext} first so that
 * role checks and the audit log attach here, in one place, when they arrive.
 *
 * @example
 * const workspaces = new WorkspaceService(new KyselyWorkspaceStore(database));
 * await workspaces.create(ctx, { name: 'fraud', description: 'Card fraud models' });
 * const { workspaces: page, nextPageToken } = await workspaces.list(ctx, { maxResults: 50 });
 */
export class WorkspaceService {
  constructor(private readonly store: WorkspaceStore) {}

  async list(_ctx: RequestContext, options: ListWorkspacesOptions = {}): Promise<WorkspacePage> {
    const limit = checkPageSize(options.maxResults);
    const after =
      options.pageToken === undefined ? undefined : decodeKeysetToken(options.pageToken, 'page_token', isWorkspaceName);
    const rows = await this.store.list(limit + 1, after);
    const workspaces = rows.slice(0, limit);
    const last = workspaces.at(-1);
    if (rows.length > limit && last !== undefined) return { workspaces, nextPageToken: encodeKeysetToken(last.name) };
    return { workspaces };
  }

  async get(_ctx: RequestContext, name: string): Promise<Workspace> {
    const workspace = await this.store.get(checkWorkspaceName('name', name));
    if (workspace === undefined) throw notFound(name);
    return workspace;
  }

  async create(_ctx: RequestContext, input: CreateWorkspaceInput): Promise<Workspace> {
    const name = checkWorkspaceName('name', input.name);
    const description = checkDescription(input.description ?? '');
    const now = nowIso();
    const workspace: Workspace = { name, description, createdAt: now, updatedAt: now };
    if (!(await this.store.insert(workspace))) {
      throw new KilnError('RESOURCE_ALREADY_EXISTS', `Workspace '${name}' already exists`, { name });
    }
    return workspace;
  }

  async update(_ctx: RequestContext, name: string, changes: { description: string }): Promise<Workspace> {
    const checked = checkWorkspaceName('name', name);
    const updated = await this.store.updateDescription(checked, checkDescription(changes.description), nowIso());
    if (updated === undefined) throw notFound(name);
    return updated;
  }

  async delete(_ctx: RequestContext, name: string): Promise<void> {
    const checked = checkWorkspaceName('name', name);
    if (checked === DEFAULT_WORKSPACE) {
      throw new KilnError('INVALID_STATE', `Workspace '${DEFAULT_WORKSPACE}' cannot be deleted`, { name });
    }
    if (!(await this.store.delete(checked))) throw notFound(name);
  }
}

function notFound(name: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Workspace '${name}' does not exist`, { name });
}

function checkPageSize(value: number | undefined): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw invalidParameter('max_results', `must be an integer from 1 to ${MAX_PAGE_SIZE}`, value);
  }
  return value;
}

function checkDescription(value: unknown): string {
  if (typeof value !== 'string') throw invalidParameter('description', 'must be a string');
  if (value.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidParameter('description', `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return value;
}
