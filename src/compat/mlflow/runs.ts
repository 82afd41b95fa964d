import { RUN_STATUSES, type Tag, VIEW_TYPES } from '../../tracking/index.js';
import { EMPTY, type EndpointDeps, type MlflowEndpoint } from './endpoint.js';
import { pageToMlflow, runInfoToMlflow, runToMlflow } from './wire.js';

/**
 * MLflow's run endpoints over `RunService`: create (in the workspace's default experiment when
 * none is named), get, update (status by name or number, end time, name; answers `run_info`),
 * delete, restore, search (`run_view_type` by name or number, `max_results` 1000 by default and
 * 50,000 at most, `order_by`, `page_token`), set-tag and delete-tag. Every run-scoped call takes
 * `run_id` or the legacy `run_uuid`.
 *
 * @example
 * // POST /api/2.0/mlflow/runs/update {"run_id": "…", "status": "FINISHED", "end_time": 1795784798217}
 * // → {"run_info": {"run_uuid": "…", "status": "FINISHED", "end_time": 1795784798217, …}}
 */
export function runEndpoints({ tracking, present }: EndpointDeps): MlflowEndpoint[] {
  const runs = tracking.runs;
  return [
    {
      method: 'POST',
      path: '/runs/create',
      permission: 'write',
      async handle({ fields, ctx }) {
        const experimentId =
          fields.id('experiment_id') || (await tracking.experiments.defaultExperiment(ctx)).experimentId;
        const run = await runs.create(ctx, {
          experimentId,
          runName: fields.string('run_name') || undefined,
          startTime: fields.integer('start_time'),
          tags: fields.messages<Tag>('tags'),
          userId: fields.string('user_id'),
        });
        return { run: runToMlflow(run, present, false) };
      },
    },
    {
      method: 'GET',
      path: '/runs/get',
      permission: 'read',
      async handle({ fields, ctx }) {
        const run = await runs.get(ctx, fields.runId());
        return { run: runToMlflow(run, present) };
      },
    },
    {
      method: 'POST',
      path: '/runs/update',
      permission: 'write',
      async handle({ fields, ctx }) {
        const info = await runs.update(ctx, fields.runId(), {
          status: fields.enumName('status', RUN_STATUSES),
          endTime: fields.integer('end_time'),
          runName: fields.string('run_name'),
        });
        return { run_info: runInfoToMlflow(info, present) };
      },
    },
    {
      method: 'POST',
      path: '/runs/delete',
      permission: 'write',
      async handle({ fields, ctx }) {
        await runs.delete(ctx, fields.runId());
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/restore',
      permission: 'write',
      async handle({ fields, ctx }) {
        await runs.restore(ctx, fields.runId());
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/search',
      permission: 'read',
      async handle({ fields, ctx }) {
        const page = await runs.search(ctx, {
          experimentIds: fields.list('experiment_ids') ?? [],
          filter: fields.string('filter'),
          orderBy: fields.list('order_by'),
          runViewType: fields.enumName('run_view_type', VIEW_TYPES),
          maxResults: fields.integer('max_results'),
          pageToken: fields.string('page_token'),
        });
        return pageToMlflow(
          'runs',
          page.runs.map((run) => runToMlflow(run, present)),
          page.nextPageToken,
        );
      },
    },
    {
      method: 'POST',
      path: '/runs/set-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        await runs.setTag(ctx, fields.runId(), fields.requiredString('key'), fields.presentString('value'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/runs/delete-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        await runs.deleteTag(ctx, fields.runId(), fields.requiredString('key'));
        return EMPTY;
      },
    },
  ];
}
