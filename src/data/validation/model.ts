/**
 * The vocabulary of validation suites: declarative expectations about a dataset version, and the
 * report a run produces. Keys are snake_case because suites and reports are stored and sent as
 * documents (YAML, JSON, REST) in exactly this shape.
 */
import type { LogicalType } from '../model.js';

/** `error` expectations decide whether a version passes; `warn` ones are reported but never fail it. */
export type ExpectationLevel = 'error' | 'warn';

/** Every {@link ExpectationLevel}, for validation at the boundary. */
export const EXPECTATION_LEVELS: readonly ExpectationLevel[] = ['error', 'warn'];

/** What every expectation may carry. */
interface ExpectationBase {
  /** Default `error`. */
  level?: ExpectationLevel;
}

/**
 * Expectations judged row by row. `mostly` (0..1, default 1) is the share of the checked rows that
 * must pass, so a handful of known outliers need not fail a version.
 */
interface RowExpectationBase extends ExpectationBase {
  mostly?: number;
}

/** Rows where `column` is null are unexpected; every row is checked. Observed: the null count. */
export interface NotNullExpectation extends RowExpectationBase {
  type: 'not_null';
  column: string;
}

/** Non-null rows whose value occurs more than once are unexpected. Observed: the distinct count. */
export interface UniqueExpectation extends RowExpectationBase {
  type: 'unique';
  column: string;
}

/**
 * The column's logical type (from the version's schema) is one of `logical_type`; a categorical
 * column also counts as `string`. Observed: `{ logical_type, physical_type }`.
 */
export interface TypeExpectation extends ExpectationBase {
  type: 'type';
  column: string;
  logical_type: LogicalType | LogicalType[];
}

/**
 * Non-null values lie within the bounds: numbers for numeric columns, ISO 8601 strings for
 * datetime columns. Bounds are inclusive unless `strict_min` / `strict_max`. Observed: `{ min, max }`.
 */
export interface BetweenExpectation extends RowExpectationBase {
  type: 'between';
  column: string;
  min?: number | string;
  max?: number | string;
  strict_min?: boolean;
  strict_max?: boolean;
}

/** Non-null values are among `values`. Observed: the share of non-null values that pass. */
export interface InSetExpectation extends RowExpectationBase {
  type: 'in_set';
  column: string;
  values: (string | number | boolean)[];
}

/**
 * Non-null values (as text) match `pattern` entirely (DuckDB `regexp_full_match`, RE2 syntax).
 * Observed: the share of non-null values that pass.
 */
export interface RegexExpectation extends RowExpectationBase {
  type: 'regex';
  column: string;
  pattern: string;
}

/** Non-null values (as text) have between `min` and `max` characters. Observed: `{ min, max }` lengths. */
export interface StringLengthExpectation extends RowExpectationBase {
  type: 'string_length';
  column: string;
  min?: number;
  max?: number;
}

/** The relation has between `min` and `max` rows. Observed: the row count. */
export interface RowCountBetweenExpectation extends ExpectationBase {
  type: 'row_count_between';
  min?: number;
  max?: number;
}

/**
 * The relation has exactly these columns (in this order when `ordered`).
 * Observed: `{ columns, missing, extra }`.
 */
export interface ColumnSetEqualsExpectation extends ExpectationBase {
  type: 'column_set_equals';
  columns: string[];
  ordered?: boolean;
}

/** The mean of the non-null values of a numeric column lies within the inclusive bounds. */
export interface MeanBetweenExpectation extends ExpectationBase {
  type: 'mean_between';
  column: string;
  min?: number;
  max?: number;
}

/** The sample standard deviation of a numeric column lies within the inclusive bounds. */
export interface StddevBetweenExpectation extends ExpectationBase {
  type: 'stddev_between';
  column: string;
  min?: number;
  max?: number;
}

/** The `quantile` (0..1, linear interpolation) of a numeric column lies within the inclusive bounds. */
export interface QuantileBetweenExpectation extends ExpectationBase {
  type: 'quantile_between';
  column: string;
  quantile: number;
  min?: number;
  max?: number;
}

/** At most `max` (0..1) of all rows are null in `column`. Observed: the null proportion. */
export interface NullProportionBelowExpectation extends ExpectationBase {
  type: 'null_proportion_below';
  column: string;
  max: number;
}

