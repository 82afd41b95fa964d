import { invalidParameter } from '../../../core/index.js';
import type { Category, DatePart, FittedColumn, FittedPipeline, FittedStep } from '../../preprocess/index.js';
import { attr, ELEM, type OnnxGraph } from './proto.js';

/**
 * How a missing category reaches an exported model: string inputs cannot be null, so the empty string
 * stands for a missing value (numbers and dates use NaN).
 */
export const MISSING_STRING = '';

/** The state of one column's chain in the graph: [N, 1] double columns, a string column, a date column, or one-hot. */
type Chain =
  | { kind: 'numeric'; columns: string[] }
  | { kind: 'categorical'; value: string; missingAs: string | null }
  | { kind: 'datetime'; value: string }
  | { kind: 'onehot'; value: string; width: number };

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/** Small arithmetic helpers over [N, 1] double tensors with scalar constants. */
class Arithmetic {
  private readonly scalars = new Map<number, string>();
  constructor(private readonly g: OnnxGraph) {}

  scalar(x: number): string {
    let name = this.scalars.get(x);
    if (name === undefined) {
      name = this.g.constant('scalar', { type: 'double', dims: [1], values: [x] });
      this.scalars.set(x, name);
    }
    return name;
  }

  op(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: string, b: string | number): string {
    return this.g.node(op, [a, typeof b === 'number' ? this.scalar(b) : b])[0] as string;
  }

  floor(a: string): string {
    return this.g.node('Floor', [a])[0] as string;
  }

  /** a mod m with the sign of m (m > 0), as `((a % m) + m) % m`. */
  mod(a: string, m: number): string {
    const once = this.g.node('Mod', [a, this.scalar(m)], { fmod: attr.int(1) })[0] as string;
    return this.g.node('Mod', [this.op('Add', once, m), this.scalar(m)], { fmod: attr.int(1) })[0] as string;
  }

  /** cond(a < b) ? then : otherwise, elementwise. */
  whereLess(a: string, b: number, then: string, otherwise: string): string {
    const less = this.g.node('Less', [a, this.scalar(b)])[0] as string;
    return this.g.node('Where', [less, then, otherwise])[0] as string;
  }
}

/**
 * Date parts of milliseconds since the epoch with the same double arithmetic as `datePart`
 * (Howard Hinnant's civil_from_days), so every part is exact; NaN stays NaN.
 */
function dateParts(g: OnnxGraph, value: string, parts: readonly DatePart[]): string[] {
  const a = new Arithmetic(g);
  const days = a.floor(a.op('Div', value, MS_PER_DAY));
  let civil: { day: string; month: string; year: string } | undefined;
  const civilParts = () => {
    if (civil) return civil;
    const z = a.op('Add', days, 719_468);
    const era = a.floor(a.op('Div', z, 146_097));
    const doe = a.op('Sub', z, a.op('Mul', era, 146_097));
    const yoeNumerator = a.op(
      'Sub',
      a.op('Add', a.op('Sub', doe, a.floor(a.op('Div', doe, 1460))), a.floor(a.op('Div', doe, 36_524))),
      a.floor(a.op('Div', doe, 146_096)),
    );
    const yoe = a.floor(a.op('Div', yoeNumerator, 365));
    const doy = a.op(
      'Sub',
      doe,
      a.op('Sub', a.op('Add', a.op('Mul', yoe, 365), a.floor(a.op('Div', yoe, 4))), a.floor(a.op('Div', yoe, 100))),
    );
    const mp = a.floor(a.op('Div', a.op('Add', a.op('Mul', doy, 5), 2), 153));
    const day = a.op('Add', a.op('Sub', doy, a.floor(a.op('Div', a.op('Add', a.op('Mul', mp, 153), 2), 5))), 1);
    const month = a.whereLess(mp, 10, a.op('Add', mp, 3), a.op('Sub', mp, 9));
    const base = a.op('Add', yoe, a.op('Mul', era, 400));
    const year = a.whereLess(month, 3, a.op('Add', base, 1), base);
    civil = { day, month, year };
    return civil;
  };
  return parts.map((part) => {
    switch (part) {
      case 'hour':
        return a.floor(a.op('Div', a.op('Sub', value, a.op('Mul', days, MS_PER_DAY)), MS_PER_HOUR));
      case 'dow':
        return a.mod(a.op('Add', days, 3), 7);
      default:
        return civilParts()[part];
    }
  });
}

