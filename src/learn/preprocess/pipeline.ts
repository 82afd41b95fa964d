import { invalidParameter } from '../../core/index.js';
import type { Column, Frame } from '../frame.js';
import type { Matrix } from '../matrix.js';
import type { Block, NumericBlock, OneHotBlock } from './block.js';
import { applyDateParts } from './dates.js';
import { applyOneHot, applyOrdinal, type FittedOneHot, type FittedOrdinal, fitOneHot, fitOrdinal } from './encode.js';
import {
  applyImputeCategorical,
  applyImputeNumeric,
  type FittedImpute,
  fitImputeCategorical,
  fitImputeNumeric,
} from './impute.js';
import { applyMinMax, applyStandard, type FittedMinMax, type FittedStandard, fitMinMax, fitStandard } from './scale.js';
import { checkPipelineSpec, type DatePart, type PipelineSpec, type Step } from './spec.js';
import { applyTarget, type FittedTarget, fitTarget, type TargetValues } from './target.js';

/** Fitted date-part extraction (stateless apart from the parts). */
export interface FittedDateParts {
  kind: 'dateparts';
  parts: DatePart[];
}

/** The fitted state of one step. */
export type FittedStep =
  | FittedImpute
  | FittedStandard
  | FittedMinMax
  | FittedOneHot
  | FittedOrdinal
  | FittedTarget
  | FittedDateParts;

/** One input column's fitted chain and the output columns it produces. */
export interface FittedColumn {
  name: string;
  /** The column's kind at fit; transform requires the same. */
  input: Column['kind'];
  steps: FittedStep[];
  outputs: string[];
}

/**
 * A fitted pipeline: plain JSON (numbers, strings, arrays, null for NaN), stored inside a model and
 * re-applied with {@link transform} after `JSON.parse`. Loading it never runs code.
 */
export interface FittedPipeline {
  format: 'kiln.preprocess';
  version: 1;
  columns: FittedColumn[];
  /** All output column names, in matrix order. */
  names: string[];
}

/** Options for {@link fitPipeline} and {@link fitTransform}. */
export interface FitOptions {
  /**
   * The training target, one finite number per row; required when a column has a `target` step.
   * A target whose values are all 0 or 1 is treated as binary (stratified folds).
   */
  target?: Float64Array | readonly number[];
}

interface ColumnOutput {
  main: NumericBlock | OneHotBlock;
  indicators: NumericBlock[];
}

function startBlock(col: Column): Block {
  if (col.kind === 'categorical') return { kind: 'categorical', codes: col.codes, dictionary: col.dictionary };
  if (col.kind === 'datetime') return { kind: 'datetime', values: col.values };
  return { kind: 'numeric', columns: [col.values], names: [col.name] };
}

function frameColumn(frame: Frame, name: string, expected?: Column['kind']): Column {
  const col = frame.columns.find((c) => c.name === name);
  if (col === undefined) {
    throw invalidParameter(
      `columns.${name}`,
      `no column '${name}' in the data; it has ${frame.columns.map((c) => c.name).join(', ')}`,
    );
  }
  if (expected !== undefined && col.kind !== expected) {
    throw invalidParameter(
      `columns.${name}`,
      `column '${name}' was ${expected} when the pipeline was fitted, is ${col.kind} now`,
    );
  }
  return col;
}

const STEP_INPUT: Record<Step['kind'], readonly Block['kind'][]> = {
  impute: ['numeric', 'categorical'],
  standard: ['numeric'],
  minmax: ['numeric'],
  onehot: ['categorical'],
  ordinal: ['categorical'],
  target: ['categorical'],
  dateparts: ['datetime'],
};

/** Applies one fitted step; the block kinds were checked at fit and the input kind at transform. */
function applyStep(fitted: FittedStep, block: Block, name: string, indicators: NumericBlock[]): Block {
  switch (fitted.kind) {
    case 'impute': {
      const result =
        block.kind === 'categorical'
          ? applyImputeCategorical(fitted, block, name)
          : applyImputeNumeric(fitted, block as NumericBlock);
      if (result.indicators.columns.length > 0) indicators.push(result.indicators);
      return result.out;
    }
    case 'standard':
      return applyStandard(fitted, block as NumericBlock);
    case 'minmax':
      return applyMinMax(fitted, block as NumericBlock);
    case 'onehot':
      return applyOneHot(fitted, block as Extract<Block, { kind: 'categorical' }>, name);
    case 'ordinal':
      return applyOrdinal(fitted, block as Extract<Block, { kind: 'categorical' }>, name);
    case 'target':
      return applyTarget(fitted, block as Extract<Block, { kind: 'categorical' }>, name);
    case 'dateparts':
      return applyDateParts(fitted.parts, block as Extract<Block, { kind: 'datetime' }>, name);
  }
}

