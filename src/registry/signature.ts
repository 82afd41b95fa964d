import { invalidParameter, type KilnError } from '../core/index.js';

/** Column types a signature may name: MLflow's column-spec data types. */
export const SIGNATURE_TYPES = [
  'boolean',
  'integer',
  'long',
  'float',
  'double',
  'string',
  'binary',
  'datetime',
] as const;

/** One of {@link SIGNATURE_TYPES}. */
export type SignatureType = (typeof SIGNATURE_TYPES)[number];

/** One input or output column of a model. */
export interface ColumnSpec {
  readonly name?: string;
  readonly type: SignatureType;
  /** True when the column may be absent from a request. */
  readonly optional?: boolean;
}

/**
 * What a model takes and returns, stored with its version so that serving can validate requests
 * before they reach the model.
 *
 * @example
 * const signature: ModelSignature = {
 *   inputs: [{ name: 'tenure', type: 'long' }, { name: 'plan', type: 'string' }],
 *   outputs: [{ type: 'double' }],
 * };
 */
export interface ModelSignature {
  readonly inputs: readonly ColumnSpec[];
  readonly outputs?: readonly ColumnSpec[];
}

/** Most columns one side of a signature may list. */
export const MAX_SIGNATURE_COLUMNS = 4096;
/** Longest column name, in characters. */
export const MAX_COLUMN_NAME_LENGTH = 250;

const FIELD = 'signature';
const COLUMN_KEYS = new Set(['name', 'type', 'optional']);

function fail(problem: string, value?: unknown): KilnError {
  return invalidParameter(FIELD, problem, value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkColumn(value: unknown, where: string): ColumnSpec {
  if (!isRecord(value)) throw fail(`${where} must be an object like {"name": "x", "type": "double"}`);
  for (const key of Object.keys(value)) {
    if (!COLUMN_KEYS.has(key)) throw fail(`${where} has an unknown field '${key}'; use name, type and optional`);
  }
  const { name, type, optional } = value;
  if (!(SIGNATURE_TYPES as readonly unknown[]).includes(type)) {
    throw fail(`${where}.type must be one of ${SIGNATURE_TYPES.join(', ')}`, type);
  }
  const column: { name?: string; type: SignatureType; optional?: boolean } = { type: type as SignatureType };
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_COLUMN_NAME_LENGTH) {
      throw fail(`${where}.name must be a string of 1 to ${MAX_COLUMN_NAME_LENGTH} characters`, name);
    }
    column.name = name;
  }
  if (optional !== undefined) {
    if (typeof optional !== 'boolean') throw fail(`${where}.optional must be true or false`, optional);
    column.optional = optional;
  }
  return column;
}

function checkColumns(value: unknown, side: 'inputs' | 'outputs'): ColumnSpec[] {
  if (!Array.isArray(value)) throw fail(`${side} must be a list of column specs`);
  if (value.length > MAX_SIGNATURE_COLUMNS) throw fail(`${side} may list at most ${MAX_SIGNATURE_COLUMNS} columns`);
  const columns = value.map((column, i) => checkColumn(column, `${side}[${i}]`));
  const names = new Set<string>();
  for (const column of columns) {
    if (column.name === undefined) continue;
    if (names.has(column.name)) throw fail(`${side} names column '${column.name}' twice`, column.name);
    names.add(column.name);
  }
  return columns;
}

/**
 * Checks a caller-supplied signature and returns a clean copy (unknown fields refused, not
 * dropped), so that what is stored is exactly what serving will enforce later.
 *
 * @example
 * checkSignature({ inputs: [{ name: 'x', type: 'double' }] }); // { inputs: [{ name: 'x', type: 'double' }] }
 * checkSignature({ inputs: [{ type: 'float64' }] });           // throws INVALID_PARAMETER_VALUE naming signature
 */
export function checkSignature(value: unknown): ModelSignature {
  if (!isRecord(value)) throw fail('must be an object with inputs and optional outputs');
  for (const key of Object.keys(value)) {
    if (key !== 'inputs' && key !== 'outputs') throw fail(`has an unknown field '${key}'; use inputs and outputs`);
  }
  const inputs = checkColumns(value.inputs, 'inputs');
  if (value.outputs === undefined) return { inputs };
  return { inputs, outputs: checkColumns(value.outputs, 'outputs') };
}

/** Reads back a signature the store holds as JSON text (written from a checked one); undefined when none. */
export function parseStoredSignature(text: string | null): ModelSignature | undefined {
  return text === null ? undefined : (JSON.parse(text) as ModelSignature);
}
