import type { Command } from 'commander';
import { KILN_VERSION } from '../../core/index.js';
import { KilnClient } from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printJson, printLine } from '../output.js';

/** What `kiln version --json` prints; `server` appears only when `--url` was given. */
interface VersionReport {
  cli: string;
  server?: { url: string; version: string } | { url: string; error: string };
}

const SERVER_TIMEOUT_MS = 5000;

/**
 * `kiln version`: the CLI's version, offline. With an explicit `--url` it also asks that server
 * for its version; a server that cannot be reached is reported ("server unreachable at …") but
 * still exits 0, because the command's own answer, the CLI version, is known. Use `kiln health`
 * when reachability is what a script needs to decide on.
 *
 * @example
 * // kiln version --url http://kiln.internal:5000
 * // kiln 0.1.0
 * // server 0.1.0 at http://kiln.internal:5000
 */
export function registerVersionCommand(program: Command, _env: Env): void {
  program
    .command('version')
    .description('print the CLI version; with --url also the server version (exit 0 even if unreachable)')
    .action(async (_options: unknown, command: Command) => {
      const { json, url, token } = globalOptions(command);
      const report: VersionReport = { cli: KILN_VERSION };
      if (url !== undefined) {
        const client = new KilnClient({
          baseUrl: url,
          timeoutMs: SERVER_TIMEOUT_MS,
          retries: 0,
          ...(token ? { token } : {}),
        });
        try {
          report.server = { url, version: (await client.version()).version };
        } catch (err) {
          report.server = { url, error: err instanceof Error ? err.message : String(err) };
        }
      }
      if (json) {
        printJson(report);
        return;
      }
      printLine(`kiln ${report.cli}`);
      if (report.server === undefined) return;
      if ('version' in report.server) printLine(`server ${report.server.version} at ${report.server.url}`);
      else printLine(`server unreachable at ${report.server.url}: ${report.server.error}`);
    });
}
