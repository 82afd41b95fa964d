import type { Command } from 'commander';
import { createLogger, KILN_VERSION } from '../../core/index.js';
import { type Env, globalOptions, loadConfigWithFlags } from '../context.js';
import { printJson, printLine } from '../output.js';

/**
 * `kiln server`: opens the stores, applies migrations and serves the API until SIGTERM or SIGINT,
 * then shuts down gracefully. stdout gets exactly one line once it listens (the URL, for people
 * and for scripts that wait for it); logs go to stderr.
 *
 * @example
 * // kiln server --port 0   →   Kiln 0.1.0 listening on http://127.0.0.1:43817
 * registerServerCommand(program, process.env);
 */
export function registerServerCommand(program: Command, env: Env): void {
  program
    .command('server')
    .description('run the Kiln API server until SIGTERM/SIGINT')
    .option('--host <host>', 'interface to listen on (overrides KILN_HOST)')
    .option('--port <port>', 'TCP port to listen on, 0 for a free one (overrides KILN_PORT)')
    .action(async (options: { host?: string; port?: string }, command: Command) => {
      const config = loadConfigWithFlags(command, env, {
        KILN_HOST: { flag: '--host', value: options.host },
        KILN_PORT: { flag: '--port', value: options.port },
      });
      const logger = createLogger(config.logLevel);
      // Loaded on demand: the server's module graph is the heaviest, and other commands never need it.
      const { startServer } = await import('../../server/index.js');
      const server = await startServer(config, logger, { handleSignals: true });
      if (globalOptions(command).json) printJson({ url: server.url, version: KILN_VERSION });
      else printLine(`Kiln ${KILN_VERSION} listening on ${server.url}`);
    });
}
