import { createHash } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { KILN_VERSION } from '../../core/index.js';
import type { ModelSignature, SignatureType, Task, TrainedModel } from '../model.js';
import { JsonFile, join, packageJson } from './package-json.js';
import { readLearner } from './package-learner.js';
import { readPipeline } from './package-pipeline.js';

/** The manifest's file name: what marks a directory as a Kiln model package. */
export const MANIFEST_FILE = 'kiln-model.json';
/** Version of the package layout this Kiln writes and the only one it reads. */
export const PACKAGE_FORMAT_VERSION = 1;

const PAYLOAD_FILES = ['preprocessing.json', 'learner.json', 'MLmodel'] as const;
const TASKS: readonly Task[] = ['binary', 'multiclass', 'regression'];
const SIGNATURE_TYPES: readonly SignatureType[] = ['float', 'integer', 'boolean', 'categorical', 'string', 'datetime'];

/** One dataset version a model was trained on, by content digest (lineage). */
export interface TrainingDataRef {
  dataset: string;
  version: number;
  digest: string;
}

/** What {@link writeModelPackage} records besides the model itself. */
export interface PackageMeta {
  metrics?: Record<string, number>;
  trainingData?: TrainingDataRef[];
  /** ISO 8601 time; default now. */
  createdAt?: string;
  /** Default the running Kiln's version. */
  kilnVersion?: string;
}

