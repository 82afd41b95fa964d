import type { DuckDBConnection } from '@duckdb/node-api';
import { KilnError } from '../core/index.js';
import type { DatasetSchema } from './model.js';
import { quoteIdent, quoteLiteral } from './schema.js';

/** The kinds of personal data {@link scanPii} recognises; see its doc comment for each rule. */
export type PiiKind = 'email' | 'phone' | 'credit_card' | 'iban' | 'ip_address' | 'national_id';

/** Every {@link PiiKind}, in the order a {@link PiiReport} lists them within a column. */
export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'credit_card', 'iban', 'ip_address', 'national_id'];

/** How many values of one column look like one kind of personal data. Never the values themselves. */
export interface PiiColumnReport {
  column: string;
  kind: PiiKind;
  /** Non-null values that are, as a whole (after trimming spaces), of this kind. */
  matches: number;
  /** Non-null values scanned in this column. */
  non_null: number;
  /** `matches / non_null`. */
  share: number;
  /** `share >= threshold`: the column should be masked, hashed or dropped before it is shared. */
  flagged: boolean;
}

/** What {@link scanPii} found; snake_case because it is stored and sent as JSON as is. */
export interface PiiReport {
  rows_scanned: number;
  threshold: number;
  /** Every (column, kind) with at least one match, columns in schema order, kinds in {@link PII_KINDS} order. */
  columns: PiiColumnReport[];
}

/** Knobs of {@link scanPii}. */
export interface PiiScanOptions {
  /** Share of a column's non-null values that must match for it to be flagged; in [0, 1], default 0.5. */
  threshold?: number;
  /** Scan only the first this many rows of the relation (reading stops early); default every row. */
  sampleRows?: number;
}

/** What {@link piiProjection} does to each listed column. */
export type PiiAction = 'mask' | 'hash' | 'drop';

/** Every {@link PiiAction}, for validation at the boundary. */
export const PII_ACTIONS: readonly PiiAction[] = ['mask', 'hash', 'drop'];

/** Columns to protect and how. */
export interface PiiPolicy {
  action: PiiAction;
  columns: string[];
}

const DEFAULT_THRESHOLD = 0.5;

const EMAIL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOMAIN_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL = `${EMAIL_ATOM}(?:\\.${EMAIL_ATOM})*@(?:${DOMAIN_LABEL}\\.)+[A-Za-z]{2,63}`;

const PHONE_CHARACTERS = '[+(0-9][0-9 ().-]{6,}';
const PHONE_PLUS = '\\+[0-9](?:[ .-]?\\(?[0-9]+\\)?)*';
const PHONE_PARENTHESES = '(?:[0-9]{1,3}[ .-]?)?\\([0-9]{1,5}\\)[ .-]?[0-9]{2,5}(?:[ .-]?[0-9]{2,5})*';
const PHONE_SEPARATED = '[0-9]{1,4}(?:[ -][0-9]{2,4}){2,4}';

const CARD = '[2-6](?:[ -]?[0-9]){12,18}';
const IBAN = '[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?';

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const H = '[0-9A-Fa-f]{1,4}';
const IPV6 = [
  `(?:${H}:){7}${H}`,
  `(?:${H}:){1,7}:`,
  `(?:${H}:){1,6}:${H}`,
  `(?:${H}:){1,5}(?::${H}){1,2}`,
  `(?:${H}:){1,4}(?::${H}){1,3}`,
  `(?:${H}:){1,3}(?::${H}){1,4}`,
  `(?:${H}:){1,2}(?::${H}){1,5}`,
  `${H}:(?::${H}){1,6}`,
  `:(?:(?::${H}){1,7}|:)`,
  `(?:${H}:){6}${IPV4}`,
  `::(?:[Ff]{4}(?::0{1,4})?:)?${IPV4}`,
  `(?:${H}:){1,4}:${IPV4}`,
].join('|');

