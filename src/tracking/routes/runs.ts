import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { MAX_SEARCH_RESULTS } from '../paging.js';
import { MAX_DOWNSAMPLED_POINTS, type RunDataService } from '../run-data-service.js';
import type { RunService } from '../runs-service.js';
import {
  DatasetInputSchema,
  datasetInputFromWire,
  MetricSchema,
  MetricValueSchema,
  metricToWire,
  RunInfoSchema,
  RunSchema,
  runInfoToWire,
  runToWire,
  TagSchema,
  valueFromWire,
} from './wire.js';

const tags = ['runs'];
const RunEnvelope = Type.Object({ run: RunSchema });
const IdParams = Type.Object({ run_id: Type.String({ description: 'The 32-hex run id.' }) });
const NoContent = { 204: Type.Null({ description: 'Done' }) };

const BatchBody = Type.Object(
  {
    metrics: Type.Optional(
      Type.Array(
        Type.Object({
          key: Type.String(),
          value: MetricValueSchema,
          timestamp: Type.Integer(),
          step: Type.Optional(Type.Integer()),
        }),
      ),
    ),
    params: Type.Optional(Type.Array(TagSchema)),
    tags: Type.Optional(Type.Array(TagSchema)),
  },
  { additionalProperties: false },
);

/** What `runRoutes` needs: the run and run-data services. */
export interface RunRoutesOptions {
  runs: RunService;
  runData: RunDataService;
}

/**
 * Runs over HTTP: create, get, update, soft delete, restore, tags, search, batch logging of
 * metrics, params and tags, dataset inputs, and metric history — paged, or downsampled for charts
 * with `?max_points=`.
 *
 * @example
 * await app.register(runRoutes, { prefix: '/api/v1', runs, runData });
 * // POST /api/v1/runs/<id>/log-batch { "metrics": [{ "key": "loss", "value": 0.3, "timestamp": 1, "step": 0 }] } → 204
 */
