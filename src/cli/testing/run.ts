import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

/** What one CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the `kiln` CLI from source against the server at `url` (`--url` given after the
 * subcommand, as users would), in the caller's environment without its `KILN_*` variables, so a
 * developer's own settings cannot leak into a test.
 *
 * @example
 * const run = runCli(['data', 'list', '--json'], server.url);
 * assert.equal(run.code, 0, run.stderr);
 */
export function runCli(args: readonly string[], url: string, options: { timeoutMs?: number } = {}): CliRun {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--url', url], {
    env: { ...env, KILN_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