function checkFinite(col: Column, field: string): void {
  if (col.kind !== 'float') return;
  const { values } = col;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      throw invalidParameter(field, `row ${i} is ${v}; use NaN for missing values`);
    }
  }
}

function fitColumn(
  name: string,
  steps: readonly Step[],
  col: Column,
  target: TargetValues | undefined,
): { fitted: FittedColumn; output: ColumnOutput } {
  const field = `columns.${name}`;
  checkFinite(col, field);
  let block = startBlock(col);
  const fittedSteps: FittedStep[] = [];
  const indicators: NumericBlock[] = [];
  steps.forEach((step, i) => {
    const stepField = `${field}[${i}]`;
    if (block.kind === 'onehot') throw invalidParameter(stepField, `'onehot' must be the last step of ${field}`);
    if (!STEP_INPUT[step.kind].includes(block.kind)) {
      const what = i === 0 ? `column '${name}' is ${col.kind}` : `the step before gives ${block.kind} values`;
      throw invalidParameter(stepField, `'${step.kind}' needs ${STEP_INPUT[step.kind].join(' or ')} input; ${what}`);
    }
    if (step.kind === 'target') {
      if (target === undefined)
        throw invalidParameter('target', `${stepField} is target encoding, which needs a target`);
      const result = fitTarget(step, block as Extract<Block, { kind: 'categorical' }>, target, name, stepField);
      fittedSteps.push(result.fitted);
      block = result.outOfFold;
      return;
    }
    let fitted: FittedStep;
    switch (step.kind) {
      case 'impute':
        fitted =
          block.kind === 'categorical'
            ? fitImputeCategorical(step, block, stepField)
            : fitImputeNumeric(step, block as NumericBlock, stepField);
        break;
      case 'standard':
        fitted = fitStandard(step, block as NumericBlock, stepField);
        break;
      case 'minmax':
        fitted = fitMinMax(step, block as NumericBlock, stepField);
        break;
      case 'onehot':
        fitted = fitOneHot(step, block as Extract<Block, { kind: 'categorical' }>);
        break;
      case 'ordinal':
        fitted = fitOrdinal(step, block as Extract<Block, { kind: 'categorical' }>);
        break;
      case 'dateparts':
        fitted = { kind: 'dateparts', parts: [...step.parts] };
        break;
    }
    fittedSteps.push(fitted);
    block = applyStep(fitted, block, name, indicators);
  });
  if (block.kind === 'categorical') {
    throw invalidParameter(field, `categorical column '${name}' needs an encoding step: onehot, ordinal or target`);
  }
  if (block.kind === 'datetime') {
    throw invalidParameter(field, `datetime column '${name}' needs a dateparts step`);
  }
  const output: ColumnOutput = { main: block, indicators };
  return {
    fitted: { name, input: col.kind, steps: fittedSteps, outputs: outputNames(output) },
    output,
  };
}

function outputNames(output: ColumnOutput): string[] {
  return [...output.main.names, ...output.indicators.flatMap((b) => b.names)];
}

function targetValues(raw: FitOptions['target'], rows: number): TargetValues {
  if (raw === undefined) throw invalidParameter('target', 'target encoding needs a target');
  if (raw.length !== rows) throw invalidParameter('target', `has ${raw.length} values for ${rows} rows`);
  const y = Float64Array.from(raw);
  let binary = true;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (!Number.isFinite(v)) throw invalidParameter('target', `row ${i} is ${v}; the target must be finite`);
    if (v !== 0 && v !== 1) binary = false;
  }
  return { y, binary };
}

