import { type Command, InvalidArgumentError } from 'commander';
import { type KilnConfig, KilnError, loadConfig } from '../core/index.js';
import { EXIT_USAGE } from './exit.js';

/** The process environment as commands read it; passed in so nothing reaches for globals. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Options every command accepts, wherever they appear on the command line. */
export interface GlobalOptions {
  /** Print one JSON document instead of tables and sentences. */
  json: boolean;
  /** The server to talk to, when given with `--url`. */
  url: string | undefined;
  /** Bearer token for the server, when given with `--token`. */
  token: string | undefined;
}

/**
 * The global options as seen from a subcommand's action.
 *
 * @example
 * .action(async (_options, command: Command) => { if (globalOptions(command).json) … })
 */
export function globalOptions(command: Command): GlobalOptions {
  const all = command.optsWithGlobals<{ json?: boolean; url?: string; token?: string }>();
  return { json: all.json === true, url: all.url, token: all.token };
}

/**
 * Commander argument parser for `--url`: only http(s) URLs, normalised without a trailing slash,
 * so a typo is a usage error (exit 2) rather than a connection failure.
 */
export function parseServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL such as http://127.0.0.1:5000, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`expected an http(s) URL, got '${raw}'`);
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * The URL a client command talks to: `--url` when given, otherwise the address `kiln server`
 * listens on by the same configuration (`KILN_HOST`, `KILN_PORT`). A wildcard listen address is
 * reached through loopback, since `0.0.0.0` is not something to connect to.
 *
 * @example
 * serverUrl(undefined, { KILN_HOST: '0.0.0.0', KILN_PORT: '8080' }); // 'http://127.0.0.1:8080'
 */
export function serverUrl(explicit: string | undefined, env: Env): string {
  if (explicit !== undefined) return explicit;
  const config = loadConfig(env);
  let host = config.host;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::' || host === '[::]') host = '::1';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `http://${host}:${config.port}`;
}

/** A command-line flag that stands in for one configuration variable. */
export interface ConfigFlag {
  /** The flag as the user typed it, e.g. `--port`. */
  readonly flag: string;
  /** Its value, or undefined when the flag was not given. */
  readonly value: string | undefined;
}

/**
 * Loads the configuration from `env` and then applies flags that override variables, validating
 * each flag with the variable's own parser. A bad environment is a failure (exit 1, naming the
 * variable); a bad flag is a usage error (exit 2, naming the flag).
 *
 * @example
 * const config = loadConfigWithFlags(command, env, { KILN_PORT: { flag: '--port', value: options.port } });
 */
export function loadConfigWithFlags(
  command: Command,
  env: Env,
  flags: Readonly<Record<string, ConfigFlag>>,
): KilnConfig {
  const config = loadConfig(env);
  const overridden: Record<string, string | undefined> = { ...env };
  let changed = false;
  for (const [variable, { value }] of Object.entries(flags)) {
    if (value === undefined) continue;
    overridden[variable] = value;
    changed = true;
  }
  if (!changed) return config;
  try {
    return loadConfig(overridden);
  } catch (err) {
    const variable = err instanceof KilnError ? err.details?.['variable'] : undefined;
    const flag = typeof variable === 'string' ? flags[variable] : undefined;
    if (err instanceof KilnError && flag !== undefined) {
      const problem = err.message.replace(`${String(variable)}: `, '');
      command.error(`${flag.flag}: ${problem}`, { exitCode: EXIT_USAGE, code: 'kiln.invalidFlag' });
    }
    throw err;
  }
}
