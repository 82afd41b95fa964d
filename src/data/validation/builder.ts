import type { LogicalType } from '../model.js';
import { checkSuite } from './check.js';
import type {
  BetweenExpectation,
  ColumnSetEqualsExpectation,
  CompoundUniqueExpectation,
  Expectation,
  ExpectationLevel,
  ForeignSubsetExpectation,
  InSetExpectation,
  MeanBetweenExpectation,
  NotNullExpectation,
  NullProportionBelowExpectation,
  QuantileBetweenExpectation,
  RegexExpectation,
  RowCountBetweenExpectation,
  SqlExpectation,
  StddevBetweenExpectation,
  StringLengthExpectation,
  SuiteDefinition,
  TypeExpectation,
  UniqueExpectation,
} from './model.js';

/** Options every expectation takes. */
export interface LevelOptions {
  level?: ExpectationLevel;
}

/** Options of row-based expectations: `mostly` is the share of checked rows that must pass. */
export interface RowOptions extends LevelOptions {
  mostly?: number;
}

/** Inclusive numeric bounds; give at least one. */
export interface Bounds {
  min?: number;
  max?: number;
}

/**
 * Builders for each expectation type, so a suite can be declared in TypeScript with the same
 * meaning as its YAML; option names are camelCase here and snake_case in the document.
 *
 * @example
 * expect.between('delay', { min: -60, max: 1500, mostly: 0.999 }); // { type: 'between', column: 'delay', ... }
 */
export const expect = {
  notNull: (column: string, options: RowOptions = {}): NotNullExpectation => ({ type: 'not_null', column, ...options }),
  unique: (column: string, options: RowOptions = {}): UniqueExpectation => ({ type: 'unique', column, ...options }),
  type: (column: string, logicalType: LogicalType | LogicalType[], options: LevelOptions = {}): TypeExpectation => ({
    type: 'type',
    column,
    logical_type: logicalType,
    ...options,
  }),
  between: (
    column: string,
    {
      strictMin,
      strictMax,
      ...rest
    }: { min?: number | string; max?: number | string; strictMin?: boolean; strictMax?: boolean } & RowOptions,
  ): BetweenExpectation => ({ type: 'between', column, ...rest, strict_min: strictMin, strict_max: strictMax }),
  inSet: (column: string, values: (string | number | boolean)[], options: RowOptions = {}): InSetExpectation => ({
    type: 'in_set',
    column,
    values,
    ...options,
  }),
  regex: (column: string, pattern: string, options: RowOptions = {}): RegexExpectation => ({
    type: 'regex',
    column,
    pattern,
    ...options,
  }),
  stringLength: (column: string, options: Bounds & RowOptions): StringLengthExpectation => ({
    type: 'string_length',
    column,
    ...options,
  }),
  rowCountBetween: (options: Bounds & LevelOptions): RowCountBetweenExpectation => ({
    type: 'row_count_between',
    ...options,
  }),
  columnSetEquals: (
    columns: string[],
    options: { ordered?: boolean } & LevelOptions = {},
  ): ColumnSetEqualsExpectation => ({ type: 'column_set_equals', columns, ...options }),
  meanBetween: (column: string, options: Bounds & LevelOptions): MeanBetweenExpectation => ({
    type: 'mean_between',
    column,
    ...options,
  }),
  stddevBetween: (column: string, options: Bounds & LevelOptions): StddevBetweenExpectation => ({
    type: 'stddev_between',
    column,
    ...options,
  }),
  quantileBetween: (column: string, quantile: number, options: Bounds & LevelOptions): QuantileBetweenExpectation => ({
    type: 'quantile_between',
    column,
    quantile,
    ...options,
  }),
  nullProportionBelow: (column: string, max: number, options: LevelOptions = {}): NullProportionBelowExpectation => ({
    type: 'null_proportion_below',
    column,
    max,
    ...options,
  }),
  compoundUnique: (columns: string[], options: RowOptions = {}): CompoundUniqueExpectation => ({
    type: 'compound_unique',
    columns,
    ...options,
  }),
  foreignSubset: (
    column: string,
    dataset: string,
    { foreignColumn, ...rest }: { version?: number; foreignColumn?: string } & RowOptions = {},
  ): ForeignSubsetExpectation => ({ type: 'foreign_subset', column, dataset, ...rest, foreign_column: foreignColumn }),
  sql: (predicate: string, options: { description?: string } & RowOptions = {}): SqlExpectation => ({
    type: 'sql',
    predicate,
    ...options,
  }),
};

/**
 * Declares a suite in TypeScript and checks it exactly as a YAML or JSON document would be checked,
 * so a bad bound fails where the suite is declared rather than when it first runs.
 *
 * @example
 * const flights = suite('flights', [
 *   expect.notNull('origin'),
 *   expect.between('delay', { min: -60, max: 1500 }),
 *   expect.inSet('origin', ['ATL', 'ORD'], { level: 'warn' }),
 * ]);
 */
export function suite(
  name: string,
  expectations: Expectation[],
  options: { description?: string } = {},
): SuiteDefinition {
  return checkSuite({ name, ...options, expectations });
}
