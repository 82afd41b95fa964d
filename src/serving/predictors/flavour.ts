import { invalidParameter, KilnError } from '../../core/index.js';
import { MANIFEST_FILE } from '../../learn/index.js';
import type { ModelFlavour, Predictor } from '../types.js';
import { modelFileError } from './file-error.js';
import { kilnPredictorFromFiles } from './kiln.js';
import { onnxPredictorFromBytes } from './onnx.js';
import { looksLikeOnnx } from './onnx-header.js';
import { xgboostPredictorFromBytes } from './xgboost.js';

const FLAVOURS =
  'the flavours Kiln serves are kiln (a package directory with kiln-model.json), onnx (a .onnx file) and xgboost (an XGBoost JSON model, booster.save_model("model.json"))';

/** Formats Kiln recognises but never loads, with what to do instead. */
const REFUSED: [RegExp, string][] = [
  [
    /\.(pkl|pickle|joblib|pt|pth|cloudpickle)$/i,
    'is a pickle; pickles execute code when loaded, so Kiln never reads them',
  ],
  [/\.(ubj|bst|deprecated)$/i, "is a binary XGBoost model; save it as JSON (booster.save_model('model.json'))"],
];

interface Located {
  flavour: ModelFlavour;
  /** The model file (onnx, xgboost); the package for kiln. */
  file?: string;
}

function extension(name: string, ext: string): boolean {
  return name.toLowerCase().endsWith(ext);
}

function isXgboostDocument(bytes: Uint8Array, file: string, field: string, only: boolean): boolean {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    // One JSON file that does not parse is a damaged model, not an unknown one.
    if (only) throw modelFileError(field, file, `is not valid JSON (${(error as Error).message})`, error);
    return false;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return false;
  const learner = (document as Record<string, unknown>).learner;
  return typeof learner === 'object' && learner !== null && Object.hasOwn(learner, 'gradient_booster');
}

function single(candidates: string[], kind: string, field: string): string | undefined {
  if (candidates.length > 1) {
    throw invalidParameter(
      field,
      `holds ${candidates.length} ${kind} files (${candidates.join(', ')}); serve one of them`,
    );
  }
  return candidates[0];
}

function locate(files: ReadonlyMap<string, Uint8Array>, field: string): Located {
  if (files.size === 0) throw invalidParameter(field, `holds no files; ${FLAVOURS}`);
  if (files.has(MANIFEST_FILE)) return { flavour: 'kiln' };
  const names = [...files.keys()].sort();
  const onnx = single(
    names.filter((name) => extension(name, '.onnx')),
    'ONNX',
    field,
  );
  if (onnx !== undefined) return { flavour: 'onnx', file: onnx };
  const jsons = names.filter((name) => extension(name, '.json'));
  const xgboost = single(
    jsons.filter((name) => isXgboostDocument(files.get(name) as Uint8Array, name, field, jsons.length === 1)),
    'XGBoost JSON',
    field,
  );
  if (xgboost !== undefined) return { flavour: 'xgboost', file: xgboost };
  const sniffed = single(
    names.filter((name) => !extension(name, '.json') && looksLikeOnnx(files.get(name) as Uint8Array)),
    'ONNX',
    field,
  );
  if (sniffed !== undefined) return { flavour: 'onnx', file: sniffed };
  for (const name of names) {
    for (const [pattern, problem] of REFUSED) {
      if (pattern.test(name)) throw modelFileError(field, name, `${problem}; ${FLAVOURS}`);
    }
  }
  const nested = names.find((name) => name.endsWith(`/${MANIFEST_FILE}`));
  if (nested !== undefined) {
    const dir = nested.slice(0, -MANIFEST_FILE.length - 1);
    throw modelFileError(field, nested, `is a Kiln package in the sub-directory '${dir}'; serve that directory`);
  }
  const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')}, … (${names.length} files)` : names.join(', ');
  throw modelFileError(field, shown, `is not a model Kiln can serve; ${FLAVOURS}`);
}

/**
 * Which flavour a set of model files is (file path → bytes, as a directory or a single file was
 * read): `kiln-model.json` → a Kiln package; one `.onnx` file, or bytes that parse as an ONNX
 * protobuf → onnx; one JSON document with `learner.gradient_booster` → xgboost. Anything else is a
 * 400 naming `field` and the file(s), listing the flavours; pickles are refused by name because
 * loading them runs code.
 *
 * @example
 * detectFlavour(new Map([['model.onnx', bytes]])); // 'onnx'
 * detectFlavour(new Map([['notes.txt', text]]));   // throws "model: notes.txt: is not a model Kiln can serve; …"
 */
export function detectFlavour(files: ReadonlyMap<string, Uint8Array>, field = 'model'): ModelFlavour {
  return locate(files, field).flavour;
}

/**
 * Loads model files of any flavour into a {@link Predictor}, after {@link detectFlavour}. Loading
 * only parses (JSON, protobuf) and never executes code from the files. A damaged file — bad
 * protobuf, truncated JSON, a checksum that does not match the package manifest — is a 400 whose
 * details name `field` and the `file`.
 *
 * @example
 * const predictor = await predictorFromFiles(files, 'targets[0].model');
 * const { prediction } = await predictor.predict(frame);
 */
export async function predictorFromFiles(files: ReadonlyMap<string, Uint8Array>, field = 'model'): Promise<Predictor> {
  const { flavour, file } = locate(files, field);
  switch (flavour) {
    case 'onnx':
      return onnxPredictorFromBytes(files.get(file as string) as Uint8Array, file as string, field);
    case 'xgboost':
      return xgboostPredictorFromBytes(files.get(file as string) as Uint8Array, file as string, field);
    case 'kiln':
      try {
        return kilnPredictorFromFiles(files);
      } catch (error) {
        if (!(error instanceof KilnError) || error.code !== 'INVALID_PARAMETER_VALUE') throw error;
        const inner = typeof error.details?.field === 'string' ? error.details.field : MANIFEST_FILE;
        throw new KilnError(
          'INVALID_PARAMETER_VALUE',
          `${field}: ${error.message}`,
          { field, file: inner },
          {
            cause: error,
          },
        );
      }
  }
}
