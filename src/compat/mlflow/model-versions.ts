import type { RegistryTag } from '../../registry/index.js';
import { EMPTY, type EndpointDeps, type MlflowEndpoint } from './endpoint.js';
import { pageToMlflow, versionToMlflow } from './wire.js';

/**
 * MLflow's model-version endpoints over `RegistryService`: create (READY at once, so the client
 * never polls), get, update (PATCH), delete (DELETE), search, transition-stage (with
 * `archive_existing_versions`), get-download-uri (in the `mlflow-artifacts:/` form for artifacts
 * under the server's root, so the client downloads through the proxy), set-tag and delete-tag
 * (DELETE). Versions travel as strings (`"version": "3"`).
 *
 * @example
 * // POST /api/2.0/mlflow/model-versions/create {"name": "churn", "source": "mlflow-artifacts:/1/…/artifacts/model", "run_id": "…"}
 * // → {"model_version": {"name": "churn", "version": "1", "status": "READY", …}}
 */
export function modelVersionEndpoints({ registry, present }: EndpointDeps): MlflowEndpoint[] {
  return [
    {
      method: 'POST',
      path: '/model-versions/create',
      permission: 'write',
      async handle({ fields, ctx }) {
        const version = await registry.createModelVersion(ctx, {
          name: fields.requiredString('name'),
          source: fields.requiredString('source'),
          runId: fields.string('run_id'),
          runLink: fields.string('run_link'),
          description: fields.string('description'),
          tags: fields.messages<RegistryTag>('tags'),
        });
        return { model_version: versionToMlflow(version) };
      },
    },
    {
      method: 'GET',
      path: '/model-versions/get',
      permission: 'read',
      async handle({ fields, ctx }) {
        const version = await registry.getModelVersion(ctx, fields.requiredString('name'), fields.version());
        return { model_version: versionToMlflow(version) };
      },
    },
    {
      method: 'PATCH',
      path: '/model-versions/update',
      permission: 'write',
      async handle({ fields, ctx }) {
        const description = fields.string('description') ?? '';
        const name = fields.requiredString('name');
        const version = await registry.updateModelVersion(ctx, name, fields.version(), { description });
        return { model_version: versionToMlflow(version) };
      },
    },
    {
      method: 'DELETE',
      path: '/model-versions/delete',
      permission: 'write',
      async handle({ fields, ctx }) {
        await registry.deleteModelVersion(ctx, fields.requiredString('name'), fields.version());
        return EMPTY;
      },
    },
    {
      method: 'GET',
      path: '/model-versions/search',
      permission: 'read',
      async handle({ fields, ctx }) {
        const page = await registry.searchModelVersions(ctx, {
          filter: fields.string('filter'),
          orderBy: fields.list('order_by'),
          maxResults: fields.integer('max_results'),
          pageToken: fields.string('page_token'),
        });
        const items = page.items.map((v) => versionToMlflow(v));
        return pageToMlflow('model_versions', items, page.nextPageToken);
      },
    },
    {
      method: 'POST',
      path: '/model-versions/transition-stage',
      permission: 'write',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        const version = await registry.transitionModelVersionStage(
          ctx,
          name,
          fields.version(),
          fields.requiredString('stage'),
          { archiveExistingVersions: fields.boolean('archive_existing_versions') },
        );
        return { model_version: versionToMlflow(version) };
      },
    },
    {
      method: 'GET',
      path: '/model-versions/get-download-uri',
      permission: 'read',
      async handle({ fields, ctx }) {
        const uri = await registry.getModelVersionDownloadUri(ctx, fields.requiredString('name'), fields.version());
        return { artifact_uri: present(uri) };
      },
    },
    {
      method: 'POST',
      path: '/model-versions/set-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        const key = fields.requiredString('key');
        await registry.setModelVersionTag(ctx, name, fields.version(), key, fields.presentString('value'));
        return EMPTY;
      },
    },
    {
      method: 'DELETE',
      path: '/model-versions/delete-tag',
      permission: 'write',
      async handle({ fields, ctx }) {
        const name = fields.requiredString('name');
        await registry.deleteModelVersionTag(ctx, name, fields.version(), fields.requiredString('key'));
        return EMPTY;
      },
    },
  ];
}