export const runRoutes: FastifyPluginAsyncTypebox<RunRoutesOptions> = async (app, { runs, runData }) => {
  app.post(
    '/runs',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Start a run in an experiment',
        tags,
        body: Type.Object(
          {
            experiment_id: Type.String(),
            run_name: Type.Optional(Type.String()),
            start_time: Type.Optional(Type.Integer({ description: 'Epoch ms; default now.' })),
            tags: Type.Optional(Type.Array(TagSchema)),
            user_id: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 201: RunEnvelope },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const run = await runs.create(request.ctx, {
        experimentId: b.experiment_id,
        runName: b.run_name,
        startTime: b.start_time,
        tags: b.tags,
        userId: b.user_id,
      });
      return reply.code(201).send({ run: runToWire(run) });
    },
  );

  app.post(
    '/runs/search',
    {
      config: { permission: 'read' },
      schema: {
        summary: "Search runs of experiments with MLflow's filter and order_by",
        tags,
        body: Type.Object(
          {
            experiment_ids: Type.Array(Type.String()),
            filter: Type.Optional(Type.String()),
            order_by: Type.Optional(Type.Array(Type.String())),
            run_view_type: Type.Optional(Type.String({ enum: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] })),
            max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEARCH_RESULTS })),
            page_token: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ runs: Type.Array(RunSchema), next_page_token: Type.Optional(Type.String()) }) },
      },
    },
    async (request) => {
      const b = request.body;
      const page = await runs.search(request.ctx, {
        experimentIds: b.experiment_ids,
        filter: b.filter,
        orderBy: b.order_by,
        runViewType: b.run_view_type,
        maxResults: b.max_results,
        pageToken: b.page_token,
      });
      return { runs: page.runs.map(runToWire), next_page_token: page.nextPageToken };
    },
  );

  app.get(
    '/runs/:run_id',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get a run with its data and inputs', tags, params: IdParams, response: { 200: RunEnvelope } },
    },
    async (request) => ({ run: runToWire(await runs.get(request.ctx, request.params.run_id)) }),
  );

  app.patch(
    '/runs/:run_id',
    {
      config: { permission: 'write' },
      schema: {
        summary: "Change an active run's status, end time or name",
        tags,
        params: IdParams,
        body: Type.Object(
          {
            status: Type.Optional(Type.String({ enum: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] })),
            end_time: Type.Optional(Type.Integer()),
            run_name: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ run_info: RunInfoSchema }) },
      },
    },
    async (request) => {
      const b = request.body;
      const info = await runs.update(request.ctx, request.params.run_id, {
        status: b.status,
        endTime: b.end_time,
        runName: b.run_name,
      });
      return { run_info: runInfoToWire(info) };
    },
  );

  app.delete(
    '/runs/:run_id',
    {
      config: { permission: 'write' },
      schema: { summary: 'Soft-delete a run', tags, params: IdParams, response: NoContent },
    },
    async (request, reply) => {
      await runs.delete(request.ctx, request.params.run_id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/runs/:run_id/restore',
    {
      config: { permission: 'write' },
      schema: { summary: 'Restore a deleted run', tags, params: IdParams, response: NoContent },
    },
    async (request, reply) => {
      await runs.restore(request.ctx, request.params.run_id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/runs/:run_id/tags',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Set a tag on an active run',
        tags,
        params: IdParams,
        body: Type.Object({ key: Type.String(), value: Type.String() }, { additionalProperties: false }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      await runs.setTag(request.ctx, request.params.run_id, request.body.key, request.body.value);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/runs/:run_id/tags',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Remove a tag from an active run',
        tags,
        params: IdParams,
        querystring: Type.Object({ key: Type.String() }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      await runs.deleteTag(request.ctx, request.params.run_id, request.query.key);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/runs/:run_id/log-batch',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Log metrics, params and tags in one transaction (MLflow limits: 1000 / 100 / 100)',
        tags,
        params: IdParams,
        body: BatchBody,
        response: NoContent,
      },
    },
    async (request, reply) => {
      const b = request.body;
      const metrics = b.metrics?.map((m) => ({
        key: m.key,
        value: valueFromWire(m.value),
        timestamp: m.timestamp,
        step: m.step,
      }));
      await runData.logBatch(request.ctx, request.params.run_id, { metrics, params: b.params, tags: b.tags });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/runs/:run_id/inputs',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Record the datasets a run used',
        tags,
        params: IdParams,
        body: Type.Object({ datasets: Type.Array(DatasetInputSchema) }, { additionalProperties: false }),
        response: NoContent,
      },
    },
    async (request, reply) => {
      await runData.logInputs(request.ctx, request.params.run_id, request.body.datasets.map(datasetInputFromWire));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/runs/:run_id/metric-history',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Read one metric: paged in step order, or downsampled with max_points',
        tags,
        params: IdParams,
        querystring: Type.Object({
          key: Type.String({ description: 'The metric key.' }),
          max_results: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size; at most 25,000 per page.' })),
          page_token: Type.Optional(Type.String()),
          max_points: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: MAX_DOWNSAMPLED_POINTS,
              description: 'Downsample to at most this many points, keeping each range’s first, last, min and max.',
            }),
          ),
        }),
        response: {
          200: Type.Object({ metrics: Type.Array(MetricSchema), next_page_token: Type.Optional(Type.String()) }),
        },
      },
    },
    async (request) => {
      const { key, max_results, page_token, max_points } = request.query;
      const runId = request.params.run_id;
      if (max_points !== undefined) {
        const points = await runData.downsampleMetricHistory(request.ctx, runId, key, max_points);
        return { metrics: points.map(metricToWire) };
      }
      const page = await runData.getMetricHistory(request.ctx, runId, key, {
        maxResults: max_results,
        pageToken: page_token,
      });
      return { metrics: page.metrics.map(metricToWire), next_page_token: page.nextPageToken };
    },
  );
};
