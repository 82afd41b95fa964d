import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { ExperimentService } from '../experiments-service.js';
import { MAX_SEARCH_RESULTS } from '../paging.js';
import { ExperimentSchema, experimentToWire, listOf, RepeatedString, TagSchema } from './wire.js';

const tags = ['experiments'];
const Envelope = Type.Object({ experiment: ExperimentSchema });
const IdParams = Type.Object({ experiment_id: Type.String({ description: 'A decimal experiment id, e.g. "0".' }) });
const NoContent = { 204: Type.Null({ description: 'Done' }) };

/**
 * Experiments over HTTP: list/search, create, get (by id or name), rename, soft delete, restore,
 * and tags. Tag keys may contain `/`, so they travel in the body or the query, not the path.
 *
 * @example
 * await app.register(experimentRoutes, { prefix: '/api/v1', service });
 * // GET /api/v1/experiments?filter=name LIKE 'churn%'&order_by=name → { experiments: [...] }
 */
export const experimentRoutes: FastifyPluginAsyncTypebox<{ service: ExperimentService }> = async (app, { service }) => {
  app.get(
    '/experiments',
    {
      config: { permission: 'read' },
      schema: {
        summary: "Search the workspace's experiments with MLflow's filter language",
        tags,
        querystring: Type.Object({
          filter: Type.Optional(Type.String({ description: "e.g. name LIKE 'churn%' AND tags.team = 'risk'" })),
          order_by: Type.Optional(RepeatedString),
          view_type: Type.Optional(Type.String({ enum: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] })),
          max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEARCH_RESULTS })),
          page_token: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Object({
            experiments: Type.Array(ExperimentSchema),
            next_page_token: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await service.search(request.ctx, {
        filter: q.filter,
        orderBy: listOf(q.order_by),
        viewType: q.view_type,
        maxResults: q.max_results,
        pageToken: q.page_token,
      });
      return { experiments: page.experiments.map(experimentToWire), next_page_token: page.nextPageToken };
    },
  );

  app.post(
    '/experiments',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Create an experiment',
        tags,
        body: Type.Object(
          {
            name: Type.String(),
            artifact_location: Type.Optional(
              Type.String({ description: 'mlflow-artifacts:/<path>, or a URL under the artifact root.' }),
            ),
            tags: Type.Optional(Type.Array(TagSchema)),
          },
          { additionalProperties: false },
        ),
        response: { 201: Envelope },
      },
    },
    async (request, reply) => {
      const { name, artifact_location, tags: experimentTags } = request.body;
      const experiment = await service.create(request.ctx, {
        name,
        artifactLocation: artifact_location,
        tags: experimentTags,
      });
      return reply.code(201).send({ experiment: experimentToWire(experiment) });
    },
  );

  app.get(
    '/experiments/by-name/:name',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Get an experiment by name',
        tags,
        params: Type.Object({ name: Type.String() }),
        response: { 200: Envelope },
      },
    },
    async (request) => ({ experiment: experimentToWire(await service.getByName(request.ctx, request.params.name)) }),
  );

  app.get(
    '/experiments/:experiment_id',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get an experiment, deleted ones too', tags, params: IdParams, response: { 200: Envelope } },
    },
    async (request) => ({ experiment: experimentToWire(await service.get(request.ctx, request.params.experiment_id)) }),
  );

  app.patch(
    '/experiments/:experiment_id',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Rename an active experiment',
        tags,
        params: IdParams,
        body: Type.Object({ name: Type.String() }, { additionalProperties: false }),
        response: { 200: Envelope },
      },
    },
    async (request) => ({
      experiment: experimentToWire(await service.rename(request.ctx, request.params.experiment_id, request.body.name)),
    }),
  );

  app.delete(
    '/experiments/:experiment_id',
    {
      config: { permission: 'write' },
      schema: { summary: 'Soft-delete an experiment and its runs', tags, params: IdParams, response: NoContent },
    },
    async (request, reply) => {
      await service.delete(request.ctx, request.params.experiment_id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/experiments/:experiment_id/restore',
    {
      config: { permission: 'write' },
      schema: { summary: 'Restore a deleted experiment and its runs', tags, params: IdParams, response: NoContent },
    },
    async (request, reply) => {
      await service.restore(request.ctx, request.params.experiment_id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/experiments/:experiment_id/tags',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Set a tag on an active experiment',
        tags,
        params: IdParams,
        body: Type.Object({ key: Type.String(), value: Type.String() }, { additionalProperties: false }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      await service.setTag(request.ctx, request.params.experiment_id, request.body.key, request.body.value);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/experiments/:experiment_id/tags',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Remove a tag from an active experiment',
        tags,
        params: IdParams,
        querystring: Type.Object({ key: Type.String() }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      await service.deleteTag(request.ctx, request.params.experiment_id, request.query.key);
      return reply.code(204).send(null);
    },
  );
};