const SSN =
  '(?:0(?:0[1-9]|[1-9][0-9])|[1-57-8][0-9]{2}|6(?:[0-57-9][0-9]|6[0-57-9]))-(?:0[1-9]|[1-9][0-9])-(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})';
const NINO = '[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]';
const NINO_EXCLUDED_PREFIXES = ['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'];

function full(v: string, pattern: string): string {
  return `regexp_full_match(${v}, ${quoteLiteral(pattern)})`;
}

/**
 * Luhn over the digits of `v`: from the right, every second digit is doubled (minus 9 above 9) and
 * the sum must end in 0. Runs inside DuckDB on the reversed digit list.
 */
function luhn(v: string): string {
  const digits = `list_reverse(string_split(regexp_replace(${v}, '[^0-9]', '', 'g'), ''))`;
  const term =
    "lambda d, i: case when i % 2 = 1 then ascii(d) - 48 when d >= '5' then ascii(d) * 2 - 105 else ascii(d) * 2 - 96 end";
  return `list_sum(list_transform(${digits}, ${term})) % 10 = 0`;
}

/**
 * ISO 7064 mod-97 of an IBAN: the first four characters move to the end, letters become 10..35, and
 * the remainder is accumulated character by character (×100 for a letter, ×10 for a digit) so no
 * number ever exceeds 97 × 100; a valid IBAN leaves 1.
 */
function mod97(v: string): string {
  const s = `upper(replace(${v}, ' ', ''))`;
  const rotated = `string_split(substr(${s}, 5) || left(${s}, 4), '')`;
  const values = `list_transform(${rotated}, lambda c: case when c <= '9' then ascii(c) - 48 else ascii(c) - 55 end)`;
  return `list_reduce(list_prepend(0, ${values}), lambda acc, x: (acc * case when x >= 10 then 100 else 10 end + x) % 97) = 1`;
}

/**
 * One SQL boolean per kind over the VARCHAR expression `v` (already trimmed). CASE guards the costly
 * parts: unlike AND, DuckDB evaluates a CASE branch only for the rows that reach it.
 */
function predicates(v: string): Record<PiiKind, string> {
  const upper = `upper(${v})`;
  const digits = `length(translate(${v}, '+() .-', ''))`;
  return {
    email: `case when contains(${v}, '@') then ${full(v, EMAIL)} else false end`,
    phone: `case when not ${full(v, PHONE_CHARACTERS)} then false
      when starts_with(${v}, '+') then ${full(v, PHONE_PLUS)} and ${digits} between 8 and 15
      when contains(${v}, '(') then ${full(v, PHONE_PARENTHESES)} and ${digits} between 7 and 15
      else ${full(v, PHONE_SEPARATED)} and ${digits} between 10 and 11 end`,
    credit_card: `case when ${full(v, CARD)} then ${luhn(v)} else false end`,
    iban: `case when ${full(upper, IBAN)} and length(replace(${v}, ' ', '')) between 15 and 34 then ${mod97(v)} else false end`,
    ip_address: `case when contains(${v}, ':') then ${full(v, IPV6)} else ${full(v, IPV4)} end`,
    national_id: `(${full(v, SSN)} or (${full(upper, NINO)} and left(${upper}, 2) not in (${NINO_EXCLUDED_PREFIXES.map(quoteLiteral).join(', ')})))`,
  };
}

function fail(field: string, message: string, details: Record<string, unknown> = {}): never {
  throw new KilnError('INVALID_PARAMETER_VALUE', message, { field, ...details });
}

