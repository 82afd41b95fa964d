/**
 * A tuning worker process the crash test kills: `node --import tsx tune-worker-child.ts <databaseUrl>
 * <leaseMs> <stepDelayMs> [recover]`. It consumes the `tuning` queue of the database's local queue,
 * running trials of the sphere function (each iteration paused `stepDelayMs`), and prints
 * `step <trial> <step>` per iteration so the parent knows when a trial is half done.
 */
import { openDatabase, openQueue } from '../src/store/index.js';
import { startTuneWorker } from '../src/training/tune-worker.js';
import { ObjectiveRunner, sphere, studyServices } from './tune-fixtures.js';

const [url, leaseMs = '1000', stepDelayMs = '50', jobAttempts = '3', mode = ''] = process.argv.slice(2);
if (url === undefined) throw new Error('database URL missing');

const database = await openDatabase(url);
const queue = await openQueue({ url: 'local', database, leaseMs: Number(leaseMs) });
const { studies } = studyServices(
  database,
  queue,
  (tracking) =>
    new ObjectiveRunner(tracking, sphere, {
      steps: 5,
      stepDelayMs: Number(stepDelayMs),
      onStep: (trial, step) => process.stdout.write(`step ${trial.number} ${step}\n`),
    }),
  { jobAttempts: Number(jobAttempts) },
);
// `recover`: start as a server or `kiln worker` does, resuming the running studies in the background.
if (mode === 'recover') studies.process({ concurrency: 2 });
else startTuneWorker(queue, studies.trialJobs(), { concurrency: 2 });
process.stdout.write('ready\n');
