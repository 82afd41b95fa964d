import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { RegistryService } from '../service.js';
import { MAX_VERSION_RESULTS } from '../versions.js';
import {
  ModelVersionSchema,
  NameParams,
  SignatureSchema,
  searchInput,
  searchQuery,
  TagSchema,
  VersionParams,
  versionToWire,
} from './wire.js';

const tags = ['models'];
const VersionEnvelope = Type.Object({ model_version: ModelVersionSchema });
const NoContent = { 204: Type.Null({ description: 'Done' }) };
const VersionTagParams = Type.Object({ name: Type.String(), version: Type.String(), key: Type.String() });

const CreateBody = Type.Object(
  {
    source: Type.String({
      description:
        'runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, mlflow-artifacts:/…, ' +
        's3://…, or a path inside the artifact root.',
    }),
    run_id: Type.Optional(Type.String()),
    run_link: Type.Optional(Type.String({ description: 'An http(s) link to the run.' })),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(TagSchema)),
    signature: Type.Optional(SignatureSchema),
  },
  { additionalProperties: false },
);

/** The filter of one model's versions: its name, then the caller's conditions (AND-only grammar). */
function scopedFilter(name: string, filter: string | undefined): string {
  const own = `name = '${name.replaceAll("'", "''")}'`;
  return filter === undefined || filter.trim() === '' ? own : `${own} AND ${filter}`;
}

/** The versions of a registered model. Reads need `read`, changes `write`, deleting a version `admin`. */
export const versionRoutes: FastifyPluginAsyncTypebox<{ service: RegistryService }> = async (app, { service }) => {
  app.get(
    '/:name/versions',
    {
      config: { permission: 'read' },
      schema: {
        summary: "Search a model's versions (MLflow filter and order_by)",
        tags,
        params: NameParams,
        querystring: searchQuery(MAX_VERSION_RESULTS),
        response: {
          200: Type.Object({
            model_versions: Type.Array(ModelVersionSchema),
            next_page_token: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      await service.getRegisteredModel(request.ctx, request.params.name);
      const input = { ...searchInput(request.query), filter: scopedFilter(request.params.name, request.query.filter) };
      const page = await service.searchModelVersions(request.ctx, input);
      const body = { model_versions: page.items.map(versionToWire) };
      return page.nextPageToken === undefined ? body : { ...body, next_page_token: page.nextPageToken };
    },
  );

  app.post(
    '/:name/versions',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Register a new version of a model',
        tags,
        params: NameParams,
        body: CreateBody,
        response: { 201: VersionEnvelope },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const version = await service.createModelVersion(request.ctx, {
        name: request.params.name,
        source: b.source,
        ...(b.run_id === undefined ? {} : { runId: b.run_id }),
        ...(b.run_link === undefined ? {} : { runLink: b.run_link }),
        ...(b.description === undefined ? {} : { description: b.description }),
        ...(b.tags === undefined ? {} : { tags: b.tags }),
        ...(b.signature === undefined ? {} : { signature: b.signature }),
      });
      return reply.code(201).send({ model_version: versionToWire(version) });
    },
  );

  app.get(
    '/:name/versions/:version',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get a model version', tags, params: VersionParams, response: { 200: VersionEnvelope } },
    },
    async (request) => {
      const { name, version } = request.params;
      return { model_version: versionToWire(await service.getModelVersion(request.ctx, name, version)) };
    },
  );

  app.patch(
    '/:name/versions/:version',
    {
      config: { permission: 'write' },
      schema: {
        summary: "Change a version's description",
        tags,
        params: VersionParams,
        body: Type.Object({ description: Type.String() }, { additionalProperties: false }),
        response: { 200: VersionEnvelope },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      const updated = await service.updateModelVersion(request.ctx, name, version, request.body);
      return { model_version: versionToWire(updated) };
    },
  );

  app.delete(
    '/:name/versions/:version',
    {
      config: { permission: 'admin' },
      schema: { summary: 'Delete a version and the aliases at it', tags, params: VersionParams, response: NoContent },
    },
    async (request, reply) => {
      await service.deleteModelVersion(request.ctx, request.params.name, request.params.version);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/:name/versions/:version/tags/:key',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Set a tag on a version',
        tags,
        params: VersionTagParams,
        body: Type.Object({ value: Type.String() }, { additionalProperties: false }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      const { name, version, key } = request.params;
      await service.setModelVersionTag(request.ctx, name, version, key, request.body.value);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/:name/versions/:version/tags/:key',
    {
      config: { permission: 'write' },
      schema: { summary: 'Delete a tag of a version', tags, params: VersionTagParams, response: NoContent },
    },
    async (request, reply) => {
      const { name, version, key } = request.params;
      await service.deleteModelVersionTag(request.ctx, name, version, key);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/:name/versions/:version/stage',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Move a version to an MLflow stage (compatibility; prefer aliases)',
        tags,
        params: VersionParams,
        body: Type.Object(
          { stage: Type.String(), archive_existing_versions: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: VersionEnvelope },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      const { stage, archive_existing_versions: archive } = request.body;
      const moved = await service.transitionModelVersionStage(request.ctx, name, version, stage, {
        archiveExistingVersions: archive ?? false,
      });
      return { model_version: versionToWire(moved) };
    },
  );

  app.get(
    '/:name/versions/:version/download-uri',
    {
      config: { permission: 'read' },
      schema: {
        summary: "Where the version's files can be downloaded",
        tags,
        params: VersionParams,
        response: { 200: Type.Object({ artifact_uri: Type.String() }) },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      return { artifact_uri: await service.getModelVersionDownloadUri(request.ctx, name, version) };
    },
  );
};
