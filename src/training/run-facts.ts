import type { TrainedModel } from '../learn/index.js';
import { PARENT_RUN_TAG, SOURCE_NAME_TAG, SOURCE_TYPE_TAG } from '../tracking/index.js';
import type { CheckedRequest } from './request.js';

/**
 * The tags a training run starts with: the learner and task (`kiln.learner`, `kiln.task`), the job
 * (`kiln.job_id`), the parent run for nested runs (`mlflow.parentRunId`), MLflow's source tags and
 * any extra tags of the caller.
 *
 * @example
 * trainingRunTags(checked, { jobId: 'train-1f…' }); // [{ key: 'kiln.learner', value: 'gbdt' }, …]
 */
export function trainingRunTags(
  checked: CheckedRequest,
  hooks: { jobId?: string; parentRunId?: string; tags?: Record<string, string> },
): { key: string; value: string }[] {
  const tags = [
    { key: 'kiln.learner', value: checked.spec.model },
    { key: 'kiln.task', value: checked.spec.task },
    { key: SOURCE_TYPE_TAG, value: 'JOB' },
    { key: SOURCE_NAME_TAG, value: 'kiln train' },
  ];
  if (hooks.jobId !== undefined) tags.push({ key: 'kiln.job_id', value: hooks.jobId });
  if (hooks.parentRunId !== undefined) tags.push({ key: PARENT_RUN_TAG, value: hooks.parentRunId });
  for (const [key, value] of Object.entries(hooks.tags ?? {})) tags.push({ key, value });
  return tags;
}

const MLFLOW_TYPES: Record<TrainedModel['signature']['inputs'][number]['type'], string> = {
  float: 'double',
  integer: 'long',
  boolean: 'boolean',
  categorical: 'string',
  string: 'string',
  datetime: 'datetime',
};

/**
 * A model's signature as the registry stores it (MLflow column specs): inputs typed by the closest
 * MLflow type and optional when they had missing values; the prediction and one probability per class.
 */
export function registrySignature(signature: TrainedModel['signature']) {
  return {
    inputs: signature.inputs.map((input) => ({
      name: input.name,
      type: MLFLOW_TYPES[input.type],
      ...(input.nullable ? { optional: true } : {}),
    })),
    outputs: signature.outputs.map((output) => ({
      name: output.name,
      type: output.type === 'float' ? 'double' : output.type === 'integer' ? 'long' : 'string',
    })),
  };
}
