import type { RegistryTag } from '../../registry/index.js';
import { EMPTY, type EndpointDeps, type MlflowCall, type MlflowEndpoint } from './endpoint.js';
import { modelToMlflow, pageToMlflow, versionToMlflow } from './wire.js';

/**
 * MLflow's registered-model endpoints over `RegistryService`: create (a taken name is 400
 * RESOURCE_ALREADY_EXISTS, on which the client's `register_model` goes on to create a version),
 * get, rename, update (PATCH), delete (DELETE), search (`max_results` 100 by default, 1000 at
 * most), get-latest-versions (GET and POST), set-tag, delete-tag (DELETE), and aliases on
 * `registered-models/alias`: POST sets or moves one, DELETE removes it, GET answers the version
 * it points at (what `models:/<name>@<alias>` loads).
 *
 * @example
 * // GET /api/2.0/mlflow/registered-models/alias?name=churn&alias=champion
 * // → {"model_version": {"name": "churn", "version": "3", "aliases": ["champion"], …}}
 */
export function registeredModelEndpoints({ registry }: EndpointDeps): MlflowEndpoint[] {
  async function latestVersions({ fields, ctx }: MlflowCall) {
    const versions = await registry.getLatestVersions(ctx, fields.requiredString('name'), fields.list('stages'));
    return pageToMlflow(
      'model_versions',
      versions.map((v) => versionToMlflow(v)),
    );
  }

  return [
    {
      method: 'POST',
      path: '/registered-models/create',
      permission: 'write',
      async handle({ fields, ctx }) {
        const model = await registry.createRegisteredModel(ctx, {
          name: fields.requiredString('name'),
          description: fields.string('description'),
          tags: fields.messages<RegistryTag>('tags'),
        });
        return { registered_model: modelToMlflow(model) };
      },
    },
    {
      method: 'GET',
      path: '/registered-models/get',
      permission: 'read',
      async handle({ fields, ctx }) {
        return {
          registered_model: modelToMlflow(await registry.getRegisteredModel(ctx, fields.requiredString('name'))),
        };
      },
    },
    {
      method: 'POST',
      path: '/registered-models/rename',
      permission: 'write',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        const model = await registry.renameRegisteredModel(ctx, name, fields.requiredString('new_name'));
        return { registered_model: modelToMlflow(model) };
      },
    },
    {
      method: 'PATCH',
      path: '/registered-models/update',
      permission: 'write',
      async handle({ fields, ctx }) {
        const description = fields.string('description') ?? '';
        const model = await registry.updateRegisteredModel(ctx, fields.requiredString('name'), { description });
        return { registered_model: modelToMlflow(model) };
      },
    },
    {
      method: 'DELETE',
      path: '/registered-models/delete',
      permission: 'write',
      async handle({ fields, ctx }) {
        await registry.deleteRegisteredModel(ctx, fields.requiredString('name'));
        return EMPTY;
      },
    },
    {
      method: 'GET',
      path: '/registered-models/search',
      permission: 'read',
      async handle({ fields, ctx }) {
        const page = await registry.searchRegisteredModels(ctx, {
          filter: fields.string('filter'),
          orderBy: fields.list('order_by'),
          maxResults: fields.integer('max_results'),
          pageToken: fields.string('page_token'),
        });
        return pageToMlflow('registered_models', page.items.map(modelToMlflow), page.nextPageToken);
      },
    },
    { method: 'GET', path: '/registered-models/get-latest-versions', permission: 'read', handle: latestVersions },
    { method: 'POST', path: '/registered-models/get-latest-versions', permission: 'read', handle: latestVersions },
    {
      method: 'POST',
      path: '/registered-models/set-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        await registry.setRegisteredModelTag(ctx, name, fields.requiredString('key'), fields.presentString('value'));
        return EMPTY;
      },
    },
    {
      method: 'DELETE',
      path: '/registered-models/delete-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        await registry.deleteRegisteredModelTag(ctx, fields.requiredString('name'), fields.requiredString('key'));
        return EMPTY;
      },
    },
    {
      method: 'POST',
      path: '/registered-models/alias',
      permission: 'write',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        await registry.setAlias(ctx, name, fields.requiredString('alias'), fields.version());
        return EMPTY;
      },
    },
    {
      method: 'DELETE',
      path: '/registered-models/alias',
      permission: 'write',
      async handle({ fields, ctx }) {
        await registry.deleteAlias(ctx, fields.requiredString('name'), fields.requiredString('alias'));
        return EMPTY;
      },
    },
    {
      method: 'GET',
      path: '/registered-models/alias',
      permission: 'read',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        const version = await registry.getModelVersionByAlias(ctx, name, fields.requiredString('alias'));
        return { model_version: versionToMlflow(version) };
      },
    },
  ];
}
