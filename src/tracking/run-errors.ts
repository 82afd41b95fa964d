import { KilnError } from '../core/index.js';
import type { RunWriteOutcome } from './store.js';

/** The error for a run id the workspace does not have, worded as MLflow words it. */
export function runNotFound(runId: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`, { run_id: runId });
}

/**
 * Turns a store outcome into the error MLflow clients expect, or returns on success. A deleted run
 * is INVALID_PARAMETER_VALUE, not INVALID_STATE, because that is what MLflow answers and its
 * clients treat any other 5xx-mapped code as retryable.
 *
 * @example
 * failUnlessOk(await store.logBatch(ws, runId, batch, columns), runId);
 */
export function failUnlessOk(outcome: RunWriteOutcome, runId: string, tagKey?: string): void {
  switch (outcome.kind) {
    case 'ok':
      return;
    case 'missing':
      throw runNotFound(runId);
    case 'deleted':
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `The run ${runId} must be in the 'active' state. Current state is deleted.`,
        { run_id: runId, lifecycle_stage: 'deleted' },
      );
    case 'no-tag':
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${tagKey} in run with id ${runId}`, {
        run_id: runId,
        key: tagKey,
      });
    case 'param-conflict':
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `Changing param values is not allowed. Param with key='${outcome.key}' was already logged with ` +
          `value='${outcome.existing}' for run ID='${runId}'. Attempted logging new value '${outcome.attempted}'.`,
        { run_id: runId, key: outcome.key, old_value: outcome.existing, new_value: outcome.attempted },
      );
  }
}
