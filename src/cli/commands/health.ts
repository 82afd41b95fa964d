import { type Command, InvalidArgumentError } from 'commander';
import { KilnError } from '../../core/index.js';
import { KilnClient } from '../../sdk/index.js';
import { type Env, globalOptions, serverUrl } from '../context.js';
import { printJson, printTable } from '../output.js';

/** What `kiln health --json` prints. */
interface HealthReport {
  url: string;
  live: boolean;
  ready: boolean;
  /** Each dependency's outcome (`ok` or why not), when the server reported them. */
  checks: Record<string, string>;
  /** Why the server is not live or not ready. */
  error?: string;
}

function parseTimeout(raw: string): number {
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new InvalidArgumentError(`expected a positive integer of milliseconds, got '${raw}'`);
  return ms;
}

function checksOf(err: unknown): Record<string, string> {
  const checks = err instanceof KilnError ? err.details?.['checks'] : undefined;
  if (typeof checks !== 'object' || checks === null) return {};
  return Object.fromEntries(Object.entries(checks).map(([name, outcome]) => [name, String(outcome)]));
}

async function probe(client: KilnClient, url: string): Promise<HealthReport> {
  try {
    await client.live();
  } catch (err) {
    return { url, live: false, ready: false, checks: {}, error: err instanceof Error ? err.message : String(err) };
  }
  try {
    const ready = await client.ready();
    return { url, live: true, ready: true, checks: ready.checks };
  } catch (err) {
    return {
      url,
      live: true,
      ready: false,
      checks: checksOf(err),
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

/**
 * `kiln health`: asks a server whether it is live (process up) and ready (database, blob store and
 * queue answer), prints each check, and exits 1 unless ready, so it works as a Docker
 * `HEALTHCHECK` or a deploy script's gate. No retries: it reports the state now.
 *
 * @example
 * // HEALTHCHECK CMD ["kiln", "health", "--url", "http://127.0.0.1:5000"]
 * registerHealthCommand(program, process.env);
 */
export function registerHealthCommand(program: Command, env: Env): void {
  program
    .command('health')
    .description('check that a server is live and ready; exit 1 when it is not ready')
    .option('--timeout <ms>', 'how long each probe may take', parseTimeout, 5000)
    .action(async (options: { timeout: number }, command: Command) => {
      const { json, url: explicit, token } = globalOptions(command);
      const url = serverUrl(explicit, env);
      const client = new KilnClient({
        baseUrl: url,
        timeoutMs: options.timeout,
        retries: 0,
        ...(token ? { token } : {}),
      });
      const report = await probe(client, url);
      if (json) printJson(report);
      else {
        printTable(
          ['check', 'status'],
          [
            ['live', report.live ? 'ok' : 'failed'],
            ['ready', report.ready ? 'ok' : 'failed'],
            ...Object.entries(report.checks).map(([name, outcome]) => [`  ${name}`, outcome]),
          ],
        );
      }
      if (!report.ready) {
        throw new KilnError('TEMPORARILY_UNAVAILABLE', report.error ?? `server at ${url} is not ready`, { url });
      }
    });
}