/**
 * Maps a string column to int64 positions with ai.onnx.ml LabelEncoder: each known category to its
 * position, the missing marker to `missing`, anything else to `unknown`.
 */
function positions(
  g: OnnxGraph,
  value: string,
  known: ReadonlyMap<string, number>,
  missing: number,
  unknown: number,
): string {
  const keys = [...known.keys(), MISSING_STRING];
  const values = [...known.values(), missing];
  return g.node(
    'LabelEncoder',
    [value],
    { keys_strings: attr.strings(keys), values_int64s: attr.ints(values), default_int64: attr.int(unknown) },
    { domain: 'ai.onnx.ml' },
  )[0] as string;
}

function refuseEmptyCategory(categories: readonly Category[], column: string, field: string): void {
  if (categories.includes(MISSING_STRING)) {
    throw invalidParameter(
      field,
      `column '${column}' has the empty string as a category, which the ONNX model reserves for missing values`,
    );
  }
}

/** A double table looked up by int64 positions: the [N, 1] result of Gather. */
function lookup(g: OnnxGraph, table: readonly number[], index: string): string {
  const data = g.constant('table', { type: 'double', dims: [table.length], values: table });
  return g.node('Gather', [data, index], { axis: attr.int(0) })[0] as string;
}

function applyStep(
  g: OnnxGraph,
  step: FittedStep,
  chain: Chain,
  column: string,
  field: string,
  indicators: string[],
): Chain {
  const a = new Arithmetic(g);
  if (chain.kind === 'numeric') {
    switch (step.kind) {
      case 'impute':
        return {
          kind: 'numeric',
          columns: chain.columns.map((x, c) => {
            const nan = g.node('IsNaN', [x])[0] as string;
            if (step.indicator[c]) indicators.push(g.node('Cast', [nan], { to: attr.int(ELEM.double) })[0] as string);
            return g.node('Where', [nan, a.scalar(step.fill[c] as number), x])[0] as string;
          }),
        };
      case 'standard':
        return {
          kind: 'numeric',
          columns: chain.columns.map((x, c) =>
            a.op('Div', a.op('Sub', x, step.mean[c] as number), step.scale[c] as number),
          ),
        };
      case 'minmax':
        return {
          kind: 'numeric',
          columns: chain.columns.map((x, c) =>
            a.op('Add', a.op('Mul', x, step.scale[c] as number), step.min[c] as number),
          ),
        };
    }
  }
  if (chain.kind === 'datetime' && step.kind === 'dateparts') {
    return { kind: 'numeric', columns: dateParts(g, chain.value, step.parts) };
  }
  if (chain.kind !== 'categorical') throw invalidParameter(field, `'${step.kind}' cannot follow a ${chain.kind} value`);
  switch (step.kind) {
    case 'impute': {
      const fill = step.fill[0] as string;
      refuseEmptyCategory([fill], column, field);
      if (step.indicator[0]) {
        const flag = positions(g, chain.value, new Map(), chain.missingAs === null ? 1 : 0, 0);
        indicators.push(g.node('Cast', [flag], { to: attr.int(ELEM.double) })[0] as string);
      }
      return { ...chain, missingAs: chain.missingAs ?? fill };
    }
    case 'onehot': {
      refuseEmptyCategory([...step.categories, ...step.infrequent], column, field);
      const width = step.categories.length + (step.infrequent.length > 0 ? 1 : 0);
      const other = step.infrequent.length > 0 ? step.categories.length : -1;
      const none = width; // outside [-width, width - 1]: OneHot writes a row of zeros
      const unknown = step.handleUnknown === 'infrequent_if_exist' && other >= 0 ? other : none;
      const position = (c: Category) => {
        const i = step.categories.indexOf(c);
        if (i >= 0) return i;
        return step.infrequent.includes(c) ? other : unknown;
      };
      const known = new Map<string, number>();
      for (const c of [...step.categories, ...step.infrequent]) if (c !== null) known.set(c, position(c));
      const pos = positions(g, chain.value, known, position(chain.missingAs), unknown);
      const flat = g.node('Squeeze', [pos, g.constant('axes', { type: 'int64', dims: [1], values: [1] })])[0] as string;
      const depth = g.constant('depth', { type: 'int64', dims: [1], values: [width] });
      // onnxruntime implements OneHot for float values, not double; 0 and 1 are exact in both.
      const onOff = g.constant('onehot_values', { type: 'float', dims: [2], values: [0, 1] });
      const hot = g.node('OneHot', [flat, depth, onOff], { axis: attr.int(-1) })[0] as string;
      return { kind: 'onehot', value: g.node('Cast', [hot], { to: attr.int(ELEM.double) })[0] as string, width };
    }
    case 'ordinal': {
      refuseEmptyCategory(step.categories, column, field);
      const n = step.categories.length;
      const known = new Map(step.categories.map((c, i) => [c, i]));
      const position = (c: Category) => (c === null ? n + 1 : (known.get(c) ?? n));
      const table = [
        ...step.categories.map((_, i) => i),
        step.unknownValue ?? Number.NaN,
        step.missingValue ?? Number.NaN,
      ];
      const pos = positions(g, chain.value, known, position(chain.missingAs), n);
      return { kind: 'numeric', columns: [lookup(g, table, pos)] };
    }
    case 'target': {
      refuseEmptyCategory(step.categories, column, field);
      const n = step.categories.length;
      const position = (c: Category) => {
        const i = step.categories.indexOf(c);
        return i >= 0 ? i : n;
      };
      const known = new Map<string, number>();
      step.categories.forEach((c, i) => {
        if (c !== null) known.set(c, i);
      });
      const pos = positions(g, chain.value, known, position(chain.missingAs), n);
      return { kind: 'numeric', columns: [lookup(g, [...step.encodings, step.mean], pos)] };
    }
    default:
      throw invalidParameter(field, `'${step.kind}' cannot follow a categorical value`);
  }
}

