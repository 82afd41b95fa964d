import type { Command } from 'commander';
import { type ScoringJob, type ScoringJobRequest, scoringOutcomeOf } from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printLine } from '../output.js';
import { clientFor, parsePositiveInt, printWireJson } from '../remote.js';

interface PredictOptions {
  model: string;
  data: string;
  out: string;
  chunkRows?: number;
  wait: boolean;
}

/** Where progress goes: stderr, so stdout stays the command's result. */
interface ProgressOut {
  isTTY?: boolean;
  write(text: string): unknown;
}

const count = new Intl.NumberFormat('en-US');

/**
 * A scoring job's progress as the CLI convention says: one bar redrawn in place on a terminal
 * (rows and chunks scored), otherwise a plain line per state change and at every tenth of the rows.
 *
 * @example
 * const progress = scoringProgress(process.stderr);
 * await scoring.wait(job.id, { onProgress: progress.update });
 * progress.finish();
 */
export function scoringProgress(out: ProgressOut) {
  let lastState = '';
  let lastTenth = -1;
  let drawn = false;
  return {
    update(job: ScoringJob): void {
      const { rows_scored: rows, total_rows: total, chunks_done: chunks, total_chunks: totalChunks } = job.progress;
      const share = total === 0 ? 0 : Math.min(1, rows / total);
      if (out.isTTY === true) {
        const width = 30;
        const filled = Math.round(share * width);
        const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
        out.write(
          `\rscoring [${bar}] ${count.format(rows)}/${count.format(total)} rows, chunk ${chunks}/${totalChunks} ${job.state}\x1b[K`,
        );
        drawn = true;
        return;
      }
      if (job.state !== lastState) {
        lastState = job.state;
        out.write(`job ${job.id}: ${job.state}\n`);
      }
      const tenth = Math.floor(share * 10);
      if (rows > 0 && tenth > lastTenth) {
        lastTenth = tenth;
        out.write(`scored ${count.format(rows)}/${count.format(total)} rows (chunk ${chunks}/${totalChunks})\n`);
      }
    },
    /** Ends the bar's line on a terminal; plain output needs nothing. */
    finish(): void {
      if (drawn) out.write('\n');
    },
  };
}

/**
 * `kiln predict`: scores a dataset version with a registered model on the server's queue, chunk by
 * chunk, into the next version of `--out` (with lineage to the input and the model), following the
 * job with a bar on a terminal or plain lines otherwise (on stderr). Prints the output version and
 * the rows scored, or with `--json` the job id, model, input, output version and rows. A job that
 * fails exits 1 with its error; `--no-wait` prints the queued job.
 *
 * @example
 * kiln predict --model models:/flights@champion --data flights@4 --out scored --chunk-rows 100000
 */
export function registerPredictCommand(program: Command, env: Env): void {
  program
    .command('predict')
    .description('score a dataset version with a registered model into a new dataset version, on the server queue')
    .requiredOption('--model <ref>', 'the model: models:/<name>/<version> or models:/<name>@<alias>')
    .requiredOption('--data <dataset>', "the data to score: 'name@version', or 'name' for the latest version")
    .requiredOption('--out <dataset>', 'dataset the scored rows become the next version of (created when missing)')
    .option('--chunk-rows <n>', 'rows scored per chunk (default 50000)', parsePositiveInt)
    .option('--no-wait', 'print the queued job and return')
    .action(async (options: PredictOptions, command: Command) => {
      const { scoring } = clientFor(command, env);
      const json = globalOptions(command).json;
      const request: ScoringJobRequest = {
        model: options.model,
        data: options.data,
        out: options.out,
        ...(options.chunkRows === undefined ? {} : { chunk_rows: options.chunkRows }),
      };
      const job = await scoring.submit(request);
      if (!options.wait) {
        if (json) printWireJson({ job });
        else printLine(`queued scoring job ${job.id}`);
        return;
      }
      const progress = scoringProgress(process.stderr);
      let finished: ScoringJob;
      try {
        finished = await scoring.wait(job.id, { onProgress: progress.update });
      } finally {
        progress.finish();
      }
      const outcome = scoringOutcomeOf(finished);
      if (json) {
        printWireJson({
          job_id: outcome.jobId,
          model: outcome.model,
          input: finished.input,
          output: outcome.output,
          rows: outcome.rows,
        });
        return;
      }
      const model = `models:/${outcome.model.name}/${outcome.model.version}`;
      printLine(
        `scored ${count.format(outcome.rows)} rows of ${finished.input.dataset}@${finished.input.version} with ${model}` +
          ` into ${outcome.output.dataset}@${outcome.output.version} (job ${outcome.jobId})`,
      );
    });
}
