import { type Command, InvalidArgumentError } from 'commander';
import { KilnClient, type Metric } from '../sdk/index.js';
import { type Env, globalOptions, serverUrl } from './context.js';
import { printJson } from './output.js';

/**
 * The SDK client a server command talks through: `--url` (or the configured server address) and
 * `--token` from the global options. Commands never build HTTP requests themselves.
 *
 * @example
 * const kiln = clientFor(command, env);
 * const { experiments } = await kiln.tracking.searchExperiments();
 */
export function clientFor(command: Command, env: Env): KilnClient {
  const { url, token } = globalOptions(command);
  return new KilnClient({ baseUrl: serverUrl(url, env), ...(token ? { token } : {}) });
}

/**
 * Prints `value` as JSON with metric values in their wire form: JSON has no NaN or Infinity, so
 * they appear as `"NaN"`, `"Infinity"` and `"-Infinity"` rather than as `null`.
 */
export function printWireJson(value: unknown): void {
  printJson(
    JSON.parse(
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v !== 'number' || Number.isFinite(v)) return v;
        return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      }),
    ),
  );
}

/** Epoch milliseconds as ISO-8601 UTC to the second; an empty cell when unset. */
export function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A metric value for a table cell: short, with NaN and ±Infinity by name. */
export function formatMetric(metric: Pick<Metric, 'value'>): string {
  return Number.isFinite(metric.value) ? String(Number(metric.value.toPrecision(6))) : String(metric.value);
}

/** Commander parser for `--max-results`: a positive integer, or a usage error (exit 2). */
export function parsePositiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${raw}'`);
  return n;
}

/** Commander collector for an option that may be repeated, e.g. `--order-by a --order-by b`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
