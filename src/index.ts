/**
 * The `kiln` package: the typed client for a Kiln server, and the error type it throws.
 *
 * @example
 * import { KilnClient, KilnError } from 'kiln';
 * const kiln = new KilnClient({ baseUrl: 'http://127.0.0.1:5000' });
 * try {
 *   await kiln.workspaces.get('fraud');
 * } catch (err) {
 *   if (err instanceof KilnError && err.code === 'RESOURCE_DOES_NOT_EXIST') console.log('no such workspace');
 * }
 */
export { type ErrorBody, type ErrorCode, type ErrorDetails, KILN_VERSION, KilnError } from './core/index.js';
export {
  KilnClient,
  type KilnClientOptions,
  type ListWorkspacesParams,
  type LiveStatus,
  type QueryParams,
  type ReadyStatus,
  type RequestOptions,
  type VersionInfo,
  type Workspace,
  type WorkspaceList,
  WorkspacesApi,
} from './sdk/index.js';
