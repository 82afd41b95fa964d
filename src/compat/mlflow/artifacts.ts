import { Readable } from 'node:stream';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { invalidParameter, KilnError, type RequestContext } from '../../core/index.js';
import {
  type ArtifactFile,
  type ArtifactListing,
  type ArtifactService,
  acceptRawBodies,
  artifactFileToWire,
  closeOnFailure,
  DEFAULT_MAX_ARTIFACT_BYTES,
  openForReply,
  parseRange,
  sendArtifact,
  uploadBody,
  wildcard,
} from '../../tracking/index.js';

/** MLflow mounts every REST path twice: for clients and for its web UI. */
const BASES = ['/api/2.0', '/ajax-api/2.0'] as const;

/** What {@link mlflowArtifactRoutes} needs. */
export interface MlflowArtifactRoutesOptions {
  artifacts: ArtifactService;
  /** Largest upload in bytes; default 5 GiB, as on the Kiln routes. */
  maxArtifactBytes?: number;
}

/**
 * MLflow's artifact proxy (`mlflow server --serve-artifacts`) and `artifacts/list`, over Kiln's
 * run artifacts. The stock client turns a run's `mlflow-artifacts:/<exp>/<run>/artifacts` URI into
 * `PUT|GET|DELETE /api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/<file>` and lists with
 * `GET /api/2.0/mlflow-artifacts/artifacts?path=<exp>/<run>/artifacts/<dir>`
 * (mlflow-client-wire.md). Unlike MLflow, which proxies any path under its destination, each proxy
 * path must name an existing run of the caller's workspace whose artifact URI is that prefix; the
 * rest is canonicalised like every artifact path, so traversal in any encoding is 400 naming `path`.
 *
 * Shapes follow MLflow: upload and delete answer `{}`; a proxy listing answers
 * `{files: [{path: <base name>, is_dir, file_size}]}` (`file_size` omitted for directories, `{}`
 * when empty, streamed in full because the client does not page); `artifacts/list` answers
 * `{root_uri, files, next_page_token}` with paths relative to the run's root, 1000 per page.
 * Like the rest of the MLflow adapter, the routes stay out of Kiln's OpenAPI description.
 *
 * @example
 * await app.register(mlflowArtifactRoutes, { artifacts }); // no prefix: it mounts /api/2.0 and /ajax-api/2.0
 */
export const mlflowArtifactRoutes: FastifyPluginAsyncTypebox<MlflowArtifactRoutesOptions> = async (app, options) => {
  const { artifacts } = options;
  const maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  acceptRawBodies(app);

  for (const base of BASES) {
    const proxy = `${base}/mlflow-artifacts/artifacts`;

    app.get(
      proxy,
      {
        config: { permission: 'read' },
        schema: {
          hide: true,
          summary: 'MLflow artifact proxy: list one directory level',
          querystring: Type.Object({ path: Type.Optional(Type.String()) }),
        },
      },
      async (request, reply) => {
        const path = request.query.path;
        if (path === undefined || path === '') {
          throw invalidParameter('path', 'is required: <experiment_id>/<run_id>/artifacts[/<dir>]');
        }
        const { runId, path: inside } = await artifacts.locate(request.ctx, path);
        const first = await artifacts.list(request.ctx, runId, inside);
        if (first.nextPageToken === undefined) {
          return first.files.length === 0 ? {} : { files: first.files.map(proxyEntry) };
        }
        const body = Readable.from(streamListing(artifacts, request.ctx, runId, inside, first));
        return reply.type('application/json; charset=utf-8').send(body);
      },
    );

    app.get(
      `${proxy}/*`,
      { config: { permission: 'read' }, schema: { hide: true, summary: 'MLflow artifact proxy: download' } },
      async (request, reply) => {
        const range = parseRange(request.headers.range, request.headers['if-range']);
        const download = await openForReply(reply, async () => {
          const { runId, path } = await artifacts.locate(request.ctx, wildcard(request.params));
          return artifacts.open(request.ctx, runId, path, range);
        });
        return sendArtifact(reply, download);
      },
    );

    app.put(
      `${proxy}/*`,
      {
        config: { permission: 'write' },
        schema: { hide: true, summary: 'MLflow artifact proxy: upload the raw body' },
      },
      async (request, reply) => {
        await closeOnFailure(reply, async () => {
          const { runId, path } = await artifacts.locate(request.ctx, wildcard(request.params));
          return artifacts.put(request.ctx, runId, path, uploadBody(request, maxBytes));
        });
        return {};
      },
    );

    app.delete(
      `${proxy}/*`,
      {
        config: { permission: 'write' },
        schema: { hide: true, summary: 'MLflow artifact proxy: delete a file or directory' },
      },
      async (request) => {
        const { runId, path } = await artifacts.locate(request.ctx, wildcard(request.params));
        await artifacts.delete(request.ctx, runId, path).catch((error: unknown) => {
          // MLflow deletes idempotently: nothing there is not an error.
          if (!(error instanceof KilnError && error.code === 'RESOURCE_DOES_NOT_EXIST')) throw error;
        });
        return {};
      },
    );

    app.get(
      `${base}/mlflow/artifacts/list`,
      {
        config: { permission: 'read' },
        schema: {
          hide: true,
          summary: "MLflow: list one directory level of a run's artifacts",
          querystring: Type.Object({
            run_id: Type.Optional(Type.String()),
            run_uuid: Type.Optional(Type.String()),
            path: Type.Optional(Type.String()),
            page_token: Type.Optional(Type.String()),
          }),
        },
      },
      async (request) => {
        const { run_id, run_uuid, path, page_token } = request.query;
        const runId = run_id || run_uuid;
        if (runId === undefined || runId === '') throw invalidParameter('run_id', 'is required');
        const listing = await artifacts.list(request.ctx, runId, path ?? '', { pageToken: page_token });
        return listResponse(artifacts, listing);
      },
    );
  }
};

/** `artifacts/list` in MLflow's proto3 JSON: empty `files` and absent token omitted. */
function listResponse(artifacts: ArtifactService, listing: ArtifactListing): Record<string, unknown> {
  const response: Record<string, unknown> = { root_uri: artifacts.toProxyUri(listing.rootUri) };
  if (listing.files.length > 0) response.files = listing.files.map(artifactFileToWire);
  if (listing.nextPageToken !== undefined) response.next_page_token = listing.nextPageToken;
  return response;
}

/** A proxy listing entry: MLflow names it by its base name, relative to the listed directory. */
function proxyEntry(file: ArtifactFile): { path: string; is_dir: boolean; file_size?: number } {
  return artifactFileToWire({ ...file, path: file.path.slice(file.path.lastIndexOf('/') + 1) });
}

/**
 * The whole listing of a large directory as JSON text, one page at a time, so a directory with
 * many thousands of entries costs one page of memory.
 */
async function* streamListing(
  artifacts: ArtifactService,
  ctx: RequestContext,
  runId: string,
  path: string,
  first: ArtifactListing,
): AsyncGenerator<string> {
  let page = first;
  let separator = '{"files":[';
  for (;;) {
    for (const file of page.files) {
      yield `${separator}${JSON.stringify(proxyEntry(file))}`;
      separator = ',';
    }
    if (page.nextPageToken === undefined) break;
    page = await artifacts.list(ctx, runId, path, { pageToken: page.nextPageToken });
  }
  yield separator === ',' ? ']}' : '{}';
}
