import type { KilnConfig, Logger } from '../core/index.js';
import { buildApp } from './app.js';
import type { KilnApp } from './kiln-app.js';
import { openStores, type Stores } from './stores.js';

/** How {@link startServer} runs beyond what the configuration says. */
export interface StartOptions {
  /**
   * Shut down gracefully on SIGTERM / SIGINT and exit the process with code 0 (1 when closing
   * failed); a second signal exits at once with code 1. For `kiln server`, not for embedding.
   * @default false
   */
  handleSignals?: boolean;
  /** Adds routes or hooks to the app before it listens, e.g. an embedding application's own. */
  extend?: (app: KilnApp) => void | Promise<void>;
}

/** A listening Kiln server. */
export interface RunningServer {
  /** Base URL with the port actually bound, e.g. `http://127.0.0.1:5000`. */
  readonly url: string;
  readonly app: KilnApp;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `config.shutdownTimeoutMs` (then closes their connections), and closes the stores.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

function urlOf(app: KilnApp, config: KilnConfig): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

/**
 * Opens the stores, migrating the database on the way (a failed migration is INVALID_STATE and
 * nothing starts), builds the app and listens on `config.host` and `config.port` (0 picks a free
 * port; `url` tells which). If any step fails, what was opened is closed again and the error is
 * rethrown.
 *
 * @example
 * const server = await startServer(loadConfig(), logger, { handleSignals: true });
 * logger.info(`Kiln at ${server.url}`);
 */
export async function startServer(
  config: KilnConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningServer> {
  const stores = await openStores(config, logger, { migrate: true });
  let app: KilnApp | undefined;
  try {
    app = await buildApp({ config, logger, stores });
    await options.extend?.(app);
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await stores.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'closing the stores failed'));
    throw err;
  }
  const listening = app;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= shutDown(listening, stores, config.shutdownTimeoutMs, logger);
    return closing;
  };
  const url = urlOf(listening, config);
  logger.info({ url, database: stores.database.displayUrl, queue: stores.queue.kind }, `Kiln listening at ${url}`);
  if (options.handleSignals === true) exitOnSignals(close, logger);
  return { url, app: listening, close };
}

async function shutDown(app: KilnApp, stores: Stores, timeoutMs: number, logger: Logger): Promise<void> {
  logger.info({ timeoutMs }, 'shutting down: no new connections, waiting for in-flight requests');
  const force = setTimeout(() => {
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
    app.server.closeAllConnections();
  }, timeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
    await stores.close();
  }
  logger.info('shut down');
}

/** On SIGTERM / SIGINT: close gracefully and exit 0 (1 when closing failed); a second signal exits at once. */
export function exitOnSignals(close: () => Promise<void>, logger: Logger): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
