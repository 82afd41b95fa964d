import type { Database } from '../../store/index.js';
import type { TrackingStore } from '../store.js';
import { logBatch } from './batch.js';
import type { StoreHandle } from './db.js';
import {
  getExperiment,
  insertExperiment,
  renameExperiment,
  searchExperiments,
  setExperimentLifecycle,
  writeExperimentTag,
} from './experiments.js';
import { downsampleMetric, metricHistory } from './history.js';
import { logInputs, runsUsingDigest } from './inputs.js';
import { loadRunData } from './run-data.js';
import { deleteRunTag, getRun, insertRun, searchRuns, setRunLifecycle, updateRun, updateRunTag } from './runs.js';
import type { TrackingTables } from './tables.js';

/**
 * The {@link TrackingStore} for both SQLite and PostgreSQL. Queries use what both engines share
 * (ON CONFLICT, RETURNING, row values, window functions); the few engine differences — array
 * versus JSON list parameters, row locks — are switched on `database.dialect` where they occur.
 * Each use case lives in its own module under `store/`; this class only wires them to a database.
 *
 * @example
 * const store = new KyselyTrackingStore(database);
 * const runs = new RunService(store, { artifactRoot: 'mlflow-artifacts:/' });
 */
export class KyselyTrackingStore implements TrackingStore {
  readonly insertExperiment: TrackingStore['insertExperiment'];
  readonly getExperiment: TrackingStore['getExperiment'];
  readonly getExperimentByName: TrackingStore['getExperimentByName'];
  readonly searchExperiments: TrackingStore['searchExperiments'];
  readonly searchRuns: TrackingStore['searchRuns'];
  readonly renameExperiment: TrackingStore['renameExperiment'];
  readonly setExperimentLifecycle: TrackingStore['setExperimentLifecycle'];
  readonly writeExperimentTag: TrackingStore['writeExperimentTag'];
  readonly insertRun: TrackingStore['insertRun'];
  readonly getRun: TrackingStore['getRun'];
  readonly loadRunData: TrackingStore['loadRunData'];
  readonly updateRun: TrackingStore['updateRun'];
  readonly setRunLifecycle: TrackingStore['setRunLifecycle'];
  readonly deleteRunTag: TrackingStore['deleteRunTag'];
  readonly logBatch: TrackingStore['logBatch'];
  readonly logInputs: TrackingStore['logInputs'];
  readonly runsUsingDigest: TrackingStore['runsUsingDigest'];
  readonly metricHistory: TrackingStore['metricHistory'];
  readonly downsampleMetric: TrackingStore['downsampleMetric'];
  readonly updateRunTag: TrackingStore['updateRunTag'];

  constructor(database: Database) {
    const handle: StoreHandle = {
      database,
      db: database.kysely.withTables<TrackingTables>(),
      dialect: database.dialect,
    };
    this.insertExperiment = insertExperiment(handle);
    this.getExperiment = (workspace, experimentId) => getExperiment(handle, workspace, { id: experimentId });
    this.getExperimentByName = (workspace, name) => getExperiment(handle, workspace, { name });
    this.searchExperiments = (page) => searchExperiments(handle, page);
    this.searchRuns = (page) => searchRuns(handle, page);
    this.renameExperiment = renameExperiment(handle);
    this.setExperimentLifecycle = setExperimentLifecycle(handle);
    this.writeExperimentTag = writeExperimentTag(handle);
    this.insertRun = insertRun(handle);
    this.getRun = getRun(handle);
    this.loadRunData = loadRunData(handle);
    this.updateRun = updateRun(handle);
    this.setRunLifecycle = setRunLifecycle(handle);
    this.deleteRunTag = deleteRunTag(handle);
    this.logBatch = logBatch(handle);
    this.logInputs = logInputs(handle);
    this.runsUsingDigest = runsUsingDigest(handle);
    this.metricHistory = metricHistory(handle);
    this.downsampleMetric = downsampleMetric(handle);
    this.updateRunTag = updateRunTag(handle);
  }
}
