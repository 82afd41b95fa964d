import type { RequestContext } from '../../core/index.js';
import type { RegistryService } from '../../registry/index.js';
import type { TrackingServices } from '../../tracking/index.js';
import type { RequestFields } from './fields.js';
import type { JsonObject, PresentUri } from './wire.js';

/**
 * How artifact URIs are shown to MLflow clients: tracking's artifact service maps URIs inside
 * Kiln's store to `mlflow-artifacts:/<key>`, so that the stock client uploads and downloads
 * through the server's proxy routes instead of writing to the server's disk or bucket itself.
 */
export interface ArtifactUriMapper {
  toProxyUri(uri: string): string;
}

/**
 * The Kiln services the MLflow adapter translates to. Declared here rather than borrowed from the
 * server, so the adapter depends only on the domain contexts. Without `artifacts`, artifact URIs
 * are shown as stored.
 */
export interface MlflowServices {
  tracking: TrackingServices;
  registry: RegistryService;
  artifacts?: ArtifactUriMapper;
}

/** What an endpoint's handler gets: the request's fields and the caller's context. */
export interface MlflowCall {
  fields: RequestFields;
  ctx: RequestContext;
}

/**
 * One MLflow REST endpoint, independent of the prefix it is mounted under: its method and path
 * after `/mlflow` (as in MLflow's protos), the permission it needs, and the handler that answers
 * with the JSON object MLflow would send (`{}` for writes).
 *
 * @example
 * const getExperiment: MlflowEndpoint = {
 *   method: 'GET', path: '/experiments/get', permission: 'read',
 *   handle: async ({ fields, ctx }) => ({ experiment: … }),
 * };
 */
export interface MlflowEndpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  permission: 'read' | 'write';
  /** Largest body accepted and the error for a larger one, where MLflow sets its own limit. */
  bodyLimit?: { bytes: number; tooLarge(size: number): Error };
  handle(call: MlflowCall): Promise<JsonObject>;
}

/** What the endpoint groups are built from: the services, and how to show artifact URIs. */
export interface EndpointDeps {
  tracking: TrackingServices;
  registry: RegistryService;
  present: PresentUri;
}

/** The answer of every MLflow write endpoint. */
export const EMPTY: JsonObject = Object.freeze({}) as JsonObject;
