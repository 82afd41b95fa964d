import { VIEW_TYPES } from '../../tracking/index.js';
import { EMPTY, type EndpointDeps, type MlflowCall, type MlflowEndpoint } from './endpoint.js';
import { experimentToMlflow, pageToMlflow } from './wire.js';

/**
 * MLflow's experiment endpoints over `ExperimentService`: create, get, get-by-name (404
 * RESOURCE_DOES_NOT_EXIST when missing, which the client's `set_experiment` relies on before it
 * creates), search (GET and POST; `max_results` 1000 by default, 50,000 at most; `view_type` by
 * name or number), update (rename), delete, restore, set-experiment-tag, delete-experiment-tag,
 * and the 1.x `list` that MLflow 2 dropped, answered like a search without filter.
 *
 * @example
 * for (const endpoint of experimentEndpoints(deps)) mount(endpoint);
 * // POST /api/2.0/mlflow/experiments/create {"name": "churn"} → {"experiment_id": "1"}
 */
export function experimentEndpoints({ tracking, present }: EndpointDeps): MlflowEndpoint[] {
  const experiments = tracking.experiments;

  async function search({ fields, ctx }: MlflowCall) {
    const page = await experiments.search(ctx, {
      filter: fields.string('filter'),
      orderBy: fields.list('order_by'),
      viewType: fields.enumName('view_type', VIEW_TYPES),
      maxResults: fields.integer('max_results'),
      pageToken: fields.string('page_token'),
    });
    const items = page.experiments.map((e) => experimentToMlflow(e, present));
    return pageToMlflow('experiments', items, page.nextPageToken);
  }

  return [
    {
      method: 'POST',
      path: '/experiments/create',
      permission: 'write',
      async handle({ fields, ctx }) {
        const experiment = await experiments.create(ctx, {
          name: fields.requiredString('name'),
          artifactLocation: fields.string('artifact_location'),
          tags: fields.messages('tags'),
        });
        return { experiment_id: experiment.experimentId };
      },
    },
    {
      method: 'GET',
      path: '/experiments/get',
      permission: 'read',
      async handle({ fields, ctx }) {
        const experiment = await experiments.get(ctx, fields.requiredId('experiment_id'));
        return { experiment: experimentToMlflow(experiment, present) };
      },
    },
    {
      method: 'GET',
      path: '/experiments/get-by-name',
      permission: 'read',
      async handle({ fields, ctx }) {
        const experiment = await experiments.getByName(ctx, fields.requiredString('experiment_name'));
        return { experiment: experimentToMlflow(experiment, present) };
      },
    },
    { method: 'GET', path: '/experiments/search', permission: 'read', handle: search },
    { method: 'POST', path: '/experiments/search', permission: 'read', handle: search },
    { method: 'GET', path: '/experiments/list', permission: 'read', handle: search },
    {
      method: 'POST',
      path: '/experiments/update',
      permission: 'write',
      async handle({ fields, ctx }) {
        await experiments.rename(ctx, fields.requiredId('experiment_id'), fields.requiredString('new_name'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/experiments/delete',
      permission: 'write',
      async handle({ fields, ctx }) {
        await experiments.delete(ctx, fields.requiredId('experiment_id'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/experiments/restore',
      permission: 'write',
      async handle({ fields, ctx }) {
        await experiments.restore(ctx, fields.requiredId('experiment_id'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/experiments/set-experiment-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        const id = fields.requiredId('experiment_id');
        await experiments.setTag(ctx, id, fields.requiredString('key'), fields.presentString('value'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/experiments/delete-experiment-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        await experiments.deleteTag(ctx, fields.requiredId('experiment_id'), fields.requiredString('key'));
        return EMPTY;
      },
    },
  ];
}
