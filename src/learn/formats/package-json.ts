import { invalidParameter } from '../../core/index.js';

/**
 * How the model package writes numbers JSON cannot hold: NaN and ±Infinity become the strings
 * `"NaN"`, `"Infinity"` and `"-Infinity"`; every other number is a plain JSON number.
 *
 * @example
 * encodeNumber(Number.NaN); // 'NaN'
 */
export function encodeNumber(x: number): number | string {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/**
 * `JSON.stringify` for package files: typed arrays as arrays, non-finite numbers as
 * {@link encodeNumber} strings, two-space indentation, UTF-8 bytes.
 *
 * @example
 * const bytes = packageJson({ coef: Float64Array.of(1, Number.NaN) }); // {"coef": [1, "NaN"]}
 */
export function packageJson(value: unknown): Uint8Array {
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'number') return encodeNumber(v);
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        return Array.from(v as unknown as ArrayLike<number>, (x) => encodeNumber(x));
      }
      return v;
    },
    2,
  );
  return new TextEncoder().encode(`${text}\n`);
}

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** Which numbers a field accepts: by default finite ones only. */
export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Accept the encoded `"NaN"` / `"Infinity"` / `"-Infinity"` strings too. */
  nonFinite?: boolean;
  /** Accept JSON null as NaN (the preprocessing convention). */
  nullIsNaN?: boolean;
}

/**
 * Strict reader of one parsed package file: every accessor checks the type (and range, length,
 * allowed keys) of one field and throws KilnError INVALID_PARAMETER_VALUE whose field is
 * `<file>:<path>`, e.g. `learner.json:trees[3].left[7]`.
 *
 * @example
 * const file = new JsonFile('learner.json');
 * const learner = file.object(parsed, '', ['kind', 'coef'], []);
 * const coef = file.numbers(learner.coef, 'coef');
 */
export class JsonFile {
  constructor(readonly file: string) {}

  fail(path: string, problem: string): never {
    throw invalidParameter(path === '' ? this.file : `${this.file}:${path}`, problem);
  }

  /** Parses UTF-8 JSON bytes, failing with the file name. */
  parse(bytes: Uint8Array): unknown {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (error) {
      return this.fail('', `is not valid UTF-8 JSON (${(error as Error).message})`);
    }
  }

  /** An object with all of `required` and only keys from `required` and `optional`. */
  object(
    value: unknown,
    path: string,
    required: readonly string[],
    optional: readonly string[] = [],
  ): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'must be an object');
    const record = value as Record<string, unknown>;
    for (const key of required) if (!(key in record)) this.fail(join(path, key), 'is required');
    for (const key of Object.keys(record)) {
      if (!required.includes(key) && !optional.includes(key)) this.fail(join(path, key), 'is not a known field');
    }
    return record;
  }

  array(value: unknown, path: string, length?: number): unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'must be an array');
    const items = value as unknown[];
    if (length !== undefined && items.length !== length) {
      this.fail(path, `has ${items.length} entries, expected ${length}`);
    }
    return items;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'must be a string');
    return value as string;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false');
    return value as boolean;
  }

  oneOf<T extends string | number>(value: unknown, path: string, allowed: readonly T[]): T {
    if (!(allowed as readonly unknown[]).includes(value)) {
      this.fail(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
    return value as T;
  }

  number(value: unknown, path: string, rule: NumberRule = {}): number {
    let x: number;
    if (typeof value === 'number') x = value;
    else if (rule.nonFinite && typeof value === 'string' && value in NON_FINITE) x = NON_FINITE[value] as number;
    else if (rule.nullIsNaN && value === null) x = Number.NaN;
    else return this.fail(path, `must be a number${rule.nonFinite ? ' or "NaN", "Infinity", "-Infinity"' : ''}`);
    if (rule.integer && !Number.isInteger(x)) this.fail(path, `must be an integer, got ${x}`);
    if (rule.min !== undefined && !(x >= rule.min)) this.fail(path, `must be ≥ ${rule.min}, got ${x}`);
    if (rule.max !== undefined && !(x <= rule.max)) this.fail(path, `must be ≤ ${rule.max}, got ${x}`);
    return x;
  }

  numbers(value: unknown, path: string, length?: number, rule: NumberRule = {}): number[] {
    return this.array(value, path, length).map((x, i) => this.number(x, `${path}[${i}]`, rule));
  }

  strings(value: unknown, path: string, length?: number): string[] {
    return this.array(value, path, length).map((x, i) => this.string(x, `${path}[${i}]`));
  }

  /** Strings or null (a missing category), without duplicates. */
  categories(value: unknown, path: string, allowNull: boolean): (string | null)[] {
    const items = this.array(value, path).map((x, i) => {
      if (x === null && allowNull) return null;
      return this.string(x, `${path}[${i}]`);
    });
    if (new Set(items).size !== items.length) this.fail(path, 'lists a category twice');
    return items;
  }
}

/** `path.key`, or `key` at the top. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}
