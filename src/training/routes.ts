import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { TrainingService } from './service.js';
import {
  JobEnvelope,
  JobListQuery,
  JobParams,
  jobToWire,
  requestFromWire,
  TrainingJobSchema,
  TrainingRequestSchema,
} from './wire.js';

const tags = ['training'];

/** What {@link trainingRoutes} is registered with. */
export interface TrainingRoutesOptions {
  service: TrainingService;
}

/**
 * The training-jobs REST surface: submit a job (202, checked against the data before it is
 * queued), follow one, list the workspace's jobs.
 *
 * @example
 * await app.register(trainingRoutes, { prefix: '/api/v1/training-jobs', service });
 * // POST /api/v1/training-jobs { "data": "penguins", "target": "species", "task": "classification", "model": "gbdt" } → 202 { job }
 */
export const trainingRoutes: FastifyPluginAsyncTypebox<TrainingRoutesOptions> = async (app, { service }) => {
  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: { summary: 'Submit a training job', tags, body: TrainingRequestSchema, response: { 202: JobEnvelope } },
    },
    async (request, reply) => {
      const job = await service.submit(request.ctx, requestFromWire(request.body));
      return reply.code(202).send({ job: jobToWire(job) });
    },
  );

  app.get(
    '/:id',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get a training job', tags, params: JobParams, response: { 200: JobEnvelope } },
    },
    async (request) => ({ job: jobToWire(await service.get(request.ctx, request.params.id)) }),
  );

  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'List training jobs, newest first, one page at a time',
        tags,
        querystring: JobListQuery,
        response: {
          200: Type.Object({ jobs: Type.Array(TrainingJobSchema), next_page_token: Type.Optional(Type.String()) }),
        },
      },
    },
    async (request) => {
      const page = await service.list(request.ctx, {
        ...(request.query.max_results === undefined ? {} : { maxResults: request.query.max_results }),
        ...(request.query.page_token === undefined ? {} : { pageToken: request.query.page_token }),
      });
      return {
        jobs: page.jobs.map(jobToWire),
        ...(page.nextPageToken === undefined ? {} : { next_page_token: page.nextPageToken }),
      };
    },
  );
};
