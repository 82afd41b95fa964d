import type { Command } from 'commander';
import { createLogger, invalidParameter, KILN_VERSION } from '../../core/index.js';
import { type Env, globalOptions, loadConfigWithFlags } from '../context.js';
import { printJson, printLine } from '../output.js';

interface ServeFlags {
  name?: string;
  host?: string;
  port?: string;
  batchSize?: string;
  batchWaitMs?: string;
  maxQueue?: string;
  timeoutMs?: string;
  pollMs?: string;
}

function integerFlag(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw invalidParameter(flag, `must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

/**
 * `kiln serve <models:/…|deployment|path>`: a stateless model server for one model or deployment,
 * speaking Kiln `/predict`, MLflow `/invocations` and the Open Inference Protocol v2 at the root,
 * with `/metrics`. A path (Kiln package directory, `.onnx`, XGBoost `.json`) is served from the file
 * alone; a registry reference or deployment name reads the configured database and artifact store.
 * Listens on port 8080 unless `--port` or KILN_PORT says otherwise. stdout gets one line once it
 * listens; SIGTERM / SIGINT drain in-flight requests and exit.
 *
 * @example
 * // kiln serve models:/flights@champion --port 8080
 * // kiln serve ./model.onnx --name flights
 */
export function registerServeCommand(program: Command, env: Env): void {
  program
    .command('serve')
    .description('serve one model or deployment over Kiln REST, MLflow /invocations and OIP v2')
    .argument('<target>', 'models:/name/N, models:/name@alias, a deployment name, or a model file / package directory')
    .option('--name <name>', 'name to serve a path under (default: the file name)')
    .option('--host <host>', 'interface to listen on (overrides KILN_HOST)')
    .option('--port <port>', 'TCP port, 0 for a free one (default 8080; overrides KILN_PORT)')
    .option('--batch-size <n>', 'turn on micro-batching: most rows per predict call')
    .option('--batch-wait-ms <ms>', 'micro-batching: longest wait for a batch to fill (default 2)')
    .option('--max-queue <n>', 'requests queued or in flight before 503 (default 1000)')
    .option('--timeout-ms <ms>', 'per-request limit, 504 beyond (default 10000)')
    .option('--poll-ms <ms>', 'how often aliases and the deployment are re-read (default 2000)')
    .action(async (target: string, flags: ServeFlags, command: Command) => {
      const config = loadConfigWithFlags(
        command,
        { KILN_PORT: '8080', ...env },
        {
          KILN_HOST: { flag: '--host', value: flags.host },
          KILN_PORT: { flag: '--port', value: flags.port },
        },
      );
      const batchSize = integerFlag('--batch-size', flags.batchSize, 1);
      const maxQueue = integerFlag('--max-queue', flags.maxQueue, 1);
      const timeoutMs = integerFlag('--timeout-ms', flags.timeoutMs, 1);
      const pollMs = integerFlag('--poll-ms', flags.pollMs, 10);
      const maxWaitMs = integerFlag('--batch-wait-ms', flags.batchWaitMs, 0) ?? 2;
      const logger = createLogger(config.logLevel);
      const { startModelServer } = await import('../../server/index.js');
      const server = await startModelServer(config, logger, {
        target,
        ...(flags.name === undefined ? {} : { name: flags.name }),
        ...(batchSize === undefined ? {} : { batching: { maxBatchSize: batchSize, maxWaitMs } }),
        ...(maxQueue === undefined ? {} : { maxQueue }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(pollMs === undefined ? {} : { pollMs }),
        handleSignals: true,
      });
      if (globalOptions(command).json) printJson({ url: server.url, model: server.name, version: KILN_VERSION });
      else printLine(`Kiln ${KILN_VERSION} serving '${server.name}' on ${server.url}`);
    });
}
