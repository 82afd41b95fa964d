import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { KilnError } from '../../core/index.js';
import { type Env, globalOptions } from '../context.js';
import { clientFor } from '../remote.js';

interface RunOptions {
  experiment?: string;
  runName?: string;
}

/** Exit code of a child that could not be started, as shells use for "command not found". */
const EXIT_NOT_FOUND = 127;

/**
 * The environment a tracked command runs in: the caller's, plus what the stock MLflow clients read
 * (`MLFLOW_TRACKING_URI` = this server, `MLFLOW_RUN_ID`, `MLFLOW_EXPERIMENT_ID`, a token as
 * `MLFLOW_TRACKING_TOKEN`) and the same under Kiln's names for Kiln's SDK.
 *
 * @example
 * runEnvironment(process.env, { url: 'http://127.0.0.1:5000', runId: 'ab12…', experimentId: '3' });
 */
export function runEnvironment(
  env: Env,
  run: { url: string; runId: string; experimentId: string; token?: string },
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  out.MLFLOW_TRACKING_URI = run.url;
  out.MLFLOW_RUN_ID = run.runId;
  out.MLFLOW_EXPERIMENT_ID = run.experimentId;
  out.KILN_URL = run.url;
  out.KILN_RUN_ID = run.runId;
  out.KILN_EXPERIMENT_ID = run.experimentId;
  if (run.token !== undefined) {
    out.MLFLOW_TRACKING_TOKEN = run.token;
    out.KILN_TOKEN = run.token;
  }
  return out;
}

/** How a child ended, as an exit code: its own, or 128 + the signal number when a signal killed it. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/**
 * `kiln run [--experiment e] [--run-name n] -- <command> [args…]`: creates a run, runs the command
 * with the run in its environment (any language's MLflow client logs to it unchanged), streams
 * its output, then ends the run FINISHED (exit code 0) or FAILED, tagging `kiln.exit_code`, and
 * exits with the command's own code (127 when it could not be started).
 *
 * @example
 * kiln run --experiment churn -- python train.py --epochs 5
 */
export function registerRunCommand(program: Command, env: Env): void {
  program
    .command('run')
    .description(
      'run a command in a fresh tracked run (MLFLOW_TRACKING_URI and MLFLOW_RUN_ID set) and record its exit status',
    )
    .option('--experiment <name>', "experiment of the run, created when missing (default 'Default')")
    .option('--run-name <name>', 'name of the run')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], options: RunOptions, command: Command) => {
      const kiln = clientFor(command, env);
      const { token } = globalOptions(command);
      const [file, ...args] = argv;
      if (file === undefined)
        throw new KilnError('INVALID_PARAMETER_VALUE', 'command: give the command after --', { field: 'command' });
      const run = await kiln.tracking.startRun({
        ...(options.experiment === undefined ? {} : { experimentName: options.experiment }),
        ...(options.runName === undefined ? {} : { runName: options.runName }),
        tags: { 'mlflow.source.type': 'LOCAL', 'mlflow.source.name': argv.join(' ').slice(0, 500) },
      });
      const childEnv = runEnvironment(env, {
        url: kiln.baseUrl,
        runId: run.runId,
        experimentId: run.experimentId,
        ...(token === undefined ? {} : { token }),
      });
      process.stderr.write(`kiln: run ${run.runId} in experiment ${run.experimentId}\n`);
      const code = await new Promise<number>((resolve) => {
        const child = spawn(file, args, { env: childEnv, stdio: 'inherit' });
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        child.once('error', (err) => {
          process.stderr.write(`kiln: cannot run ${file}: ${err.message}\n`);
          resolve(EXIT_NOT_FOUND);
        });
        child.once('exit', (exitCode, signal) => resolve(exitCodeOf(exitCode, signal)));
        child.once('close', () => {
          process.off('SIGINT', forward);
          process.off('SIGTERM', forward);
        });
      });
      await kiln.tracking.logBatch(run.runId, { tags: [{ key: 'kiln.exit_code', value: String(code) }] });
      await run.end(code === 0 ? 'FINISHED' : 'FAILED');
      process.exitCode = code;
    });
}
