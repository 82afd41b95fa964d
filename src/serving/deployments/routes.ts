import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { DeploymentService, PageOptions } from './service.js';
import {
  CreateDeploymentBody,
  DeploymentEnvelope,
  DeploymentPageSchema,
  deploymentToWire,
  LiveStatusSchema,
  NameParams,
  PageQuery,
  PromoteBody,
  RevisionPageSchema,
  RollbackBody,
  revisionToWire,
  ShadowReportSchema,
  shadowReportToWire,
  statusToWire,
  UpdateDeploymentBody,
} from './wire.js';

const tags = ['deployments'];

/** What {@link deploymentRoutes} is registered with. */
export interface DeploymentRoutesOptions {
  service: DeploymentService;
}

function page(query: { max_results?: number; page_token?: string }): PageOptions {
  return {
    ...(query.max_results === undefined ? {} : { maxResults: query.max_results }),
    ...(query.page_token === undefined ? {} : { pageToken: query.page_token }),
  };
}

/** Lets `POST …/promote` and `…/rollback` come without a body: an absent body is `{}`. */
async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/**
 * The deployments REST surface: create a deployment (201; its models are loaded and warmed before
 * it is stored), read it with its live status, list, change strategy / targets / weights /
 * batching, promote, roll back, page through its revisions, read its shadow comparison, delete.
 * Bodies are snake_case like the rest of `/api/v1`; reads need `read`, changes `write`.
 *
 * @example
 * await app.register(deploymentRoutes, { prefix: '/api/v1/deployments', service: deployments });
 * // POST /api/v1/deployments { "name": "flights", "targets": [{ "model": "models:/flights@champion" },
 * //   { "model": "models:/flights/4", "role": "canary", "weight": 10 }] } → 201 { deployment }
 * // POST /api/v1/deployments/flights/promote {} → 200 { deployment } (models:/flights/4 is the primary)
 */
export const deploymentRoutes: FastifyPluginAsyncTypebox<DeploymentRoutesOptions> = async (app, { service }) => {
  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Create a deployment: check its models, load and warm them, then store revision 1',
        tags,
        body: CreateDeploymentBody,
        response: { 201: DeploymentEnvelope },
      },
    },
    async (request, reply) => {
      const view = await service.create(request.ctx, request.body);
      return reply.code(201).send({ deployment: deploymentToWire(view) });
    },
  );

  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: "List the workspace's deployments by name, with live status",
        tags,
        querystring: PageQuery,
        response: { 200: DeploymentPageSchema },
      },
    },
    async (request) => {
      const found = await service.list(request.ctx, page(request.query));
      return {
        deployments: found.items.map(deploymentToWire),
        ...(found.nextPageToken === undefined ? {} : { next_page_token: found.nextPageToken }),
      };
    },
  );

  app.get(
    '/:name',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'A deployment: its spec, current revision and live status',
        tags,
        params: NameParams,
        response: { 200: DeploymentEnvelope },
      },
    },
    async (request) => ({ deployment: deploymentToWire(await service.get(request.ctx, request.params.name)) }),
  );

  app.patch(
    '/:name',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Change strategy, targets, weights, batching or limits: applied, then stored as a new revision',
        tags,
        params: NameParams,
        body: UpdateDeploymentBody,
        response: { 200: DeploymentEnvelope },
      },
    },
    async (request) => ({
      deployment: deploymentToWire(await service.update(request.ctx, request.params.name, request.body)),
    }),
  );

  app.delete(
    '/:name',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Stop serving a deployment and delete it with its revisions',
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

  app.post(
    '/:name/promote',
    {
      config: { permission: 'write' },
      preValidation: emptyBodyAsObject,
      schema: {
        summary: 'Promote the canary, a shadow or an A/B variant to the single primary',
        tags,
        params: NameParams,
        body: PromoteBody,
        response: { 200: DeploymentEnvelope },
      },
    },
    async (request) => ({
      deployment: deploymentToWire(await service.promote(request.ctx, request.params.name, request.body.target)),
    }),
  );

  app.post(
    '/:name/rollback',
    {
      config: { permission: 'write' },
      preValidation: emptyBodyAsObject,
      schema: {
        summary: 'Make an earlier revision current again (default the previous one), as a new revision',
        tags,
        params: NameParams,
        body: RollbackBody,
        response: { 200: DeploymentEnvelope },
      },
    },
    async (request) => ({
      deployment: deploymentToWire(await service.rollback(request.ctx, request.params.name, request.body.revision)),
    }),
  );

  app.get(
    '/:name/revisions',
    {
      config: { permission: 'read' },
      schema: {
        summary: "A deployment's revisions, newest first: spec, reason and actor of each change",
        tags,
        params: NameParams,
        querystring: PageQuery,
        response: { 200: RevisionPageSchema },
      },
    },
    async (request) => {
      const found = await service.revisions(request.ctx, request.params.name, page(request.query));
      return {
        revisions: found.items.map(revisionToWire),
        ...(found.nextPageToken === undefined ? {} : { next_page_token: found.nextPageToken }),
      };
    },
  );

  app.get(
    '/:name/status',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Live status: per target the version serving, readiness, requests, errors, p50 / p99 latency',
        tags,
        params: NameParams,
        response: { 200: Type.Object({ status: LiveStatusSchema }) },
      },
    },
    async (request) => ({ status: statusToWire(await service.status(request.ctx, request.params.name)) }),
  );

  app.get(
    '/:name/shadow-report',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'How each shadow compared with the primary over the mirrored requests',
        tags,
        params: NameParams,
        response: { 200: Type.Object({ report: ShadowReportSchema }) },
      },
    },
    async (request) => ({ report: shadowReportToWire(await service.shadowReport(request.ctx, request.params.name)) }),
  );
};
