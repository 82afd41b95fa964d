import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemContext } from '../src/core/index.js';
import type { Database, Queue } from '../src/store/index.js';
import { openQueue } from '../src/store/index.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';
import type { StudyService } from '../src/training/study-service.js';
import { StudyStore, type TrialRow } from '../src/training/study-store.js';
import {
  migrateForStudies,
  OBJECTIVE_TEMPLATE,
  ObjectiveRunner,
  sphere,
  sphereSpace,
  studyServices,
} from './tune-fixtures.js';

const CHILD = fileURLToPath(new URL('./tune-worker-child.ts', import.meta.url));
const WAIT_MS = 120_000;

interface Worker {
  process: ChildProcess;
  lines: string[];
  exited: Promise<string>;
}

function startWorker(url: string, jobAttempts: number, mode = ''): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, '800', '60', String(jobAttempts), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? String(code))));
  return { process: child, lines, exited };
}

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ctx = systemContext('tune-crash');

for (const target of await testDatabases()) {
  describe(`a study survives a killed worker (${target.name})`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    let queue: Queue;
    let studies: StudyService;
    let store: StudyStore;
    const workers: Worker[] = [];

    before(async () => {
      db = await target.create();
      database = await db.open();
      await migrateForStudies(database);
      queue = await openQueue({ url: 'local', database });
      // This process only creates and reads the study; the child processes run its trials.
      ({ studies } = studyServices(database, queue, (tracking) => new ObjectiveRunner(tracking, sphere)));
      store = new StudyStore(database);
    });
    after(async () => {
      for (const worker of workers) if (worker.process.exitCode === null) worker.process.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await queue?.close();
      await db?.cleanup();
    });

    /** Creates a study, lets a first worker finish some trials, SIGKILLs it half way through a trial. */
    async function killMidStudy(name: string, nTrials: number, jobAttempts: number) {
      const { study } = await studies.create(ctx, {
        ...OBJECTIVE_TEMPLATE,
        name,
        space: sphereSpace(3),
        metric: 'sphere',
        direction: 'minimize',
        sampler: { type: 'tpe', seed: 3, nStartupTrials: 4 },
        pruner: { type: 'none' },
        n_trials: nTrials,
        parallelism: 2,
      });
      const first = startWorker(db.url, jobAttempts);
      workers.push(first);
      let trials: TrialRow[] = [];
      await until('three complete trials and one half done', async () => {
        trials = await store.allTrials(study.id);
        const complete = trials.filter((t) => t.state === 'complete').length;
        const running = trials.filter((t) => t.state === 'running').map((t) => t.number);
        return complete >= 3 && running.some((n) => first.lines.includes(`step ${n} 3`));
      });
      first.process.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      trials = await store.allTrials(study.id);
      const orphaned = trials.filter((t) => t.state === 'running');
      assert.ok(orphaned.length >= 1, 'the kill left at least one trial running');
      assert.equal((await studies.get(ctx, study.id)).study.state, 'running');
      return { studyId: study.id, orphaned, finished: trials.filter((t) => t.state !== 'running') };
    }

    /** Every number once, finished trials untouched, orphans re-run with their params, the best right. */
    async function assertRecovered(studyId: string, nTrials: number, orphaned: TrialRow[], finished: TrialRow[]) {
      const after = await store.allTrials(studyId);
      assert.deepEqual(
        after.map((t) => t.number),
        Array.from({ length: nTrials }, (_, i) => i),
        'every trial number exactly once',
      );
      assert.ok(
        after.every((t) => t.state === 'complete'),
        'every trial completed',
      );
      for (const kept of finished) {
        const now = after.find((t) => t.number === kept.number);
        assert.deepEqual(now?.params, kept.params, `trial ${kept.number} kept its params`);
        assert.equal(now?.value, kept.value, `trial ${kept.number} kept its value`);
        assert.equal(now?.attempts, 1, `trial ${kept.number} was not run again`);
      }
      for (const lost of orphaned) {
        const now = after.find((t) => t.number === lost.number);
        assert.deepEqual(now?.params, lost.params, `orphaned trial ${lost.number} re-ran with its params`);
        assert.ok((now?.attempts ?? 0) >= 2, `orphaned trial ${lost.number} was started again`);
        assert.equal(now?.value, sphere(lost.params), 'and its value is the objective at those params');
      }
      const view = await studies.get(ctx, studyId);
      assert.equal(view.counts.complete, nTrials);
      const best = Math.min(...after.map((t) => t.value ?? Number.POSITIVE_INFINITY));
      assert.equal(view.best?.value, best);
      assert.equal(view.study.bestValue, best, 'the stored best is the minimum over all trials');
    }

    it('SIGKILL mid-trial, then a new worker (recovering at start) completes every trial number once', async () => {
      const nTrials = 8;
      const { studyId, orphaned, finished } = await killMidStudy('crash-retry', nTrials, 3);
      // The killed job still has attempts left: the new worker reclaims it once its lease expires.
      const second = startWorker(db.url, 3, 'recover');
      workers.push(second);
      await until('the study to complete', async () => (await studies.get(ctx, studyId)).study.state === 'complete');
      second.process.kill('SIGTERM');
      await assertRecovered(studyId, nTrials, orphaned, finished);
    });

    it('a trial whose job is lost for good is re-run by resume, and the study still reaches n_trials', async () => {
      const nTrials = 8;
      const { studyId, orphaned, finished } = await killMidStudy('crash-resume', nTrials, 1);
      const second = startWorker(db.url, 1);
      workers.push(second);
      // With one attempt per job the orphan's job fails for good (lease expired); its chain of trials stops there.
      await until('the orphaned jobs to be given up', async () => {
        const trials = await store.allTrials(studyId);
        const stillRunning = trials.filter((t) => t.state === 'running');
        if (stillRunning.length !== orphaned.length) return false;
        const jobs = await Promise.all(stillRunning.map((t) => queue.getJob('tuning', t.jobId)));
        return jobs.every((job) => job?.state === 'failed');
      });
      assert.equal((await studies.get(ctx, studyId)).study.state, 'running', 'the study waits for its orphans');
      await studies.resume(ctx, studyId);
      await until('the study to complete', async () => (await studies.get(ctx, studyId)).study.state === 'complete');
      second.process.kill('SIGTERM');
      await assertRecovered(studyId, nTrials, orphaned, finished);
    });
  });
}
