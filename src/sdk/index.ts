export { KilnClient, type KilnClientOptions, type QueryParams, type RequestOptions } from './client.js';
export type { LiveStatus, ReadyStatus, VersionInfo, Workspace, WorkspaceList } from './types.js';
export { type ListWorkspacesParams, WorkspacesApi } from './workspaces.js';