/**
 * Finds columns that hold personal data, so a dataset can be masked before it is shared or trained
 * on. Only string and categorical columns are scanned; a value counts when, trimmed, it is as a whole
 * one of these (free text that merely mentions an e-mail address is not matched):
 *
 * - `email`: `local@domain.tld`, dot-separated atoms of RFC 5322 characters, a TLD of 2+ letters;
 * - `phone`: `+` then 8–15 digits (E.164, separators and an area code in parentheses allowed), or an
 *   area code in parentheses and 7–15 digits, or 10–11 digits in groups separated by spaces or
 *   dashes (`555-123-4567`, `020 7946 0958`); plain digit strings (years, ids) never match;
 * - `credit_card`: 13–19 digits, optional spaces or dashes, a first digit 2–6 (the card networks'
 *   major industry identifiers), passing the Luhn checksum;
 * - `iban`: 2 letters, 2 check digits, 11–30 letters or digits (a space allowed every 4), passing
 *   the ISO 7064 mod-97 check;
 * - `ip_address`: IPv4 (each octet 0–255, no leading zeros) or IPv6 (full, `::` compressed, or with
 *   an embedded IPv4 tail);
 * - `national_id`: US Social Security numbers `ddd-dd-dddd` (area not 000, 666 or 9xx, group not 00,
 *   serial not 0000) and UK National Insurance numbers (two prefix letters, neither D, F, I, Q, U
 *   or V and the second not O, nor the unallocated BG, GB, KN, NK, NT, TN, ZZ; six digits, spaces
 *   allowed between pairs; suffix A–D; any case). No other country's identifiers are recognised.
 *
 * Everything, checksums included, runs in one DuckDB aggregate over the distinct values of each
 * column (so a repeated value is tested once); only counts come back, never a value.
 *
 * @example
 * const report = await scanPii(connection, "read_parquet('/tmp/v1.parquet')", version.schema);
 * // { rows_scanned: 344, threshold: 0.5, columns: [{ column: 'contact', kind: 'email', matches: 340, ... flagged: true }] }
 */
export async function scanPii(
  connection: DuckDBConnection,
  relation: string,
  schema: DatasetSchema,
  options: PiiScanOptions = {},
): Promise<PiiReport> {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    fail('threshold', `threshold must be a number between 0 and 1, got ${String(threshold)}`);
  }
  const { sampleRows } = options;
  if (sampleRows !== undefined && !(Number.isSafeInteger(sampleRows) && sampleRows > 0)) {
    fail('sampleRows', `sampleRows must be a positive integer, got ${String(sampleRows)}`);
  }
  const scanned = sampleRows === undefined ? relation : `(select * from ${relation} limit ${sampleRows})`;
  const counted = (await connection.runAndReadAll(`select count(*) as n from ${scanned}`)).getRowObjectsJson()[0];
  const report: PiiReport = { rows_scanned: Number(counted?.n ?? 0), threshold, columns: [] };
  const columns = schema.columns.filter((c) => c.logicalType === 'string' || c.logicalType === 'categorical');
  if (columns.length === 0 || report.rows_scanned === 0) return report;

  const tests = predicates('v');
  const distinctValues = columns.map((column, i) => {
    const id = quoteIdent(column.name);
    return `select ${i} as col, trim(${id}::varchar) as v, count(*) as n from ${scanned} where ${id} is not null group by all`;
  });
  const sql = `select col, sum(n) as non_null, ${PII_KINDS.map((kind) => `coalesce(sum(n) filter (where ${tests[kind]}), 0) as ${kind}`).join(', ')}
    from (${distinctValues.join(' union all ')}) group by col`;
  const rows = (await connection.runAndReadAll(sql)).getRowObjectsJson();
  const byColumn = new Map(rows.map((row) => [Number(row.col), row]));
  for (const [i, column] of columns.entries()) {
    const row = byColumn.get(i);
    if (row === undefined) continue;
    const nonNull = Number(row.non_null);
    for (const kind of PII_KINDS) {
      const matches = Number(row[kind]);
      if (matches === 0) continue;
      const share = matches / nonNull;
      report.columns.push({
        column: column.name,
        kind,
        matches,
        non_null: nonNull,
        share,
        flagged: share >= threshold,
      });
    }
  }
  return report;
}

