/**
 * The training context: training jobs on the queue (submit, follow, run in a worker thread, record
 * in a tracked run, register) and, alongside, hyper-parameter studies.
 *
 * @example
 * const training = new TrainingService({ database, queue, datasets, tracking, artifacts, registry, logger });
 * const job = await training.submit(ctx, { data: 'penguins', target: 'species', task: 'classification', model: 'gbdt' });
 */

export type { TrainingJob, TrainingJobState, TrainingProgress } from './jobs.js';
export { TRAINING_MIGRATIONS } from './migrations.js';
export { checkTrainingRequest, type DatasetRef, parseDatasetRef, type TrainingRequest } from './request.js';
export { type TrainingRoutesOptions, trainingRoutes } from './routes.js';
export {
  type RunHooks,
  TRAINING_QUEUE,
  TrainingService,
  type TrainingServiceDeps,
  type TrainOutcome,
} from './service.js';
export { STOPPED_ERROR, type TrialJobData, TUNING_QUEUE } from './study-lifecycle.js';
export { type StudyRoutesOptions, studyRoutes } from './study-routes.js';
export type { TrialAssignment, TrialHooks, TrialOutcome, TrialRunner } from './study-runner.js';
export {
  StudyService,
  type StudyServiceOptions,
  type StudyView,
  type TrialCounts,
  type TrialPage,
} from './study-service.js';
export { checkStudySpec, directionOf, type StudySpec, studySpecToWire } from './study-spec.js';
export { type StudyRecord, type StudyState, StudyStore, type TrialRow } from './study-store.js';
export { STUDY_TAG, StudyTracking, TRIAL_TAG } from './study-tracking.js';
export { TrainingTrialRunner } from './study-training-runner.js';
export { startTuneWorker, type TrialJobResult, TrialJobs } from './tune-worker.js';
