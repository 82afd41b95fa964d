/**
 * What flows between the steps of one column's chain: the column itself at the start, numeric
 * columns after an encoder or date-part step, and one-hot indices at the end. Internal to preprocess.
 */

/** Numeric columns with their output names; NaN is missing. */
export interface NumericBlock {
  kind: 'numeric';
  columns: Float64Array[];
  names: string[];
}

/** A categorical column as in a frame: codes into `dictionary`, -1 missing. */
export interface CategoricalBlock {
  kind: 'categorical';
  codes: Int32Array;
  dictionary: string[];
}

/** Milliseconds since the epoch, NaN missing. */
export interface DatetimeBlock {
  kind: 'datetime';
  values: Float64Array;
}

/** One-hot output kept sparse until the matrix is assembled: the hot column per row, -1 none. */
export interface OneHotBlock {
  kind: 'onehot';
  hot: Int32Array;
  names: string[];
}

export type Block = NumericBlock | CategoricalBlock | DatetimeBlock | OneHotBlock;

/** A category as stored in fitted state: its string, or null for "missing". */
export type Category = string | null;

/**
 * The categories present in `block` with their counts, sorted as numpy sorts strings, missing
 * (null) last — the order sklearn's encoders use. Dictionary entries that never occur are left out.
 */
export function countCategories(block: CategoricalBlock): { categories: Category[]; counts: number[] } {
  const perCode = new Float64Array(block.dictionary.length);
  let missing = 0;
  const { codes } = block;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    if (c < 0) missing++;
    else perCode[c] = (perCode[c] as number) + 1;
  }
  const byValue = new Map<string, number>();
  block.dictionary.forEach((value, code) => {
    const n = perCode[code] as number;
    if (n > 0) byValue.set(value, (byValue.get(value) ?? 0) + n);
  });
  const categories: Category[] = [...byValue.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const counts = categories.map((c) => byValue.get(c as string) as number);
  if (missing > 0) {
    categories.push(null);
    counts.push(missing);
  }
  return { categories, counts };
}

/**
 * For each code of `dictionary`, the position of its string in `categories` (-1 when unknown), and
 * the position of null (missing) or -1: built once per column so the row loop is an array lookup.
 */
export function categoryLookup(
  categories: readonly Category[],
  dictionary: readonly string[],
): { byCode: Int32Array; missing: number } {
  const position = new Map<Category, number>(categories.map((c, i) => [c, i]));
  const byCode = Int32Array.from(dictionary, (value) => position.get(value) ?? -1);
  return { byCode, missing: position.get(null) ?? -1 };
}

/** Maps each row of `block` through `lookup` to a category position, -1 unknown. */
export function categoryPositions(
  block: CategoricalBlock,
  lookup: { byCode: Int32Array; missing: number },
): Int32Array {
  const { codes } = block;
  const { byCode, missing } = lookup;
  const out = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    out[i] = c < 0 ? missing : (byCode[c] ?? -1);
  }
  return out;
}

/** JSON has no NaN: fitted state stores NaN as null. */
export function toJsonNumber(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

/** The inverse of {@link toJsonNumber}. */
export function fromJsonNumber(x: number | null): number {
  return x ?? Number.NaN;
}
