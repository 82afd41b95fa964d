import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { WorkspaceService } from './service.js';
import { MAX_DESCRIPTION_LENGTH, type Workspace } from './workspace.js';

const WorkspaceSchema = Type.Object({
  name: Type.String({ description: 'Unique; lower-case letters, digits and hyphens.' }),
  description: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const WorkspaceEnvelope = Type.Object({ workspace: WorkspaceSchema });

const NameParams = Type.Object({
  name: Type.String({ description: 'The workspace name.' }),
});

const ListQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size; default 100.' })),
  page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
});

const CreateBody = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: '1 to 63 characters.' }),
    description: Type.Optional(Type.String({ maxLength: MAX_DESCRIPTION_LENGTH })),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  { description: Type.String({ maxLength: MAX_DESCRIPTION_LENGTH }) },
  { additionalProperties: false },
);

/** A workspace as it travels over HTTP: snake_case, like the rest of the REST API. */
export interface WorkspaceWire {
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

function toWire(workspace: Workspace): WorkspaceWire {
  return {
    name: workspace.name,
    description: workspace.description,
    created_at: workspace.createdAt,
    updated_at: workspace.updatedAt,
  };
}

/** What {@link workspaceRoutes} is registered with: the service its handlers call. */
export interface WorkspaceRoutesOptions {
  service: WorkspaceService;
}

const tags = ['workspaces'];

/**
 * The workspaces REST surface. Reading is open to every reader; creating, changing and deleting a
 * workspace are `admin` operations because they affect everyone in it.
 *
 * @example
 * await app.register(workspaceRoutes, { prefix: '/api/v1/workspaces', service });
 * // GET /api/v1/workspaces?max_results=10 → { workspaces: [...], next_page_token: '…' }
 */
export const workspaceRoutes: FastifyPluginAsyncTypebox<WorkspaceRoutesOptions> = async (app, { service }) => {
  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'List workspaces in name order, one page at a time',
        tags,
        querystring: ListQuery,
        response: {
          200: Type.Object({
            workspaces: Type.Array(WorkspaceSchema),
            next_page_token: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const page = await service.list(request.ctx, {
        maxResults: request.query.max_results,
        pageToken: request.query.page_token,
      });
      const body: { workspaces: WorkspaceWire[]; next_page_token?: string } = {
        workspaces: page.workspaces.map(toWire),
      };
      if (page.nextPageToken !== undefined) body.next_page_token = page.nextPageToken;
      return body;
    },
  );

  app.post(
    '',
    {
      config: { permission: 'admin' },
      schema: {
        summary: 'Create a workspace',
        tags,
        body: CreateBody,
        response: { 201: WorkspaceEnvelope },
      },
    },
    async (request, reply) => {
      const workspace = await service.create(request.ctx, request.body);
      return reply.code(201).send({ workspace: toWire(workspace) });
    },
  );

  app.get(
    '/:name',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get one workspace', tags, params: NameParams, response: { 200: WorkspaceEnvelope } },
    },
    async (request) => ({ workspace: toWire(await service.get(request.ctx, request.params.name)) }),
  );

  app.patch(
    '/:name',
    {
      config: { permission: 'admin' },
      schema: {
        summary: "Change a workspace's description",
        tags,
        params: NameParams,
        body: UpdateBody,
        response: { 200: WorkspaceEnvelope },
      },
    },
    async (request) => ({
      workspace: toWire(await service.update(request.ctx, request.params.name, request.body)),
    }),
  );

  app.delete(
    '/:name',
    {
      config: { permission: 'admin' },
      schema: {
        summary: "Delete a workspace (not 'default')",
        tags,
        params: NameParams,
        response: { 204: Type.Null({ description: 'Deleted' }) },
      },
    },
    async (request, reply) => {
      await service.delete(request.ctx, request.params.name);
      return reply.code(204).send(null);
    },
  );
};
