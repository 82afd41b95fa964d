import { posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidParameter, KilnError, type RequestContext } from '../../core/index.js';
import { MAX_SOURCE_HOPS, type ModelVersion, type RegistryService } from '../../registry/index.js';
import { type BlobStore, canonicalKey } from '../../store/index.js';
import type { ArtifactService } from '../../tracking/index.js';
import type { LoadedModel, ModelLoader, ModelRef } from '../types.js';
import { predictorFromFiles } from './flavour.js';
import { type ModelReadLimits, ReadBudget } from './read-budget.js';
import { formatModelRef, parseModelRef } from './ref.js';

/** What a {@link RegistryModelLoader} reads through. */
export interface RegistryModelLoaderDeps extends ModelReadLimits {
  registry: RegistryService;
  artifacts: ArtifactService;
  /** The artifact store the registry's sources point into (`KILN_ARTIFACTS_URL`). */
  blobs: BlobStore;
  /** Where path references go (`kiln serve <path>` next to a registry); refused when absent. */
  paths?: ModelLoader;
}

const PROXY_PREFIX = 'mlflow-artifacts:/';

/** A registry lookup's 404 restated as the reference the caller gave, naming the field. */
async function found<T>(ref: ModelRef, lookup: Promise<T>): Promise<T> {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof KilnError && error.code === 'RESOURCE_DOES_NOT_EXIST') {
      throw new KilnError(
        'RESOURCE_DOES_NOT_EXIST',
        `model: ${formatModelRef(ref)}: ${error.message}`,
        { ...error.details, field: 'model', model: formatModelRef(ref) },
        { cause: error },
      );
    }
    throw error;
  }
}

function noFiles(version: ModelVersion, source: string): KilnError {
  return new KilnError(
    'RESOURCE_DOES_NOT_EXIST',
    `model: models:/${version.name}/${version.version}: no model files at its source '${source}'`,
    { field: 'model', model: `models:/${version.name}/${version.version}`, source },
  );
}

/**
 * Loads registered model versions: `models:/name/3` directly, `models:/name@champion` through the
 * alias's current version. The version's `source` is read into memory — `runs:/<run>/<path>`
 * through the run's artifacts (a file, or a directory recursively), `models:/` sources followed up
 * to the registry's hop limit, and `mlflow-artifacts:/`, `file:` and `s3:` sources that lie in
 * Kiln's artifact store straight from the blob store — then its flavour is detected and a
 * predictor built ({@link predictorFromFiles}). Unknown models, versions and aliases are 404s
 * naming the field `model`; damaged files are 400s naming the file.
 *
 * @example
 * const loader = new RegistryModelLoader({ registry, artifacts, blobs });
 * const ref = await loader.resolve(ctx, parseModelRef('models:/penguins@champion')); // { kind: 'version', …, version: 4 }
 * const model = await loader.load(ctx, ref);
 * await model.predictor.predict(frame);
 */
export class RegistryModelLoader implements ModelLoader {
  constructor(private readonly deps: RegistryModelLoaderDeps) {}

  async resolve(ctx: RequestContext, ref: ModelRef): Promise<ModelRef> {
    switch (ref.kind) {
      case 'alias': {
        const version = await found(ref, this.deps.registry.getModelVersionByAlias(ctx, ref.name, ref.alias));
        return { kind: 'version', name: version.name, version: version.version };
      }
      case 'version':
        await found(ref, this.deps.registry.getModelVersion(ctx, ref.name, ref.version));
        return ref;
      case 'path':
        if (this.deps.paths === undefined) {
          throw invalidParameter(
            'model',
            'must be models:/<name>/<version> or models:/<name>@<alias>; file paths are served by `kiln serve <path>`',
            ref.path,
          );
        }
        return this.deps.paths.resolve(ctx, ref);
    }
  }

  async load(ctx: RequestContext, ref: ModelRef): Promise<LoadedModel> {
    if (ref.kind === 'path') {
      if (this.deps.paths === undefined) await this.resolve(ctx, ref);
      return (this.deps.paths as ModelLoader).load(ctx, ref);
    }
    const version =
      ref.kind === 'alias'
        ? await found(ref, this.deps.registry.getModelVersionByAlias(ctx, ref.name, ref.alias))
        : await found(ref, this.deps.registry.getModelVersion(ctx, ref.name, ref.version));
    if (version.status !== 'READY') {
      throw new KilnError(
        'INVALID_STATE',
        `model: models:/${version.name}/${version.version} is ${version.status}, not READY; it cannot be served`,
        { field: 'model', status: version.status },
      );
    }
    const budget = new ReadBudget('model', this.deps);
    const files = await this.readSource(ctx, version, budget);
    const predictor = await predictorFromFiles(files, 'model');
    return {
      name: version.name,
      version: String(version.version),
      flavour: predictor.flavour,
      predictor,
      sizeBytes: budget.bytes,
    };
  }

