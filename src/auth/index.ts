export { isPermission, PERMISSIONS, type Permission } from './http.js';
export { AUTH_MIGRATIONS } from './migrations.js';
export { type WorkspaceRoutesOptions, type WorkspaceWire, workspaceRoutes } from './routes.js';
export {
  type CreateWorkspaceInput,
  DEFAULT_PAGE_SIZE,
  type ListWorkspacesOptions,
  MAX_PAGE_SIZE,
  type WorkspacePage,
  WorkspaceService,
} from './service.js';
export { KyselyWorkspaceStore, type WorkspaceTables } from './store/kysely.js';
export type { WorkspaceStore } from './store.js';
export {
  checkWorkspaceName,
  isWorkspaceName,
  MAX_DESCRIPTION_LENGTH,
  WORKSPACE_NAME_PATTERN,
  type Workspace,
} from './workspace.js';
