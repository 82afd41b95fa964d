import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { StudyService } from './study-service.js';
import {
  CreateStudyBody,
  StudyEnvelope,
  StudyPageSchema,
  studyToWire,
  TrialPageSchema,
  trialToWire,
} from './study-wire.js';

const tags = ['studies'];

const IdParams = Type.Object({ id: Type.String({ description: 'The study id (32 hex characters).' }) });
const PageQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size; default 100.' })),
  page_token: Type.Optional(Type.String()),
});

/** What {@link studyRoutes} is registered with. */
export interface StudyRoutesOptions {
  studies: StudyService;
}

function page(query: { max_results?: number; page_token?: string }) {
  return {
    ...(query.max_results === undefined ? {} : { maxResults: query.max_results }),
    ...(query.page_token === undefined ? {} : { pageToken: query.page_token }),
  };
}

/**
 * Hyper-parameter studies: create one (its trials start on the `tuning` queue), read its state,
 * counts and best trial, page through its trials, stop it, resume it.
 *
 * @example
 * await app.register(studyRoutes, { prefix: '/api/v1/studies', studies });
 * // POST /api/v1/studies { data: 'flights@1', target: 'delayed', task: 'binary', model: 'gbdt',
 * //   space: { max_depth: { type: 'int', low: 3, high: 10 } }, n_trials: 30 } → 201 { study }
 */
export const studyRoutes: FastifyPluginAsyncTypebox<StudyRoutesOptions> = async (app, { studies }) => {
  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Create a study: validate the spec, create its parent run and enqueue its first trials',
        tags,
        body: CreateStudyBody,
        response: { 201: StudyEnvelope },
      },
    },
    async (request, reply) =>
      reply.code(201).send({ study: studyToWire(await studies.create(request.ctx, request.body)) }),
  );

  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'List studies, newest first',
        tags,
        querystring: PageQuery,
        response: { 200: StudyPageSchema },
      },
    },
    async (request) => {
      const found = await studies.list(request.ctx, page(request.query));
      const views = await Promise.all(found.studies.map((study) => studies.get(request.ctx, study.id)));
      return {
        studies: views.map(studyToWire),
        ...(found.nextPageToken === undefined ? {} : { next_page_token: found.nextPageToken }),
      };
    },
  );

  app.get(
    '/:id',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Get a study: state, trial counts by state, best trial, registered model',
        tags,
        params: IdParams,
        response: { 200: StudyEnvelope },
      },
    },
    async (request) => ({ study: studyToWire(await studies.get(request.ctx, request.params.id)) }),
  );

  app.get(
    '/:id/trials',
    {
      config: { permission: 'read' },
      schema: {
        summary: "A study's trials in number order, paged",
        tags,
        params: IdParams,
        querystring: PageQuery,
        response: { 200: TrialPageSchema },
      },
    },
    async (request) => {
      const found = await studies.trials(request.ctx, request.params.id, page(request.query));
      return {
        trials: found.trials.map(trialToWire),
        ...(found.nextPageToken === undefined ? {} : { next_page_token: found.nextPageToken }),
      };
    },
  );

  app.post(
    '/:id/resume',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Resume a study: re-run trials no live job holds and enqueue trials up to its parallelism',
        tags,
        params: IdParams,
        response: { 200: StudyEnvelope },
      },
    },
    async (request) => ({ study: studyToWire(await studies.resume(request.ctx, request.params.id)) }),
  );

  app.post(
    '/:id/stop',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Stop a study: no new trials; trials in flight are cancelled',
        tags,
        params: IdParams,
        response: { 200: StudyEnvelope },
      },
    },
    async (request) => ({ study: studyToWire(await studies.stop(request.ctx, request.params.id)) }),
  );
};
