import type { Column } from '../frame.js';
import {
  DATE_PARTS,
  type DatePart,
  type FittedColumn,
  type FittedPipeline,
  type FittedStep,
} from '../preprocess/index.js';
import { JsonFile, join } from './package-json.js';

/** The block a column's chain holds between steps, tracked by shape only (how many columns, their names). */
type Shape =
  | { kind: 'numeric'; names: string[] }
  | { kind: 'categorical' }
  | { kind: 'datetime' }
  | { kind: 'onehot'; names: string[] };

const INPUTS: readonly Column['kind'][] = ['float', 'categorical', 'datetime'];
const STEP_INPUT: Record<FittedStep['kind'], readonly Shape['kind'][]> = {
  impute: ['numeric', 'categorical'],
  standard: ['numeric'],
  minmax: ['numeric'],
  onehot: ['categorical'],
  ordinal: ['categorical'],
  target: ['categorical'],
  dateparts: ['datetime'],
};
const STEP_KEYS: Record<FittedStep['kind'], readonly string[]> = {
  impute: ['fill', 'indicator'],
  standard: ['mean', 'scale'],
  minmax: ['scale', 'min'],
  onehot: ['categories', 'infrequent', 'handleUnknown'],
  ordinal: ['categories', 'unknownValue', 'missingValue'],
  target: ['categories', 'encodings', 'mean'],
  dateparts: ['parts'],
};

/** Reads one step, checking its arrays against the shape it is applied to; returns the step and the new shape. */
function readStep(
  file: JsonFile,
  raw: unknown,
  path: string,
  shape: Shape,
  column: string,
  indicators: string[],
): { step: FittedStep; shape: Shape } {
  const kindOnly = file.object(raw, path, ['kind'], ['fill', 'indicator', ...Object.values(STEP_KEYS).flat()]);
  const kind = file.oneOf(kindOnly.kind, join(path, 'kind'), Object.keys(STEP_KEYS) as FittedStep['kind'][]);
  const o = file.object(raw, path, ['kind', ...STEP_KEYS[kind]]);
  if (!STEP_INPUT[kind].includes(shape.kind)) {
    file.fail(join(path, 'kind'), `'${kind}' cannot follow a step that gives ${shape.kind} values`);
  }
  const width = shape.kind === 'numeric' ? shape.names.length : 1;
  const finite = (key: string, nonZero = false) => {
    const values = file.numbers(o[key], join(path, key), width);
    values.forEach((v, i) => {
      if (nonZero && v === 0) file.fail(`${join(path, key)}[${i}]`, 'must not be 0');
    });
    return values;
  };
  switch (kind) {
    case 'impute': {
      const fill =
        shape.kind === 'numeric'
          ? file.numbers(o.fill, join(path, 'fill'), width)
          : [file.string(file.array(o.fill, join(path, 'fill'), 1)[0], `${join(path, 'fill')}[0]`)];
      const indicator = file.array(o.indicator, join(path, 'indicator'), width).map((b, i) => {
        return file.boolean(b, `${join(path, 'indicator')}[${i}]`);
      });
      indicator.forEach((on, i) => {
        if (on) indicators.push(`${shape.kind === 'numeric' ? shape.names[i] : column}.missing`);
      });
      return { step: { kind, fill, indicator }, shape };
    }
    case 'standard':
      return { step: { kind, mean: finite('mean'), scale: finite('scale', true) }, shape };
    case 'minmax':
      return { step: { kind, scale: finite('scale'), min: finite('min') }, shape };
    case 'onehot': {
      const categories = file.categories(o.categories, join(path, 'categories'), true);
      const infrequent = file.categories(o.infrequent, join(path, 'infrequent'), true);
      if (infrequent.some((c) => categories.includes(c))) {
        file.fail(join(path, 'infrequent'), 'lists a category that is also frequent');
      }
      const names = categories.map((c) => `${column}=${c === null ? '(missing)' : c}`);
      if (infrequent.length > 0) names.push(`${column}=(other)`);
      const handleUnknown = file.oneOf(o.handleUnknown, join(path, 'handleUnknown'), [
        'ignore',
        'infrequent_if_exist',
      ] as const);
      return { step: { kind, categories, infrequent, handleUnknown }, shape: { kind: 'onehot', names } };
    }
    case 'ordinal': {
      const categories = file.categories(o.categories, join(path, 'categories'), false) as string[];
      const unknownValue = file.number(o.unknownValue, join(path, 'unknownValue'), { nullIsNaN: true });
      const missingValue = file.number(o.missingValue, join(path, 'missingValue'), { nullIsNaN: true });
      const json = (x: number) => (Number.isNaN(x) ? null : x);
      return {
        step: { kind, categories, unknownValue: json(unknownValue), missingValue: json(missingValue) },
        shape: { kind: 'numeric', names: [column] },
      };
    }
    case 'target': {
      const categories = file.categories(o.categories, join(path, 'categories'), true);
      const encodings = file.numbers(o.encodings, join(path, 'encodings'), categories.length);
      return {
        step: { kind, categories, encodings, mean: file.number(o.mean, join(path, 'mean')) },
        shape: { kind: 'numeric', names: [column] },
      };
    }
    case 'dateparts': {
      const parts = file
        .array(o.parts, join(path, 'parts'))
        .map((p, i) => file.oneOf(p, `${join(path, 'parts')}[${i}]`, DATE_PARTS)) as DatePart[];
      if (parts.length === 0 || new Set(parts).size !== parts.length) {
        file.fail(join(path, 'parts'), 'must list distinct date parts');
      }
      return { step: { kind, parts }, shape: { kind: 'numeric', names: parts.map((p) => `${column}.${p}`) } };
    }
  }
}

