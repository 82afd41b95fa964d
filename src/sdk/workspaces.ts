import type { KilnClient } from './client.js';
import type { Workspace, WorkspaceList } from './types.js';

/** Options of {@link WorkspacesApi.list}. */
export interface ListWorkspacesParams {
  /** 1 to 1000; the server's default is 100. */
  maxResults?: number;
  /** `next_page_token` of the previous page. */
  pageToken?: string;
}

/**
 * `kiln.workspaces`: the `/api/v1/workspaces` endpoints. Results are the REST API's JSON, as
 * documented at `/docs`.
 *
 * @example
 * const ws = await kiln.workspaces.create({ name: 'fraud', description: 'Card fraud models' });
 * await kiln.workspaces.update('fraud', { description: 'Card and wire fraud' });
 */
export class WorkspacesApi {
  constructor(private readonly client: KilnClient) {}

  list(params: ListWorkspacesParams = {}): Promise<WorkspaceList> {
    return this.client.request<WorkspaceList>('GET', '/api/v1/workspaces', {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  async get(name: string): Promise<Workspace> {
    const body = await this.client.request<{ workspace: Workspace }>('GET', pathOf(name));
    return body.workspace;
  }

  async create(input: { name: string; description?: string }): Promise<Workspace> {
    const body = await this.client.request<{ workspace: Workspace }>('POST', '/api/v1/workspaces', { body: input });
    return body.workspace;
  }

  async update(name: string, changes: { description: string }): Promise<Workspace> {
    const body = await this.client.request<{ workspace: Workspace }>('PATCH', pathOf(name), { body: changes });
    return body.workspace;
  }

  async delete(name: string): Promise<void> {
    await this.client.request<undefined>('DELETE', pathOf(name));
  }
}

function pathOf(name: string): string {
  return `/api/v1/workspaces/${encodeURIComponent(name)}`;
}