function assemble(rows: number, outputs: readonly ColumnOutput[], names: string[]): Matrix {
  const cols = names.length;
  const data = new Float64Array(rows * cols);
  let offset = 0;
  const writeNumeric = (block: NumericBlock) => {
    for (const values of block.columns) {
      for (let r = 0, at = offset; r < rows; r++, at += cols) data[at] = values[r] as number;
      offset++;
    }
  };
  for (const { main, indicators } of outputs) {
    if (main.kind === 'onehot') {
      const { hot } = main;
      for (let r = 0; r < rows; r++) {
        const h = hot[r] as number;
        if (h >= 0) data[r * cols + offset + h] = 1;
      }
      offset += main.names.length;
    } else writeNumeric(main);
    for (const block of indicators) writeNumeric(block);
  }
  return { rows, cols, data, names };
}

function fitAll(
  spec: PipelineSpec,
  frame: Frame,
  options: FitOptions,
): { fitted: FittedPipeline; outputs: ColumnOutput[] } {
  checkPipelineSpec(spec);
  const entries = Object.entries(spec.columns);
  const needsTarget = entries.some(([, steps]) => steps.some((s) => s.kind === 'target'));
  const target = needsTarget ? targetValues(options.target, frame.rows) : undefined;
  const columns: FittedColumn[] = [];
  const outputs: ColumnOutput[] = [];
  for (const [name, steps] of entries) {
    const { fitted, output } = fitColumn(name, steps, frameColumn(frame, name), target);
    columns.push(fitted);
    outputs.push(output);
  }
  return {
    fitted: { format: 'kiln.preprocess', version: 1, columns, names: columns.flatMap((c) => c.outputs) },
    outputs,
  };
}

/**
 * Fits a preprocessing pipeline on training data. Columns not named in `spec` are dropped. Bad specs,
 * missing columns and steps that do not suit a column's type throw KilnError INVALID_PARAMETER_VALUE
 * naming `columns.<name>` or `columns.<name>[<step>]`.
 *
 * @example
 * const fitted = fitPipeline(
 *   { columns: { origin: [{ kind: 'onehot', maxCategories: 20 }], delay: [{ kind: 'impute', strategy: 'median' }, { kind: 'standard' }] } },
 *   train,
 * );
 * const x = transform(fitted, test); // x.names: ['origin=ATL', …, 'origin=(other)', 'delay']
 */
export function fitPipeline(spec: PipelineSpec, frame: Frame, options: FitOptions = {}): FittedPipeline {
  return fitAll(spec, frame, options).fitted;
}

/**
 * Fits on `frame` and returns its matrix too. Unlike `transform(fitPipeline(…), frame)`, target-encoded
 * columns hold out-of-fold encodings, so a learner trained on this matrix does not see each row's own
 * target leaking through its encoding; steps after a target step were fitted on those values too.
 *
 * @example
 * const { fitted, matrix } = fitTransform({ columns: { carrier: [{ kind: 'target' }] } }, train, { target: y });
 */
export function fitTransform(
  spec: PipelineSpec,
  frame: Frame,
  options: FitOptions = {},
): { fitted: FittedPipeline; matrix: Matrix } {
  const { fitted, outputs } = fitAll(spec, frame, options);
  return { fitted, matrix: assemble(frame.rows, outputs, fitted.names) };
}

/**
 * Applies a fitted pipeline (possibly just parsed from JSON) to new data, e.g. at predict time.
 * Unknown categories follow each encoder's rule; extra columns in `frame` are ignored.
 *
 * @example
 * const fitted = JSON.parse(JSON.stringify(fitPipeline(spec, train))) as FittedPipeline;
 * const x = transform(fitted, frameOfRequests);
 */
export function transform(fitted: FittedPipeline, frame: Frame): Matrix {
  if (fitted.format !== 'kiln.preprocess' || fitted.version !== 1) {
    throw invalidParameter('preprocessing', `is not a version 1 kiln.preprocess pipeline`);
  }
  const outputs = fitted.columns.map((fc): ColumnOutput => {
    let block = startBlock(frameColumn(frame, fc.name, fc.input));
    const indicators: NumericBlock[] = [];
    for (const step of fc.steps) block = applyStep(step, block, fc.name, indicators);
    return { main: block as NumericBlock | OneHotBlock, indicators };
  });
  return assemble(frame.rows, outputs, fitted.names);
}