/** The contents of `kiln-model.json`; see docs/formats.md for every field. */
export interface ModelManifest {
  format: 'kiln-model';
  formatVersion: 1;
  flavour: 'kiln';
  kilnVersion: string;
  createdAt: string;
  task: Task;
  target: string;
  classes: string[] | null;
  learner: { kind: string; file: 'learner.json' };
  preprocessing: { file: 'preprocessing.json' };
  signature: ModelSignature;
  metrics: Record<string, number>;
  trainingData: TrainingDataRef[];
  files: { path: string; sha256: string; size: number }[];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** MLflow's column types for a signature type (what `mlflow.models.Model` writes in MLmodel). */
const MLFLOW_TYPES: Record<SignatureType, string> = {
  float: 'double',
  integer: 'long',
  boolean: 'boolean',
  categorical: 'string',
  string: 'string',
  datetime: 'datetime',
};

function mlmodelYaml(model: TrainedModel, createdAt: string, kilnVersion: string): Uint8Array {
  const signature = {
    inputs: JSON.stringify(model.signature.inputs.map((i) => ({ name: i.name, type: MLFLOW_TYPES[i.type] }))),
    outputs: JSON.stringify(
      model.signature.outputs.map((o) => ({
        name: o.name,
        type: o.type === 'float' ? 'double' : o.type === 'integer' ? 'long' : 'string',
      })),
    ),
  };
  const doc = {
    artifact_path: 'model',
    flavors: {
      kiln: {
        kiln_version: kilnVersion,
        format: 'kiln-model',
        format_version: PACKAGE_FORMAT_VERSION,
        learner: model.learner.kind,
        task: model.task,
      },
    },
    signature,
    utc_time_created: createdAt.replace('T', ' ').replace('Z', ''),
  };
  return new TextEncoder().encode(toYaml(doc));
}

/**
 * Writes a trained model as the files of a Kiln model package (file name → bytes; the caller stores
 * them, e.g. as the `model/` artifact directory of a run): `kiln-model.json` (the manifest, with a
 * SHA-256 of every other file), `preprocessing.json`, `learner.json` and an MLflow-style `MLmodel`.
 * Nothing in the package is code; {@link readModelPackage} loads it back.
 *
 * @example
 * const files = writeModelPackage(model, { metrics: { auc: 0.91 }, trainingData: [{ dataset: 'flights', version: 3, digest }] });
 * for (const [name, bytes] of files) await blobs.put(`${runDir}/model/${name}`, bytes);
 */
export function writeModelPackage(model: TrainedModel, meta: PackageMeta = {}): Map<string, Uint8Array> {
  const createdAt = meta.createdAt ?? new Date().toISOString();
  const kilnVersion = meta.kilnVersion ?? KILN_VERSION;
  const payload = new Map<string, Uint8Array>([
    ['preprocessing.json', packageJson(model.preprocessing)],
    ['learner.json', packageJson(model.learner)],
    ['MLmodel', mlmodelYaml(model, createdAt, kilnVersion)],
  ]);
  const manifest: ModelManifest = {
    format: 'kiln-model',
    formatVersion: 1,
    flavour: 'kiln',
    kilnVersion,
    createdAt,
    task: model.task,
    target: model.target,
    classes: model.classes ?? null,
    learner: { kind: model.learner.kind, file: 'learner.json' },
    preprocessing: { file: 'preprocessing.json' },
    signature: model.signature,
    metrics: meta.metrics ?? {},
    trainingData: meta.trainingData ?? [],
    files: [...payload].map(([path, bytes]) => ({ path, sha256: sha256(bytes), size: bytes.length })),
  };
  return new Map([[MANIFEST_FILE, packageJson(manifest)], ...payload]);
}

function readSignature(file: JsonFile, raw: unknown): ModelSignature {
  const o = file.object(raw, 'signature', ['inputs', 'outputs']);
  const inputs = file.array(o.inputs, 'signature.inputs').map((entry, i) => {
    const path = `signature.inputs[${i}]`;
    const input = file.object(entry, path, ['name', 'type', 'nullable']);
    return {
      name: file.string(input.name, join(path, 'name')),
      type: file.oneOf(input.type, join(path, 'type'), SIGNATURE_TYPES),
      nullable: file.boolean(input.nullable, join(path, 'nullable')),
    };
  });
  const names = new Set(inputs.map((i) => i.name));
  if (names.size !== inputs.length) file.fail('signature.inputs', 'names a column twice');
  const outputs = file.array(o.outputs, 'signature.outputs').map((entry, i) => {
    const path = `signature.outputs[${i}]`;
    const output = file.object(entry, path, ['name', 'type']);
    return {
      name: file.string(output.name, join(path, 'name')),
      type: file.oneOf(output.type, join(path, 'type'), ['float', 'string', 'integer'] as const),
    };
  });
  return { inputs, outputs };
}

function readManifest(bytes: Uint8Array): ModelManifest {
  const file = new JsonFile(MANIFEST_FILE);
  const raw = file.parse(bytes);
  const probe = file.object(raw, '', ['format', 'formatVersion'], Object.keys((raw as object | null) ?? {}));
  file.oneOf(probe.format, 'format', ['kiln-model']);
  if (probe.formatVersion !== PACKAGE_FORMAT_VERSION) {
    file.fail(
      'formatVersion',
      `is ${JSON.stringify(probe.formatVersion)}; this Kiln reads version ${PACKAGE_FORMAT_VERSION} packages`,
    );
  }
  const o = file.object(raw, '', [
    'format',
    'formatVersion',
    'flavour',
    'kilnVersion',
    'createdAt',
    'task',
    'target',
    'classes',
    'learner',
    'preprocessing',
    'signature',
    'metrics',
    'trainingData',
    'files',
  ]);
  const task = file.oneOf(o.task, 'task', TASKS);
  let classes: string[] | null = null;
  if (task === 'regression') {
    if (o.classes !== null) file.fail('classes', 'must be null for a regression model');
  } else {
    classes = file.categories(o.classes, 'classes', false) as string[];
    if (task === 'binary' ? classes.length !== 2 : classes.length < 2) {
      file.fail(
        'classes',
        `has ${classes.length} labels; a ${task} model needs ${task === 'binary' ? 'exactly 2' : 'at least 2'}`,
      );
    }
  }
  const learner = file.object(o.learner, 'learner', ['kind', 'file']);
  const metrics = file.object(o.metrics, 'metrics', [], Object.keys((o.metrics as object | null) ?? {}));
  const files = file.array(o.files, 'files').map((entry, i) => {
    const path = `files[${i}]`;
    const f = file.object(entry, path, ['path', 'sha256', 'size']);
    const sha = file.string(f.sha256, join(path, 'sha256'));
    if (!/^[0-9a-f]{64}$/.test(sha)) file.fail(join(path, 'sha256'), 'must be 64 lowercase hex digits');
    return {
      path: file.oneOf(f.path, join(path, 'path'), PAYLOAD_FILES),
      sha256: sha,
      size: file.number(f.size, join(path, 'size'), { integer: true, min: 0 }),
    };
  });
  for (const required of ['preprocessing.json', 'learner.json']) {
    if (!files.some((f) => f.path === required)) file.fail('files', `does not list ${required}`);
  }
  if (new Set(files.map((f) => f.path)).size !== files.length) file.fail('files', 'lists a file twice');
  return {
    format: 'kiln-model',
    formatVersion: 1,
    flavour: file.oneOf(o.flavour, 'flavour', ['kiln'] as const),
    kilnVersion: file.string(o.kilnVersion, 'kilnVersion'),
    createdAt: file.string(o.createdAt, 'createdAt'),
    task,
    target: file.string(o.target, 'target'),
    classes,
    learner: {
      kind: file.string(learner.kind, 'learner.kind'),
      file: file.oneOf(learner.file, 'learner.file', ['learner.json'] as const),
    },
    preprocessing: {
      file: file.oneOf(file.object(o.preprocessing, 'preprocessing', ['file']).file, 'preprocessing.file', [
        'preprocessing.json',
      ] as const),
    },
    signature: readSignature(file, o.signature),
    metrics: Object.fromEntries(
      Object.entries(metrics).map(([k, v]) => [k, file.number(v, join('metrics', k), { nonFinite: true })]),
    ),
    trainingData: file.array(o.trainingData, 'trainingData').map((entry, i) => {
      const path = `trainingData[${i}]`;
      const d = file.object(entry, path, ['dataset', 'version', 'digest']);
      return {
        dataset: file.string(d.dataset, join(path, 'dataset')),
        version: file.number(d.version, join(path, 'version'), { integer: true, min: 1 }),
        digest: file.string(d.digest, join(path, 'digest')),
      };
    }),
    files,
  };
}

/** Frame kinds a preprocessing column may take for each signature type (as checkFrameAgainstSignature). */
const SIGNATURE_KINDS: Record<SignatureType, readonly string[]> = {
  float: ['float'],
  integer: ['float', 'categorical'],
  boolean: ['categorical'],
  categorical: ['categorical'],
  string: ['categorical'],
  datetime: ['datetime'],
};

/**
 * Loads a Kiln model package written by {@link writeModelPackage}, validating everything before
 * anything is used: the manifest's format version, each listed file's size and SHA-256, every field
 * of every file (types, array lengths, tree node indices, a tree shape without cycles), and that the
 * files agree with each other (learner features = preprocessing outputs, classes, task, signature
 * columns). Loading parses JSON only and never executes code from the package. Any problem is a
 * KilnError INVALID_PARAMETER_VALUE whose field names the file and field, e.g. `learner.json:trees[0].left[3]`.
 * Files the manifest does not list are ignored.
 *
 * @example
 * const { manifest, ...model } = readModelPackage(files);
 * const { prediction } = predictModel(model, frame);
 */
export function readModelPackage(files: ReadonlyMap<string, Uint8Array>): TrainedModel & { manifest: ModelManifest } {
  const manifestBytes = files.get(MANIFEST_FILE);
  if (manifestBytes === undefined)
    throw new JsonFile(MANIFEST_FILE).fail('', 'is missing: this is not a Kiln model package');
  const manifest = readManifest(manifestBytes);
  const manifestFile = new JsonFile(MANIFEST_FILE);
  manifest.files.forEach((entry, i) => {
    const bytes = files.get(entry.path);
    if (bytes === undefined) manifestFile.fail(`files[${i}].path`, `lists ${entry.path}, which the package lacks`);
    if (bytes === undefined || bytes.length !== entry.size || sha256(bytes) !== entry.sha256) {
      new JsonFile(entry.path).fail(
        '',
        `does not match its checksum in ${MANIFEST_FILE}: the file was changed or damaged`,
      );
    }
  });
  const pipelineFile = new JsonFile('preprocessing.json');
  const preprocessing = readPipeline(pipelineFile.parse(files.get('preprocessing.json') as Uint8Array));
  const inputs = new Map(manifest.signature.inputs.map((i) => [i.name, i.type]));
  preprocessing.columns.forEach((c, i) => {
    const type = inputs.get(c.name);
    if (type === undefined)
      manifestFile.fail('signature.inputs', `lacks column '${c.name}', which the preprocessing reads`);
    if (!(SIGNATURE_KINDS[type as SignatureType] as readonly string[]).includes(c.input)) {
      pipelineFile.fail(`columns[${i}].input`, `is ${c.input}, which does not fit the signature's type ${type}`);
    }
  });
  const learnerFile = new JsonFile('learner.json');
  const learner = readLearner(learnerFile.parse(files.get('learner.json') as Uint8Array), {
    task: manifest.task,
    features: preprocessing.names,
    classes: manifest.classes?.length ?? 0,
  });
  if (learner.kind !== manifest.learner.kind) {
    manifestFile.fail('learner.kind', `is '${manifest.learner.kind}' but learner.json holds '${learner.kind}'`);
  }
  const model: TrainedModel & { manifest: ModelManifest } = {
    task: manifest.task,
    target: manifest.target,
    signature: manifest.signature,
    preprocessing,
    learner,
    manifest,
  };
  if (manifest.classes !== null) model.classes = manifest.classes;
  return model;
}
