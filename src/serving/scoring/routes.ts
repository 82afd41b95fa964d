import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { ScoringService } from './service.js';
import {
  ScoringJobEnvelope,
  ScoringJobListQuery,
  ScoringJobParams,
  ScoringJobSchema,
  ScoringRequestSchema,
  scoringJobToWire,
} from './wire.js';

const tags = ['scoring'];

/** What {@link scoringRoutes} is registered with. */
export interface ScoringRoutesOptions {
  service: ScoringService;
}

/**
 * The batch-scoring REST surface: submit a job (202; the model, data and columns are checked
 * before it is queued), follow one, list the workspace's jobs.
 *
 * @example
 * await app.register(scoringRoutes, { prefix: '/api/v1/scoring-jobs', service });
 * // POST /api/v1/scoring-jobs { "model": "models:/flights@champion", "data": "flights@4", "out": "scored" } → 202 { job }
 */
export const scoringRoutes: FastifyPluginAsyncTypebox<ScoringRoutesOptions> = async (app, { service }) => {
  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Score a dataset version with a registered model, on the queue',
        tags,
        body: ScoringRequestSchema,
        response: { 202: ScoringJobEnvelope },
      },
    },
    async (request, reply) => {
      const { chunk_rows, ...rest } = request.body;
      const job = await service.submit(request.ctx, {
        ...rest,
        ...(chunk_rows === undefined ? {} : { chunkRows: chunk_rows }),
      });
      return reply.code(202).send({ job: scoringJobToWire(job) });
    },
  );

  app.get(
    '/:id',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get a scoring job', tags, params: ScoringJobParams, response: { 200: ScoringJobEnvelope } },
    },
    async (request) => ({ job: scoringJobToWire(await service.get(request.ctx, request.params.id)) }),
  );

  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'List scoring jobs, newest first, one page at a time',
        tags,
        querystring: ScoringJobListQuery,
        response: {
          200: Type.Object({ jobs: Type.Array(ScoringJobSchema), next_page_token: Type.Optional(Type.String()) }),
        },
      },
    },
    async (request) => {
      const page = await service.list(request.ctx, {
        ...(request.query.max_results === undefined ? {} : { maxResults: request.query.max_results }),
        ...(request.query.page_token === undefined ? {} : { pageToken: request.query.page_token }),
      });
      return {
        jobs: page.jobs.map(scoringJobToWire),
        ...(page.nextPageToken === undefined ? {} : { next_page_token: page.nextPageToken }),
      };
    },
  );
};