function readColumn(file: JsonFile, raw: unknown, path: string): FittedColumn {
  const o = file.object(raw, path, ['name', 'input', 'steps', 'outputs']);
  const name = file.string(o.name, join(path, 'name'));
  const input = file.oneOf(o.input, join(path, 'input'), INPUTS);
  let shape: Shape =
    input === 'float'
      ? { kind: 'numeric', names: [name] }
      : input === 'categorical'
        ? { kind: 'categorical' }
        : { kind: 'datetime' };
  const indicators: string[] = [];
  const steps = file.array(o.steps, join(path, 'steps')).map((rawStep, i) => {
    if (shape.kind === 'onehot') file.fail(`${join(path, 'steps')}[${i}]`, "nothing may follow 'onehot'");
    const read = readStep(file, rawStep, `${join(path, 'steps')}[${i}]`, shape, name, indicators);
    shape = read.shape;
    return read.step;
  });
  if (shape.kind === 'categorical' || shape.kind === 'datetime') {
    file.fail(join(path, 'steps'), `leave the column ${shape.kind}; it needs an encoding step`);
  }
  const expected = [...shape.names, ...indicators];
  const outputs = file.strings(o.outputs, join(path, 'outputs'), expected.length);
  outputs.forEach((out, i) => {
    if (out !== expected[i])
      file.fail(`${join(path, 'outputs')}[${i}]`, `is '${out}', the steps give '${expected[i]}'`);
  });
  return { name, input, steps, outputs };
}

/**
 * Reads and checks `preprocessing.json`: every step's fitted state has the right types and lengths
 * for the block it is applied to, steps follow each other in an order the pipeline can run, and the
 * recorded output names are exactly what the steps produce (so the matrix layout cannot drift).
 *
 * @example
 * const pipeline = readPipeline(JSON.parse(text)); // throws KilnError naming e.g. preprocessing.json:columns[2].steps[0].mean
 */
export function readPipeline(raw: unknown): FittedPipeline {
  const file = new JsonFile('preprocessing.json');
  const o = file.object(raw, '', ['format', 'version', 'columns', 'names']);
  file.oneOf(o.format, 'format', ['kiln.preprocess']);
  file.oneOf(o.version, 'version', [1]);
  const columns = file.array(o.columns, 'columns').map((c, i) => readColumn(file, c, `columns[${i}]`));
  if (columns.length === 0) file.fail('columns', 'names no column');
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (seen.has(c.name)) file.fail(`columns[${i}].name`, `column '${c.name}' appears twice`);
    seen.add(c.name);
  });
  const expected = columns.flatMap((c) => c.outputs);
  const names = file.strings(o.names, 'names', expected.length);
  names.forEach((n, i) => {
    if (n !== expected[i]) file.fail(`names[${i}]`, `is '${n}', the columns give '${expected[i]}'`);
  });
  return { format: 'kiln.preprocess', version: 1, columns, names };
}
