import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { invalidParameter, KilnError, type RequestContext } from '../../core/index.js';
import { MANIFEST_FILE } from '../../learn/index.js';
import { checkModelName } from '../../registry/index.js';
import type { LoadedModel, ModelLoader, ModelRef } from '../types.js';
import { predictorFromFiles } from './flavour.js';
import { type ModelReadLimits, ReadBudget } from './read-budget.js';

/** Directory levels a model directory may have below its top. */
const MAX_DEPTH = 8;

/**
 * Reads the files of a model directory into `files`, keyed by their `/`-separated path below
 * `root`. Hidden entries (`.git`, `.DS_Store`) are skipped; symbolic links are followed only to
 * regular files and directories.
 */
async function readDirectory(
  root: string,
  relative: string,
  depth: number,
  files: Map<string, Uint8Array>,
  budget: ReadBudget,
): Promise<void> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    const facts = await stat(join(root, path));
    if (facts.isDirectory()) {
      if (depth >= MAX_DEPTH) {
        throw invalidParameter('model', `${path}: is nested deeper than ${MAX_DEPTH} directories; is this a model?`);
      }
      await readDirectory(root, path, depth + 1, files, budget);
    } else if (facts.isFile()) {
      budget.admit(path, facts.size);
      files.set(path, await budget.readStream(path, createReadStream(join(root, path))));
    }
  }
}

/**
 * Loads models from the file system: `kiln serve <path>` without a server database. A path names
 * a model file (`model.onnx`, an XGBoost `model.json`) or a directory (a Kiln package, an MLflow
 * model directory holding one of those); its flavour is detected from the files. The model's name
 * is the ref's `name` (`--name`) or the file or directory name without its extension, and its
 * version is '1'. Registry references are refused: they need the registry (see
 * {@link RegistryModelLoader}).
 *
 * @example
 * const loader = new FileModelLoader();
 * const model = await loader.load(ctx, parseModelRef('./models/penguins.onnx'));
 * model.name; // 'penguins'
 */
export class FileModelLoader implements ModelLoader {
  constructor(private readonly limits: ModelReadLimits = {}) {}

  async resolve(_ctx: RequestContext, ref: ModelRef): Promise<ModelRef> {
    if (ref.kind !== 'path') {
      throw invalidParameter(
        'model',
        `models:/ references need the model registry (a server database); without one, serve a file or directory path`,
      );
    }
    return ref;
  }

  async load(ctx: RequestContext, ref: ModelRef): Promise<LoadedModel> {
    const resolved = await this.resolve(ctx, ref);
    if (resolved.kind !== 'path') throw new Error('unreachable');
    let path = resolve(resolved.path);
    let facts = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
        throw new KilnError('RESOURCE_DOES_NOT_EXIST', `model: no file or directory at '${resolved.path}'`, {
          field: 'model',
          path: resolved.path,
        });
      }
      throw error;
    });
    // The manifest stands for its package.
    if (facts.isFile() && basename(path) === MANIFEST_FILE) {
      path = dirname(path);
      facts = await stat(path);
    }
    const budget = new ReadBudget('model', this.limits);
    const files = new Map<string, Uint8Array>();
    if (facts.isDirectory()) await readDirectory(path, '', 0, files, budget);
    else if (facts.isFile()) {
      budget.admit(basename(path), facts.size);
      files.set(basename(path), await budget.readStream(basename(path), createReadStream(path)));
    } else {
      throw invalidParameter('model', `'${resolved.path}' is neither a file nor a directory`);
    }
    const name =
      resolved.name === undefined
        ? basename(path, facts.isDirectory() ? '' : extname(path))
        : checkModelName('name', resolved.name);
    const predictor = await predictorFromFiles(files, 'model');
    return { name, version: '1', flavour: predictor.flavour, predictor, sizeBytes: budget.bytes };
  }
}
