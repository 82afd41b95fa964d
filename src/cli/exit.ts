import { CommanderError } from 'commander';
import { KilnError } from '../core/index.js';

/** The command succeeded. */
export const EXIT_OK = 0;
/** The command ran and failed: bad configuration, a failed migration, a server that is not ready. */
export const EXIT_FAILURE = 1;
/** The command line itself was wrong: unknown command or option, missing or malformed argument. */
export const EXIT_USAGE = 2;

/** The exit-code section appended to `kiln --help`, so scripts can rely on documented codes. */
export const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_OK}  success
  ${EXIT_FAILURE}  failure (invalid configuration, failed migration, server not ready or unreachable…)
  ${EXIT_USAGE}  usage error (unknown command or option, missing or malformed argument)`;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Turns anything a command threw into an exit code, printing what the user needs on stderr.
 * Commander has already printed its own usage message, so only the code is mapped (its default
 * 1 becomes {@link EXIT_USAGE}). A `KilnError` is an expected failure: its message alone, never a
 * stack. Anything else is a bug: its message, and the stack only when the log level asks for it.
 *
 * @example
 * try { await program.parseAsync(argv); } catch (err) { process.exitCode = reportError(err, process.env); }
 */
export function reportError(err: unknown, env: Env): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (err instanceof KilnError) {
    process.stderr.write(`kiln: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kiln: unexpected error: ${message}\n`);
  const level = env['KILN_LOG_LEVEL']?.trim().toLowerCase();
  if ((level === 'debug' || level === 'trace') && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  } else {
    process.stderr.write('kiln: rerun with KILN_LOG_LEVEL=debug for details\n');
  }
  return EXIT_FAILURE;
}