  /** The files at a version's source, following `models:/` sources to the version they name. */
  private async readSource(
    ctx: RequestContext,
    start: ModelVersion,
    budget: ReadBudget,
  ): Promise<Map<string, Uint8Array>> {
    let version = start;
    for (let hop = 0; hop <= MAX_SOURCE_HOPS; hop++) {
      const source = version.source;
      if (source.startsWith('runs:/')) {
        const rest = source.slice('runs:/'.length);
        const slash = rest.indexOf('/');
        const runId = slash < 0 ? rest : rest.slice(0, slash);
        const path = slash < 0 ? '' : canonicalKey(rest.slice(slash + 1), 'source');
        const files = await this.readRunArtifacts(ctx, runId, path, budget);
        if (files.size === 0) throw noFiles(start, source);
        return files;
      }
      if (source.startsWith('models:/')) {
        const ref = parseModelRef(source, 'source');
        if (ref.kind === 'path') throw noFiles(start, source);
        version =
          ref.kind === 'alias'
            ? await found(ref, this.deps.registry.getModelVersionByAlias(ctx, ref.name, ref.alias))
            : await found(ref, this.deps.registry.getModelVersion(ctx, ref.name, ref.version));
        continue;
      }
      const files = await this.readStoreBlobs(this.storeKey(start, source), budget);
      if (files.size === 0) throw noFiles(start, source);
      return files;
    }
    throw new KilnError(
      'INVALID_STATE',
      `model: models:/${start.name}/${start.version}: its models:/ sources form a chain longer than ${MAX_SOURCE_HOPS} hops`,
      { field: 'model' },
    );
  }

  /** A file (keyed by its name) or a directory (keyed by paths below it) of a run's artifacts. */
  private async readRunArtifacts(
    ctx: RequestContext,
    runId: string,
    path: string,
    budget: ReadBudget,
  ): Promise<Map<string, Uint8Array>> {
    const files = new Map<string, Uint8Array>();
    const { artifacts } = this.deps;
    const walk = async (dir: string): Promise<void> => {
      let pageToken: string | undefined;
      do {
        const page = await artifacts.list(ctx, runId, dir, pageToken === undefined ? {} : { pageToken });
        for (const entry of page.files) {
          if (entry.isDir) {
            await walk(entry.path);
            continue;
          }
          const name = path === '' ? entry.path : entry.path.slice(path.length + 1);
          budget.admit(name, entry.fileSize ?? 0);
          const download = await artifacts.open(ctx, runId, entry.path);
          files.set(name, await budget.readStream(name, download.stream));
        }
        pageToken = page.nextPageToken;
      } while (pageToken !== undefined);
    };
    await walk(path);
    if (files.size === 0 && path !== '') {
      // Not a directory: the source names one file.
      const name = posix.basename(path);
      try {
        const download = await artifacts.open(ctx, runId, path);
        budget.admit(name, download.size);
        files.set(name, await budget.readStream(name, download.stream));
      } catch (error) {
        if (!(error instanceof KilnError && error.code === 'RESOURCE_DOES_NOT_EXIST')) throw error;
      }
    }
    return files;
  }

  /** The blob key of a source inside Kiln's artifact store; INVALID_STATE for sources elsewhere. */
  private storeKey(version: ModelVersion, source: string): string {
    const uri = source.startsWith('/') ? pathToFileURL(source).href : source;
    const proxy = this.deps.artifacts.toProxyUri(uri);
    if (!proxy.startsWith(PROXY_PREFIX)) {
      throw new KilnError(
        'INVALID_STATE',
        `model: models:/${version.name}/${version.version}: its source '${source}' lies outside Kiln's artifact store, where the server reads models`,
        { field: 'model', source },
      );
    }
    return canonicalKey(proxy.slice(PROXY_PREFIX.length), 'source');
  }

  /** One blob (keyed by its name) or every blob below a key prefix (keyed by the rest of its key). */
  private async readStoreBlobs(key: string, budget: ReadBudget): Promise<Map<string, Uint8Array>> {
    const { blobs } = this.deps;
    const files = new Map<string, Uint8Array>();
    const single = await blobs.stat(key);
    if (single !== undefined) {
      const name = posix.basename(key);
      budget.admit(name, single.size);
      files.set(name, await budget.readStream(name, await blobs.get(key)));
      return files;
    }
    let cursor: string | undefined;
    do {
      const page = await blobs.list(`${key}/`, cursor === undefined ? {} : { cursor });
      for (const item of page.items) {
        const name = item.key.slice(key.length + 1);
        budget.admit(name, item.size);
        files.set(name, await budget.readStream(name, await blobs.get(item.key)));
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return files;
  }
}
