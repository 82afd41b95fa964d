/**
 * How the CLI talks to people and to scripts: aligned tables for a terminal, one JSON document with
 * `--json`. Everything here writes to stdout; diagnostics and logs go to stderr so that
 * `kiln config --json | jq` always sees clean JSON.
 *
 * @example
 * printTable(['variable', 'value'], [['KILN_PORT', '5000']]);
 * // variable   value
 * // KILN_PORT  5000
 */

/**
 * Lays out `rows` under `headers` in columns separated by two spaces. The last column is not
 * padded, so a long free-text column (a doc string) never leaves trailing blanks.
 *
 * @example
 * formatTable(['id', 'state'], [['20250101-01-store-init', 'applied']]);
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const last = headers.length - 1;
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, column) => (column === last ? (cells[column] ?? '') : (cells[column] ?? '').padEnd(widths[column] ?? 0)))
      .join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Writes {@link formatTable}'s layout to stdout, followed by a newline. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  process.stdout.write(`${formatTable(headers, rows)}\n`);
}

/**
 * Writes `value` as one line of JSON to stdout: the `--json` form of every command, one document
 * per invocation, so scripts can parse the whole of stdout.
 *
 * @example
 * printJson({ url: 'http://127.0.0.1:5000', version: '0.1.0' });
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Writes one plain line for people to stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}
