import { PARENT_RUN_TAG, RUN_NAME_TAG, type Run, type RunInfo, type Tag, USER_TAG } from './model.js';
import type { RunColumnChanges, RunData, RunRecord } from './store.js';
import { LIMITS } from './validation.js';

/** A stored run as services return it. */
export function toRunInfo(record: RunRecord): RunInfo {
  return {
    runId: record.runId,
    experimentId: String(record.experimentId),
    runName: record.name,
    userId: record.userId,
    status: record.status,
    startTime: record.startTime,
    endTime: record.endTime,
    artifactUri: record.artifactUri,
    lifecycleStage: record.lifecycleStage,
    deletedTime: record.deletedTime,
    parentRunId: record.parentRunId,
  };
}

/** A stored run and its data as one {@link Run}. */
export function toRun(record: RunRecord, data: RunData | undefined): Run {
  return {
    info: toRunInfo(record),
    data: { metrics: data?.metrics ?? [], params: data?.params ?? [], tags: data?.tags ?? [] },
    inputs: { datasetInputs: data?.inputs ?? [] },
  };
}

/**
 * The run columns that tags being set mirror, as MLflow keeps them in step: `mlflow.runName` is
 * the run's name (values longer than a name may be are not mirrored), `mlflow.user` its user and
 * `mlflow.parentRunId` its parent.
 *
 * @example
 * mirroredColumns([{ key: 'mlflow.runName', value: 'baseline' }]); // { name: 'baseline' }
 */
export function mirroredColumns(tags: readonly Tag[]): RunColumnChanges {
  const columns: RunColumnChanges = {};
  for (const tag of tags) {
    if (tag.key === RUN_NAME_TAG && tag.value.length > 0 && tag.value.length <= LIMITS.runNameLength) {
      columns.name = tag.value;
    } else if (tag.key === USER_TAG) {
      columns.userId = tag.value;
    } else if (tag.key === PARENT_RUN_TAG) {
      columns.parentRunId = tag.value === '' ? null : tag.value;
    }
  }
  return columns;
}