/**
 * No combination of `columns` occurs twice; rows where every one of them is null are skipped and
 * nulls otherwise compare equal (as in GROUP BY). Observed: the distinct combination count.
 */
export interface CompoundUniqueExpectation extends RowExpectationBase {
  type: 'compound_unique';
  columns: string[];
}

/**
 * Every non-null value of `column` appears in `foreign_column` (default: the same name) of another
 * dataset's version (default: its latest). Observed: the share of non-null values that pass.
 */
export interface ForeignSubsetExpectation extends RowExpectationBase {
  type: 'foreign_subset';
  column: string;
  dataset: string;
  version?: number;
  foreign_column?: string;
}

/**
 * A boolean SQL expression over one row; rows where it is not true (false or null) are unexpected.
 * Observed: the share of rows that pass.
 */
export interface SqlExpectation extends RowExpectationBase {
  type: 'sql';
  predicate: string;
  description?: string;
}

/** One declarative check, discriminated by `type`. */
export type Expectation =
  | NotNullExpectation
  | UniqueExpectation
  | TypeExpectation
  | BetweenExpectation
  | InSetExpectation
  | RegexExpectation
  | StringLengthExpectation
  | RowCountBetweenExpectation
  | ColumnSetEqualsExpectation
  | MeanBetweenExpectation
  | StddevBetweenExpectation
  | QuantileBetweenExpectation
  | NullProportionBelowExpectation
  | CompoundUniqueExpectation
  | ForeignSubsetExpectation
  | SqlExpectation;

export type ExpectationType = Expectation['type'];

/** Every {@link ExpectationType}, in documentation order. */
export const EXPECTATION_TYPES: readonly ExpectationType[] = [
  'not_null',
  'unique',
  'type',
  'between',
  'in_set',
  'regex',
  'string_length',
  'row_count_between',
  'column_set_equals',
  'mean_between',
  'stddev_between',
  'quantile_between',
  'null_proportion_below',
  'compound_unique',
  'foreign_subset',
  'sql',
];

/** The expectation types judged row by row, which accept `mostly` and report unexpected rows. */
export const ROW_EXPECTATION_TYPES: ReadonlySet<ExpectationType> = new Set<ExpectationType>([
  'not_null',
  'unique',
  'between',
  'in_set',
  'regex',
  'string_length',
  'compound_unique',
  'foreign_subset',
  'sql',
]);

/** A named list of expectations, stored once and run against any version. */
export interface SuiteDefinition {
  name: string;
  description?: string;
  expectations: Expectation[];
}

/** Another dataset (version) a suite reads, for `foreign_subset`; no version means the latest. */
export interface ForeignReference {
  dataset: string;
  version?: number;
}

/** The outcome of one expectation. Row-based expectations also fill the element / unexpected figures. */
export interface ExpectationResult {
  /** Position in the suite's `expectations`. */
  index: number;
  type: ExpectationType;
  column?: string;
  columns?: string[];
  level: ExpectationLevel;
  success: boolean;
  /** The aggregate the verdict rests on; each expectation type documents its shape. Null on error. */
  observed: unknown;
  /** Rows checked: all rows for `not_null` and `sql`, otherwise the non-null ones. */
  element_count?: number;
  unexpected_count?: number;
  /** `unexpected_count / element_count` as a percentage; 0 when nothing was checked. */
  unexpected_percent?: number;
  /**
   * Failures only: up to 5 distinct unexpected values, smallest first; repeated combinations for
   * `compound_unique`; the first 5 unexpected rows, in relation order, for `sql`.
   */
  unexpected_examples?: unknown[];
  /** Why the expectation could not be evaluated, e.g. `column 'dleay' does not exist`. */
  error?: string;
}

/** What a suite run found. `success` is false iff some `error`-level expectation failed. */
export interface ValidationReport {
  suite: string;
  /** The saved suite version that ran, when it was a saved suite (set by the dataset service). */
  suite_version?: number;
  success: boolean;
  /** Failed error-level expectations. */
  errors: number;
  /** Failed warn-level expectations. */
  warnings: number;
  row_count: number;
  results: ExpectationResult[];
}
