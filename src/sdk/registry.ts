import { KilnError } from '../core/index.js';
import type { KilnClient } from './client.js';
import type { ModelVersion, RegisteredModel, Tag } from './types.js';

/** Options of the registry's search calls. */
export interface SearchModelsParams {
  /** MLflow filter, e.g. `name LIKE 'churn%'`. */
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

/** Options of {@link RegistryApi.registerModel}; they describe the new version. */
export interface RegisterModelOptions {
  /** The run that produced the model, linking the version to it. */
  runId?: string;
  tags?: Readonly<Record<string, string>>;
  description?: string;
}

/**
 * `kiln.registry`: registered models, their versions and aliases over `/api/v1/models`.
 *
 * @example
 * const v = await kiln.registry.registerModel('churn', `runs:/${run.runId}/model`, { runId: run.runId });
 * await kiln.registry.setAlias('churn', 'champion', v.version);
 * const champion = await kiln.registry.getByAlias('churn', 'champion');
 */
export class RegistryApi {
  constructor(private readonly client: KilnClient) {}

  /**
   * Registers a new version of model `name` from `source` (e.g. `runs:/<run_id>/model`), creating
   * the model first when it does not exist yet.
   */
  async registerModel(name: string, source: string, options: RegisterModelOptions = {}): Promise<ModelVersion> {
    try {
      await this.client.request('POST', '/api/v1/models', { body: { name } });
    } catch (error) {
      if (!(error instanceof KilnError) || error.code !== 'RESOURCE_ALREADY_EXISTS') throw error;
    }
    const tags: Tag[] = Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value }));
    const body = { source, run_id: options.runId, description: options.description, tags };
    const created = await this.client.request<{ model_version: ModelVersion }>('POST', `${modelPath(name)}/versions`, {
      body,
    });
    return created.model_version;
  }

  searchModels(
    params: SearchModelsParams = {},
  ): Promise<{ registered_models: RegisteredModel[]; next_page_token?: string }> {
    return this.client.request('GET', '/api/v1/models', { query: searchQuery(params) });
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return (await this.client.request<{ registered_model: RegisteredModel }>('GET', modelPath(name))).registered_model;
  }

  /** A page of the model's versions; filter and order as in MLflow (`version_number DESC`). */
  listVersions(
    name: string,
    params: SearchModelsParams = {},
  ): Promise<{ model_versions: ModelVersion[]; next_page_token?: string }> {
    return this.client.request('GET', `${modelPath(name)}/versions`, { query: searchQuery(params) });
  }

  async getVersion(name: string, version: number | string): Promise<ModelVersion> {
    const path = `${modelPath(name)}/versions/${encodeURIComponent(String(version))}`;
    return (await this.client.request<{ model_version: ModelVersion }>('GET', path)).model_version;
  }

  /** Points `alias` at `version`, creating it or moving it atomically. */
  async setAlias(name: string, alias: string, version: number | string): Promise<void> {
    await this.client.request('PUT', aliasPath(name, alias), { body: { version } });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.client.request('DELETE', aliasPath(name, alias));
  }

  /** The version `alias` points at. */
  async getByAlias(name: string, alias: string): Promise<ModelVersion> {
    return (await this.client.request<{ model_version: ModelVersion }>('GET', aliasPath(name, alias))).model_version;
  }
}

function modelPath(name: string): string {
  return `/api/v1/models/${encodeURIComponent(name)}`;
}

function aliasPath(name: string, alias: string): string {
  return `${modelPath(name)}/aliases/${encodeURIComponent(alias)}`;
}

function searchQuery(params: SearchModelsParams) {
  return {
    filter: params.filter,
    order_by: params.orderBy,
    max_results: params.maxResults,
    page_token: params.pageToken,
  };
}
