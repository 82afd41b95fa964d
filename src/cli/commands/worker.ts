import type { Command } from 'commander';
import { createLogger } from '../../core/index.js';
import { type Env, globalOptions, loadConfigWithFlags } from '../context.js';
import { printJson, printLine } from '../output.js';

/**
 * `kiln worker`: processes the background queues (training jobs, tuning trials) against the
 * configured database, artifact store and queue, until SIGTERM or SIGINT; then it stops taking
 * jobs, lets running ones finish for up to KILN_SHUTDOWN_TIMEOUT_MS and exits. Run one per machine
 * with `KILN_QUEUE_URL=redis://…` to spread the work; the database must be migrated (`kiln server`
 * or `kiln db migrate` does it).
 *
 * @example
 * KILN_QUEUE_URL=redis://redis:6379 KILN_DATABASE_URL=postgres://… kiln worker --concurrency 2
 */
export function registerWorkerCommand(program: Command, env: Env): void {
  program
    .command('worker')
    .description('process training and tuning jobs from the queue until SIGTERM/SIGINT')
    .option('--concurrency <n>', 'jobs fitted at once (overrides KILN_TRAINING_CONCURRENCY)')
    .action(async (options: { concurrency?: string }, command: Command) => {
      const config = loadConfigWithFlags(command, env, {
        KILN_TRAINING_CONCURRENCY: { flag: '--concurrency', value: options.concurrency },
      });
      const logger = createLogger(config.logLevel);
      // Loaded on demand, as for `kiln server`: other commands never need the server's module graph.
      const { createDomainServices, openStores, startDomainWorkers } = await import('../../server/index.js');
      const stores = await openStores(config, logger);
      const workers = startDomainWorkers(createDomainServices(config, stores, logger), config);
      const facts = {
        queue: stores.queue.kind,
        database: stores.database.displayUrl,
        concurrency: config.trainingConcurrency,
      };
      if (globalOptions(command).json) printJson({ worker: 'started', ...facts });
      else printLine(`Kiln worker on ${facts.queue} queue, ${facts.database}, concurrency ${facts.concurrency}`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      logger.info('worker: stopping; running jobs may finish');
      try {
        await Promise.all(workers.map((worker) => worker.close(config.shutdownTimeoutMs)));
      } finally {
        await stores.close();
      }
    });
}