/** Masks letters and digits (any script) but the last 4 characters; 4 or fewer are masked whole. */
function maskSql(id: string): string {
  const text = `${id}::varchar`;
  const hide = (s: string) => `regexp_replace(${s}, '[\\pL\\pN]', '*', 'g')`;
  return `case when length(${text}) <= 4 then ${hide(text)} else ${hide(`left(${text}, length(${text}) - 4)`)} || right(${text}, 4) end`;
}

/**
 * The SELECT list (no `*`, every column in schema order) that applies a PII policy, so a copy can be
 * written or served without the personal data {@link scanPii} found. Listed columns are
 *
 * - `mask`: every letter and digit replaced by `*` except the last 4 characters, keeping the length
 *   and separators (`4111 1111 1111 1111` → `**** **** **** 1111`); a value of 4 characters or
 *   fewer is masked whole, as keeping 4 would reveal all of it; the column becomes VARCHAR;
 * - `hash`: `sha256` of the text value as 64 hex digits, so equal values still join and group;
 *   unsalted, so low-entropy values (phone numbers, SSNs) can be recovered by brute force;
 * - `drop`: left out.
 *
 * Nulls stay null. An unknown column is an error naming `pii.columns[i]`, and so is dropping every column.
 *
 * @example
 * const list = piiProjection(version.schema, { action: 'mask', columns: ['email'] });
 * await connection.run(`copy (select ${list} from read_parquet('/tmp/v1.parquet')) to '/tmp/v2.parquet'`);
 */
export function piiProjection(schema: DatasetSchema, policy: PiiPolicy): string {
  const { action, columns } = policy;
  if (!PII_ACTIONS.includes(action)) {
    fail('pii.action', `pii.action must be one of ${PII_ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
  }
  if (!Array.isArray(columns)) fail('pii.columns', 'pii.columns must be a list of column names');
  const known = new Set(schema.columns.map((column) => column.name));
  const listed = new Set<string>();
  for (const [i, name] of columns.entries()) {
    if (typeof name !== 'string' || !known.has(name)) {
      fail(`pii.columns[${i}]`, `pii.columns[${i}]: column ${JSON.stringify(name)} is not in the dataset`, {
        column: name,
      });
    }
    listed.add(name);
  }
  const items = schema.columns.flatMap((column) => {
    const id = quoteIdent(column.name);
    if (!listed.has(column.name)) return [id];
    if (action === 'drop') return [];
    return [`${action === 'mask' ? maskSql(id) : `sha256(${id}::varchar)`} as ${id}`];
  });
  if (items.length === 0) fail('pii.columns', 'pii.columns: dropping every column leaves nothing to read');
  return items.join(', ');
}

/**
 * Writes a copy of the Parquet at `parquetPath` to `output` with the policy applied: its named
 * columns, or (without `columns`) every column the scan flags at `threshold`, masked, hashed or
 * dropped. Resolves false, writing nothing, when no column needs treating.
 *
 * @example
 * if (await applyPiiPolicy(connection, 'derived.parquet', schema, { action: 'mask' }, 'masked.parquet')) …
 */
export async function applyPiiPolicy(
  connection: DuckDBConnection,
  parquetPath: string,
  schema: DatasetSchema,
  policy: { action: PiiAction; columns?: string[]; threshold?: number },
  output: string,
): Promise<boolean> {
  const source = `read_parquet(${quoteLiteral(parquetPath)})`;
  let columns = policy.columns;
  if (columns === undefined) {
    const report = await scanPii(
      connection,
      source,
      schema,
      policy.threshold === undefined ? {} : { threshold: policy.threshold },
    );
    columns = [...new Set(report.columns.filter((finding) => finding.flagged).map((finding) => finding.column))];
    if (columns.length === 0) return false;
  }
  const projection = piiProjection(schema, { action: policy.action, columns });
  await connection.run(`copy (select ${projection} from ${source}) to ${quoteLiteral(output)} (format parquet)`);
  return true;
}
