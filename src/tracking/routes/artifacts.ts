import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { type ArtifactFile, type ArtifactService, MAX_ARTIFACT_PAGE } from '../artifacts.js';
import {
  acceptRawBodies,
  closeOnFailure,
  DEFAULT_MAX_ARTIFACT_BYTES,
  openForReply,
  parseRange,
  sendArtifact,
  uploadBody,
} from './artifact-http.js';

const tags = ['artifacts'];
const RunParams = Type.Object({ run_id: Type.String({ description: 'The 32-hex run id.' }) });

/** An artifact listing entry on the wire; `file_size` is absent for directories. */
export const ArtifactFileSchema = Type.Object({
  path: Type.String({ description: "Relative to the run's artifact root." }),
  is_dir: Type.Boolean(),
  file_size: Type.Optional(Type.Integer()),
});

/** A listing entry in its wire form (MLflow's FileInfo). */
export function artifactFileToWire(file: ArtifactFile): { path: string; is_dir: boolean; file_size?: number } {
  return file.isDir ? { path: file.path, is_dir: true } : { path: file.path, is_dir: false, file_size: file.fileSize };
}

/**
 * The artifact path matched by a route's trailing `*`, e.g. `model/MLmodel`. It is left out of the
 * params schemas because TypeBox cannot compile a property named `*`.
 */
export function wildcard(params: unknown): string {
  const value = (params as Record<string, unknown>)['*'];
  return typeof value === 'string' ? value : '';
}

/** What {@link artifactRoutes} needs. */
export interface ArtifactRoutesOptions {
  service: ArtifactService;
  /** Largest upload in bytes; default {@link DEFAULT_MAX_ARTIFACT_BYTES} (5 GiB). */
  maxArtifactBytes?: number;
}

/**
 * Run artifacts over Kiln REST. Listing is one directory level per call, paged; download streams
 * the file (`Range: bytes=a-b` answers 206); upload streams the raw request body of any content
 * type, so artifacts are limited by `maxArtifactBytes` and not by the JSON body limit; delete
 * removes a file or a whole directory. Every path goes through the store's canonicalisation:
 * traversal in any encoding is 400 naming `path`. Mount under `/api/v1`.
 *
 * @example
 * await app.register(artifactRoutes, { prefix: '/api/v1', service: artifacts });
 * // PUT /api/v1/runs/<id>/artifacts/model/model.json   (raw body) → { path, file_size, sha256 }
 * // GET /api/v1/runs/<id>/artifacts?path=model         → { root_uri, files: [...], next_page_token? }
 */
export const artifactRoutes: FastifyPluginAsyncTypebox<ArtifactRoutesOptions> = async (app, options) => {
  const { service } = options;
  const maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  acceptRawBodies(app);

  app.get(
    '/runs/:run_id/artifacts',
    {
      config: { permission: 'read' },
      schema: {
        summary: "List one directory level of a run's artifacts",
        tags,
        params: RunParams,
        querystring: Type.Object({
          path: Type.Optional(Type.String({ description: 'Directory to list; default the root.' })),
          page_token: Type.Optional(Type.String()),
          max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ARTIFACT_PAGE })),
        }),
        response: {
          200: Type.Object({
            root_uri: Type.String(),
            files: Type.Array(ArtifactFileSchema),
            next_page_token: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const { path, page_token, max_results } = request.query;
      const listing = await service.list(request.ctx, request.params.run_id, path, {
        pageToken: page_token,
        maxResults: max_results,
      });
      return {
        root_uri: listing.rootUri,
        files: listing.files.map(artifactFileToWire),
        next_page_token: listing.nextPageToken,
      };
    },
  );

  app.get(
    '/runs/:run_id/artifacts/*',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Download an artifact (streamed; honours a single Range: bytes=a-b)',
        tags,
        params: RunParams,
      },
    },
    async (request, reply) => {
      const range = parseRange(request.headers.range, request.headers['if-range']);
      const download = await openForReply(reply, () =>
        service.open(request.ctx, request.params.run_id, wildcard(request.params), range),
      );
      return sendArtifact(reply, download);
    },
  );

  app.put(
    '/runs/:run_id/artifacts/*',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Upload an artifact: the raw request body, streamed, replacing any file at that path',
        tags,
        params: RunParams,
        response: {
          200: Type.Object({ path: Type.String(), file_size: Type.Integer(), sha256: Type.String() }),
        },
      },
    },
    async (request, reply) => {
      const stored = await closeOnFailure(reply, () =>
        service.put(request.ctx, request.params.run_id, wildcard(request.params), uploadBody(request, maxBytes)),
      );
      return { path: stored.path, file_size: stored.size, sha256: stored.sha256 };
    },
  );

  app.delete(
    '/runs/:run_id/artifacts/*',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Delete an artifact, or a directory with everything under it',
        tags,
        params: RunParams,
        response: { 200: Type.Object({ deleted: Type.Integer({ description: 'Files removed.' }) }) },
      },
    },
    async (request) => ({
      deleted: await service.delete(request.ctx, request.params.run_id, wildcard(request.params)),
    }),
  );
};