/** Adds one input per pipeline column and the column's steps; returns its [N, k] double outputs in order. */
function columnGraph(g: OnnxGraph, column: FittedColumn, index: number): { pieces: string[]; width: number } {
  const field = `preprocessing.columns[${index}]`;
  const value = g.input({
    name: column.name,
    type: column.input === 'categorical' ? 'string' : 'double',
    dims: ['N', 1],
  });
  let chain: Chain =
    column.input === 'float'
      ? { kind: 'numeric', columns: [value] }
      : column.input === 'categorical'
        ? { kind: 'categorical', value, missingAs: null }
        : { kind: 'datetime', value };
  const indicators: string[] = [];
  for (const [i, step] of column.steps.entries()) {
    chain = applyStep(g, step, chain, column.name, `${field}.steps[${i}]`, indicators);
  }
  if (chain.kind === 'categorical' || chain.kind === 'datetime') {
    throw invalidParameter(field, `column '${column.name}' ends its steps as ${chain.kind} values`);
  }
  const main = chain.kind === 'onehot' ? [chain.value] : chain.columns;
  const width = (chain.kind === 'onehot' ? chain.width : chain.columns.length) + indicators.length;
  if (width !== column.outputs.length) {
    throw invalidParameter(field, `gives ${width} columns in ONNX but ${column.outputs.length} in Kiln`);
  }
  return { pieces: [...main, ...indicators], width };
}

/**
 * Adds the graph of a fitted preprocessing pipeline: one [N, 1] input per column (double for numbers
 * and dates in milliseconds since the epoch, string for categories, NaN or '' for missing), each
 * step as standard ONNX operators in double precision (Where/IsNaN for imputation, Sub/Div and
 * Mul/Add for scaling, arithmetic for date parts) and ai.onnx.ml LabelEncoder for category lookups
 * (OneHot for one-hot, Gather from a double table for ordinal and target encodings). Returns the
 * name of the [N, features] double matrix the learner reads.
 *
 * @example
 * const x = pipelineGraph(graph, model.preprocessing);
 */
export function pipelineGraph(g: OnnxGraph, pipeline: FittedPipeline): string {
  const pieces = pipeline.columns.flatMap((column, i) => columnGraph(g, column, i).pieces);
  return g.node('Concat', pieces, { axis: attr.int(1) })[0] as string;
}
