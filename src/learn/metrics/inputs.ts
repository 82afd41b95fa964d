import { KilnError } from '../../core/index.js';

/** Numbers a metric reads: typed arrays from learners, plain arrays from tests and small callers. */
export type Values = ArrayLike<number>;

function invalid(field: string, message: string, extra: Record<string, unknown> = {}): KilnError {
  return new KilnError('INVALID_PARAMETER_VALUE', message, { field, ...extra });
}

/** Throws unless `values` is non-empty and `other` has `width` values per row of `values`. */
export function checkLengths(values: Values, field: string, other: Values, otherField: string, width = 1): void {
  if (values.length === 0) throw invalid(field, `${field} is empty`);
  if (other.length !== values.length * width) {
    const expected = width === 1 ? `${values.length}` : `${values.length} × ${width} = ${values.length * width}`;
    throw invalid(otherField, `${otherField} has ${other.length} values, expected ${expected} to match ${field}`, {
      expected: values.length * width,
      actual: other.length,
    });
  }
}

/**
 * Throws unless every value is a class code 0 … limit-1 (limit defaults to unbounded); returns the
 * number of classes seen, i.e. the largest code + 1.
 */
export function checkLabels(values: Values, field: string, limit = Number.POSITIVE_INFINITY): number {
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      const allowed = limit === Number.POSITIVE_INFINITY ? 'a class code >= 0' : `a class code 0 … ${limit - 1}`;
      throw invalid(field, `${field}[${i}] is ${Number.isNaN(v) ? 'NaN' : v}, expected ${allowed}`, { index: i });
    }
    if (v > max) max = v;
  }
  return max + 1;
}

/** Throws unless every value is finite (NaN or ±Infinity name the first bad index). */
export function checkFinite(values: Values, field: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw invalid(field, `${field}[${i}] is ${v}, expected a finite number`, { index: i });
  }
}

/** Throws unless every value is a probability in [0, 1]. */
export function checkProbabilities(values: Values, field: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= 0 && v <= 1))
      throw invalid(field, `${field}[${i}] is ${v}, expected a probability in [0, 1]`, { index: i });
  }
}

/** Throws an INVALID_PARAMETER_VALUE error for `field`. */
export function fail(field: string, message: string): never {
  throw invalid(field, message);
}
