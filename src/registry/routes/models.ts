import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { MAX_MODEL_PAGE_SIZE } from '../models.js';
import type { RegistryService } from '../service.js';
import {
  EventSchema,
  eventToWire,
  ModelVersionSchema,
  modelToWire,
  NameParams,
  orderList,
  RegisteredModelSchema,
  searchInput,
  searchQuery,
  TagSchema,
  versionToWire,
} from './wire.js';

const tags = ['models'];
const ModelEnvelope = Type.Object({ registered_model: RegisteredModelSchema });
const VersionEnvelope = Type.Object({ model_version: ModelVersionSchema });
const NoContent = { 204: Type.Null({ description: 'Done' }) };
const TagParams = Type.Object({ name: Type.String(), key: Type.String() });
const AliasParams = Type.Object({ name: Type.String(), alias: Type.String() });

const CreateBody = Type.Object(
  {
    name: Type.String({ description: 'Unique in the workspace; no / \\ @ # ? %.' }),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(TagSchema)),
  },
  { additionalProperties: false },
);

/**
 * Registered models, their tags, aliases and events. Reading needs `read`; changing needs
 * `write`, except deleting a model, which takes `admin` (MLflow asks MANAGE for it).
 */
export const modelRoutes: FastifyPluginAsyncTypebox<{ service: RegistryService }> = async (app, { service }) => {
  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Search registered models (MLflow filter and order_by)',
        tags,
        querystring: searchQuery(MAX_MODEL_PAGE_SIZE),
        response: {
          200: Type.Object({
            registered_models: Type.Array(RegisteredModelSchema),
            next_page_token: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const page = await service.searchRegisteredModels(request.ctx, searchInput(request.query));
      const body = { registered_models: page.items.map(modelToWire) };
      return page.nextPageToken === undefined ? body : { ...body, next_page_token: page.nextPageToken };
    },
  );

  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: { summary: 'Register a model name', tags, body: CreateBody, response: { 201: ModelEnvelope } },
    },
    async (request, reply) => {
      const model = await service.createRegisteredModel(request.ctx, request.body);
      return reply.code(201).send({ registered_model: modelToWire(model) });
    },
  );

  app.get(
    '/:name',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get a registered model', tags, params: NameParams, response: { 200: ModelEnvelope } },
    },
    async (request) => ({
      registered_model: modelToWire(await service.getRegisteredModel(request.ctx, request.params.name)),
    }),
  );

  app.patch(
    '/:name',
    {
      config: { permission: 'write' },
      schema: {
        summary: "Change a registered model's description",
        tags,
        params: NameParams,
        body: Type.Object({ description: Type.String() }, { additionalProperties: false }),
        response: { 200: ModelEnvelope },
      },
    },
    async (request) => ({
      registered_model: modelToWire(
        await service.updateRegisteredModel(request.ctx, request.params.name, request.body),
      ),
    }),
  );

  app.post(
    '/:name/rename',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Rename a registered model; versions, tags and aliases follow',
        tags,
        params: NameParams,
        body: Type.Object({ new_name: Type.String() }, { additionalProperties: false }),
        response: { 200: ModelEnvelope },
      },
    },
    async (request) => {
      const model = await service.renameRegisteredModel(request.ctx, request.params.name, request.body.new_name);
      return { registered_model: modelToWire(model) };
    },
  );

  app.delete(
    '/:name',
    {
      config: { permission: 'admin' },
      schema: {
        summary: 'Delete a registered model with all its versions, tags and aliases',
        tags,
        params: NameParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await service.deleteRegisteredModel(request.ctx, request.params.name);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/:name/tags/:key',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Set a tag on a registered model',
        tags,
        params: TagParams,
        body: Type.Object({ value: Type.String() }, { additionalProperties: false }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      const { name, key } = request.params;
      await service.setRegisteredModelTag(request.ctx, name, key, request.body.value);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/:name/tags/:key',
    {
      config: { permission: 'write' },
      schema: { summary: 'Delete a tag of a registered model', tags, params: TagParams, response: NoContent },
    },
    async (request, reply) => {
      await service.deleteRegisteredModelTag(request.ctx, request.params.name, request.params.key);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:name/latest-versions',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Newest version per stage (MLflow compatibility; prefer aliases)',
        tags,
        params: NameParams,
        querystring: Type.Object({ stages: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) }),
        response: { 200: Type.Object({ model_versions: Type.Array(ModelVersionSchema) }) },
      },
    },
    async (request) => {
      const stages = orderList(request.query.stages);
      const versions = await service.getLatestVersions(request.ctx, request.params.name, stages);
      return { model_versions: versions.map(versionToWire) };
    },
  );

  app.put(
    '/:name/aliases/:alias',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Point an alias at a version, creating or atomically moving it',
        tags,
        params: AliasParams,
        body: Type.Object({ version: Type.Union([Type.Integer(), Type.String()]) }, { additionalProperties: false }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      const { name, alias } = request.params;
      await service.setAlias(request.ctx, name, alias, request.body.version);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:name/aliases/:alias',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'The version an alias points at',
        tags,
        params: AliasParams,
        response: { 200: VersionEnvelope },
      },
    },
    async (request) => {
      const version = await service.getModelVersionByAlias(request.ctx, request.params.name, request.params.alias);
      return { model_version: versionToWire(version) };
    },
  );

  app.delete(
    '/:name/aliases/:alias',
    {
      config: { permission: 'write' },
      schema: { summary: 'Delete an alias', tags, params: AliasParams, response: NoContent },
    },
    async (request, reply) => {
      await service.deleteAlias(request.ctx, request.params.name, request.params.alias);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:name/events',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Registry events about a model, oldest first, for consumers that poll',
        tags,
        params: NameParams,
        querystring: Type.Object({
          after_id: Type.Optional(Type.Integer({ minimum: 0, description: 'Last event id already seen.' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: { 200: Type.Object({ events: Type.Array(EventSchema) }) },
      },
    },
    async (request) => {
      const { after_id: afterId, limit } = request.query;
      const events = await service.listEvents(request.ctx, {
        model: request.params.name,
        ...(afterId === undefined ? {} : { afterId }),
        ...(limit === undefined ? {} : { limit }),
      });
      return { events: events.map(eventToWire) };
    },
  );
};
