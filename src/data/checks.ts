/** Input checks shared by the data context's use cases: each failure is a 400 naming the field. */
import { KilnError } from '../core/index.js';
import { DATA_FORMATS, type DataFormat } from './model.js';

/** Dataset names: safe in URLs, CLI arguments and blob keys. */
export const DATASET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The name, or INVALID_PARAMETER_VALUE naming `field` when it does not match {@link DATASET_NAME_PATTERN}. */
export function checkName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !DATASET_NAME_PATTERN.test(name)) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `dataset name must match ${DATASET_NAME_PATTERN}, got '${String(name)}'`,
      { field, value: name },
    );
  }
  return name;
}

/** A description of at most 4096 characters; otherwise a 400 naming `description`. */
export function checkDescription(description: unknown): string {
  if (typeof description !== 'string' || description.length > 4096) {
    throw new KilnError('INVALID_PARAMETER_VALUE', 'description must be a string of at most 4096 characters', {
      field: 'description',
    });
  }
  return description;
}

/** A copy of `tags` when it is an object of strings; otherwise a 400 naming the offending tag. */
export function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', 'tags must be an object of strings', { field: 'tags' });
  }
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== 'string') {
      throw new KilnError('INVALID_PARAMETER_VALUE', `tag '${key}' must be a string`, { field: `tags.${key}` });
    }
  }
  return { ...(tags as Record<string, string>) };
}

/** Refuses a format Kiln cannot read, naming the `format` field. */
export function checkReadOptions(input: { format?: DataFormat }): void {
  if (input.format !== undefined && !DATA_FORMATS.includes(input.format)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `format must be one of ${DATA_FORMATS.join(', ')}`, {
      field: 'format',
      value: input.format,
    });
  }
}

/** The value when it is an integer ≥ 1; otherwise a 400 naming `field`. */
export function positive(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${field} must be a positive integer, got ${value}`, {
      field,
      value,
    });
  }
  return value;
}

/** The DuckDB error's first line, which is the part that names the problem. */
export function duckMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
