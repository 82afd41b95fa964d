import { invalidParameter, KilnError } from '../../core/index.js';
import { checkModelName } from '../../registry/index.js';
import { formatModelRef, parseModelRef } from '../predictors/ref.js';
import type {
  BatchingOptions,
  DeploymentSpec,
  DeploymentStrategy,
  DeploymentTarget,
  InputPolicy,
  ModelRef,
  TargetRole,
} from '../types.js';

/** Every strategy, as the API names them. */
export const DEPLOYMENT_STRATEGIES: readonly DeploymentStrategy[] = ['single', 'canary', 'ab', 'shadow'];
/** Every target role, in the order a stored spec lists its targets (the primary first). */
export const TARGET_ROLES: readonly TargetRole[] = ['primary', 'canary', 'variant', 'shadow'];

/** Most targets one deployment may have: each is a loaded model, so this bounds its memory. */
export const MAX_TARGETS = 16;
/** Traffic share of a canary when the request gives none, in percent. */
export const DEFAULT_CANARY_WEIGHT = 10;
/** Share of requests mirrored to a shadow when the request gives none, in percent. */
export const DEFAULT_SHADOW_WEIGHT = 100;
/** Micro-batching limits and the values `batching: {}` turns on. */
export const BATCHING_LIMITS = {
  maxBatchSize: { min: 1, max: 10_000, default: 32 },
  maxWaitMs: { min: 0, max: 1000, default: 2 },
} as const;
/** Limits and defaults of the request-handling settings. */
export const DEPLOYMENT_LIMITS = {
  maxQueue: { min: 1, max: 1_000_000, default: 1000 },
  timeoutMs: { min: 1, max: 600_000, default: 10_000 },
  maxBatchRows: { min: 1, max: 1_000_000, default: 10_000 },
} as const;

/** Weights that sum to 100 within this are accepted: 3 × 33.333… is fine. */
const WEIGHT_TOLERANCE = 1e-6;

/** A registry reference a deployment may serve: a version, or an alias it follows. */
export type RegistryModelRef = Extract<ModelRef, { kind: 'version' | 'alias' }>;

/**
 * Parses `models:/name/3` or `models:/name@alias` (with the predictors' `parseModelRef`, so names
 * and aliases follow the registry's rules). Deployments serve registered models only (a path is
 * for `kiln serve <path>`), so anything else is a 400 naming `field`.
 *
 * @example
 * parseDeploymentModelRef('models:/flights@champion', 'targets[0].model'); // { kind: 'alias', name: 'flights', alias: 'champion' }
 * parseDeploymentModelRef('models:/flights/4', 'targets[1].model'); // { kind: 'version', name: 'flights', version: 4 }
 */
export function parseDeploymentModelRef(text: unknown, field: string): RegistryModelRef {
  if (typeof text !== 'string' || text.slice(0, 'models:'.length).toLowerCase() !== 'models:') {
    throw invalidParameter(
      field,
      'must be models:/<name>/<version> or models:/<name>@<alias> (deployments serve registered models)',
      text,
    );
  }
  const ref = parseModelRef(text, field);
  if (ref.kind === 'path') throw invalidParameter(field, 'must name a registered model', text);
  return ref;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A JSON object whose keys may come snake_case (the wire) or camelCase (TypeScript callers): each
 * `get` answers the value and the field name the caller used, for error messages, and `rest`
 * refuses keys nobody asked for.
 */
class Fields {
  private readonly seen = new Set<string>();

  constructor(
    private readonly body: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  /** The value under the snake_case key or its camelCase twin, with the field as sent. */
  get(snake: string): { value: unknown; field: string } {
    const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    this.seen.add(snake);
    this.seen.add(camel);
    const key = this.body[snake] === undefined && this.body[camel] !== undefined ? camel : snake;
    return { value: this.body[key], field: `${this.prefix}${key}` };
  }

  /** Throws for the first key no `get` asked for. */
  rest(what: string): void {
    for (const key of Object.keys(this.body)) {
      if (!this.seen.has(key) && this.body[key] !== undefined) {
        throw invalidParameter(`${this.prefix}${key}`, `is not a ${what} field`);
      }
    }
  }
}

function numberIn(
  { value, field }: { value: unknown; field: string },
  min: number,
  max: number,
  integer: boolean,
  fallback: number,
): number {
  if (value === undefined || value === null) return fallback;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
  if (!ok || (integer && !Number.isInteger(value))) {
    throw invalidParameter(field, `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`, value);
  }
  return value;
}

function objectAt({ value, field }: { value: unknown; field: string }): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalidParameter(field, 'must be an object', value);
  return value;
}

function oneOf<T extends string>({ value, field }: { value: unknown; field: string }, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidParameter(field, `must be one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

/** A target as the request gave it, before the strategy's rules and defaults. */
interface RawTarget {
  index: number;
  model: string;
  role: TargetRole;
  weight: number | undefined;
  field: string;
}

function readTargets(entry: { value: unknown; field: string }, strategy: DeploymentStrategy | undefined): RawTarget[] {
  const { value, field } = entry;
  if (value === undefined || value === null) throw invalidParameter(field, 'is required: the models to serve');
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidParameter(field, 'must be a non-empty list of {model, role, weight}', value);
  }
  if (value.length > MAX_TARGETS) throw invalidParameter(field, `must hold at most ${MAX_TARGETS} targets`);
  const seen = new Map<string, number>();
  return value.map((raw, index) => {
    const at = `${field}[${index}]`;
    if (!isRecord(raw)) throw invalidParameter(at, 'must be an object {model, role, weight}', raw);
    const fields = new Fields(raw, `${at}.`);
    const modelEntry = fields.get('model');
    const model = formatModelRef(parseDeploymentModelRef(modelEntry.value, modelEntry.field));
    const roleEntry = fields.get('role');
    const role =
      roleEntry.value === undefined || roleEntry.value === null
        ? strategy === 'ab'
          ? 'variant'
          : 'primary'
        : oneOf(roleEntry, TARGET_ROLES);
    const weightEntry = fields.get('weight');
    const weight =
      weightEntry.value === undefined || weightEntry.value === null
        ? undefined
        : numberIn(weightEntry, 0, 100, false, 0);
    fields.rest('target');
    const earlier = seen.get(model);
    if (earlier !== undefined) {
      throw invalidParameter(modelEntry.field, `${model} is already targets[${earlier}]; each model appears once`);
    }
    seen.set(model, index);
    return { index, model, role, weight, field: at };
  });
}

/** The strategy a request implies when it names none: from the roles of its targets. */
function inferStrategy(targets: readonly RawTarget[]): DeploymentStrategy {
  if (targets.some((t) => t.role === 'variant')) return 'ab';
  if (targets.some((t) => t.role === 'canary')) return 'canary';
  if (targets.some((t) => t.role === 'shadow')) return 'shadow';
  return 'single';
}

const ALLOWED_ROLES: Record<DeploymentStrategy, readonly TargetRole[]> = {
  single: ['primary', 'shadow'],
  canary: ['primary', 'canary', 'shadow'],
  ab: ['variant', 'shadow'],
  shadow: ['primary', 'shadow'],
};

const ROLE_HINT: Record<TargetRole, string> = {
  primary: "an A/B deployment has variants, not a primary; use role 'variant'",
  canary: "only a canary deployment has a canary; set strategy 'canary'",
  variant: "only an A/B deployment has variants; set strategy 'ab'",
  shadow: '',
};

/** Applies the strategy's rules to the targets and fills the weights; errors name the target's field. */
function strategyTargets(strategy: DeploymentStrategy, targets: readonly RawTarget[], field: string) {
  for (const t of targets) {
    if (!ALLOWED_ROLES[strategy].includes(t.role)) {
      throw invalidParameter(
        `${t.field}.role`,
        `'${t.role}' is not allowed in a ${strategy} deployment: ${ROLE_HINT[t.role]}`,
      );
    }
  }
  const of = (role: TargetRole) => targets.filter((t) => t.role === role);
  const primaries = of('primary');
  if (strategy !== 'ab') {
    if (primaries.length === 0)
      throw invalidParameter(field, `a ${strategy} deployment needs one target with role 'primary'`);
    const second = primaries[1];
    if (second !== undefined) {
      throw invalidParameter(
        `${second.field}.role`,
        `a deployment has one primary; this is the second (give it role canary, variant or shadow)`,
      );
    }
  }
  const weights = new Map<RawTarget, number>();
  if (strategy === 'canary') {
    const canaries = of('canary');
    const [canary, extra] = canaries;
    if (canary === undefined) throw invalidParameter(field, "a canary deployment needs one target with role 'canary'");
    if (extra !== undefined)
      throw invalidParameter(`${extra.field}.role`, 'a canary deployment has exactly one canary');
    const share = canary.weight ?? DEFAULT_CANARY_WEIGHT;
    weights.set(canary, share);
    weights.set(primaries[0] as RawTarget, 100 - share);
  } else if (strategy === 'ab') {
    const variants = of('variant');
    if (variants.length < 2)
      throw invalidParameter(field, "an A/B deployment needs at least two targets with role 'variant'");
    const given = variants.filter((v) => v.weight !== undefined);
    const givenSum = given.reduce((sum, v) => sum + (v.weight ?? 0), 0);
    const open = variants.length - given.length;
    const last = variants[variants.length - 1] as RawTarget;
    if (open === 0 && Math.abs(givenSum - 100) > WEIGHT_TOLERANCE) {
      throw invalidParameter(`${last.field}.weight`, `variant weights must sum to 100; they sum to ${givenSum}`);
    }
    if (open > 0 && givenSum > 100 + WEIGHT_TOLERANCE) {
      throw invalidParameter(
        `${last.field}.weight`,
        `variant weights must sum to 100; the given ones already sum to ${givenSum}`,
      );
    }
    const each = open === 0 ? 0 : Math.max(0, 100 - givenSum) / open;
    for (const v of variants) weights.set(v, v.weight ?? each);
  } else {
    weights.set(primaries[0] as RawTarget, 100);
  }
  if (strategy === 'shadow' && of('shadow').length === 0) {
    throw invalidParameter(field, "a shadow deployment needs at least one target with role 'shadow'");
  }
  for (const s of of('shadow')) weights.set(s, s.weight ?? DEFAULT_SHADOW_WEIGHT);
  const order = (t: RawTarget) => TARGET_ROLES.indexOf(t.role) * 1000 + t.index;
  return [...targets]
    .sort((a, b) => order(a) - order(b))
    .map((t): DeploymentTarget => ({ model: t.model, role: t.role, weight: weights.get(t) ?? 0 }));
}

function readBatching(entry: { value: unknown; field: string }): BatchingOptions | undefined {
  if (entry.value === false) return undefined;
  const body = objectAt(entry);
  if (body === undefined) return undefined;
  const fields = new Fields(body, `${entry.field}.`);
  const { maxBatchSize, maxWaitMs } = BATCHING_LIMITS;
  const batching = {
    maxBatchSize: numberIn(
      fields.get('max_batch_size'),
      maxBatchSize.min,
      maxBatchSize.max,
      true,
      maxBatchSize.default,
    ),
    maxWaitMs: numberIn(fields.get('max_wait_ms'), maxWaitMs.min, maxWaitMs.max, false, maxWaitMs.default),
  };
  fields.rest('batching');
  return batching;
}

function readInput(entry: { value: unknown; field: string }): InputPolicy {
  const fields = new Fields(objectAt(entry) ?? {}, `${entry.field}.`);
  const extra = fields.get('extra_columns');
  const { maxBatchRows } = DEPLOYMENT_LIMITS;
  const policy: InputPolicy = {
    extraColumns: extra.value === undefined || extra.value === null ? 'ignore' : oneOf(extra, ['ignore', 'reject']),
    maxBatchRows: numberIn(
      fields.get('max_batch_rows'),
      maxBatchRows.min,
      maxBatchRows.max,
      true,
      maxBatchRows.default,
    ),
  };
  fields.rest('input');
  return policy;
}

function readLogging(entry: { value: unknown; field: string }): { sampleRate: number } {
  const fields = new Fields(objectAt(entry) ?? {}, `${entry.field}.`);
  const logging = { sampleRate: numberIn(fields.get('sample_rate'), 0, 1, false, 1) };
  fields.rest('logging');
  return logging;
}

/**
 * Checks a deployment as a create request gives it (snake_case JSON, the `/api/v1` convention;
 * camelCase keys are accepted too, for TypeScript callers) and returns the full spec with every
 * default filled in. Strategy rules: `single` has one primary; `canary` a primary and exactly one
 * canary whose weight (0–100, default 10) is its share of traffic; `ab` two or more variants whose
 * weights sum to 100 (equal shares when left out); `shadow` a primary and at least one shadow.
 * Shadows (weight = percentage mirrored, default 100) may join any strategy. A missing strategy is
 * read from the roles; a missing role is `primary` (`variant` under `ab`). The primary's weight is
 * always the share it keeps. Targets are stored primary first. Every problem is a 400 naming the
 * field, e.g. `targets[1].weight`.
 *
 * @example
 * checkDeploymentInput({
 *   name: 'flights',
 *   targets: [{ model: 'models:/flights@champion' }, { model: 'models:/flights/4', role: 'canary', weight: 10 }],
 *   batching: { max_batch_size: 64, max_wait_ms: 2 },
 * }, 'default');
 * // { workspace: 'default', name: 'flights', strategy: 'canary', targets: [… weight 90, … weight 10], maxQueue: 1000, … }
 */
export function checkDeploymentInput(raw: unknown, workspace: string): DeploymentSpec {
  if (!isRecord(raw)) throw invalidParameter('body', 'must be a JSON object with name and targets', raw);
  const fields = new Fields(raw, '');
  if (raw.workspace !== undefined) {
    throw invalidParameter('workspace', 'is not part of the body; the x-kiln-workspace header chooses it');
  }
  const name = checkModelName('name', fields.get('name').value);
  const strategyEntry = fields.get('strategy');
  const named =
    strategyEntry.value === undefined || strategyEntry.value === null
      ? undefined
      : oneOf(strategyEntry, DEPLOYMENT_STRATEGIES);
  const targetsEntry = fields.get('targets');
  const raws = readTargets(targetsEntry, named);
  const strategy = named ?? inferStrategy(raws);
  const targets = strategyTargets(strategy, raws, targetsEntry.field);
  const batching = readBatching(fields.get('batching'));
  const { maxQueue, timeoutMs } = DEPLOYMENT_LIMITS;
  const spec: DeploymentSpec = {
    workspace,
    name,
    strategy,
    targets,
    maxQueue: numberIn(fields.get('max_queue'), maxQueue.min, maxQueue.max, true, maxQueue.default),
    timeoutMs: numberIn(fields.get('timeout_ms'), timeoutMs.min, timeoutMs.max, true, timeoutMs.default),
    input: readInput(fields.get('input')),
    logging: readLogging(fields.get('logging')),
  };
  if (batching !== undefined) spec.batching = batching;
  fields.rest('deployment');
  return spec;
}

/** A deployment spec in its wire form (snake_case, no workspace): what the API returns and stores. */
export interface DeploymentSpecWire {
  name: string;
  strategy: DeploymentStrategy;
  targets: { model: string; role: TargetRole; weight: number }[];
  batching?: { max_batch_size: number; max_wait_ms: number };
  max_queue: number;
  timeout_ms: number;
  input: { extra_columns: 'ignore' | 'reject'; max_batch_rows: number };
  logging: { sample_rate: number };
}

/**
 * A spec in its wire form; {@link checkDeploymentInput} reads it back to the same spec.
 *
 * @example
 * checkDeploymentInput(specToWire(spec), spec.workspace); // deep-equals spec
 */
export function specToWire(spec: DeploymentSpec): DeploymentSpecWire {
  const wire: DeploymentSpecWire = {
    name: spec.name,
    strategy: spec.strategy,
    targets: spec.targets.map((t) => ({ model: t.model, role: t.role, weight: t.weight })),
    max_queue: spec.maxQueue,
    timeout_ms: spec.timeoutMs,
    input: { extra_columns: spec.input.extraColumns, max_batch_rows: spec.input.maxBatchRows },
    logging: { sample_rate: spec.logging.sampleRate },
  };
  if (spec.batching !== undefined) {
    wire.batching = { max_batch_size: spec.batching.maxBatchSize, max_wait_ms: spec.batching.maxWaitMs };
  }
  return wire;
}

const MERGED_OBJECTS = new Set(['input', 'logging', 'batching']);

/** `maxBatchSize` → `max_batch_size`, one level deep, so a patch merges onto the wire form key by key. */
function snakeKeys(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

/**
 * Checks an update (`PATCH`) against the current spec and returns the new one. Given fields
 * replace the current ones; `input`, `logging` and `batching` merge key by key (`batching: null`
 * turns batching off); new `targets` without a `strategy` let the strategy follow their roles.
 * The name cannot change. An update naming nothing is a 400.
 *
 * @example
 * checkDeploymentUpdate(current, { targets: [{ model: 'models:/flights@champion' }, { model: 'models:/flights/5', role: 'canary', weight: 25 }] });
 */
export function checkDeploymentUpdate(current: DeploymentSpec, raw: unknown): DeploymentSpec {
  if (!isRecord(raw)) throw invalidParameter('body', 'must be a JSON object of the fields to change', raw);
  const changes = Object.entries(raw).filter(([, v]) => v !== undefined);
  if (changes.length === 0) {
    throw invalidParameter(
      'body',
      'names no change: give strategy, targets, batching, max_queue, timeout_ms, input or logging',
    );
  }
  const merged: Record<string, unknown> = { ...specToWire(current) };
  const patch = snakeKeys(raw);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === 'name') {
      if (value !== current.name) {
        throw invalidParameter(
          'name',
          'cannot change; create a deployment under the new name and delete this one',
          value,
        );
      }
      continue;
    }
    if (key === 'batching' && (value === null || value === false)) {
      delete merged.batching;
      continue;
    }
    if (MERGED_OBJECTS.has(key) && isRecord(value)) {
      const base = merged[key];
      merged[key] = { ...(isRecord(base) ? base : {}), ...snakeKeys(value) };
      continue;
    }
    merged[key] = value;
  }
  if (patch.targets !== undefined && patch.strategy === undefined) delete merged.strategy;
  return checkDeploymentInput(merged, current.workspace);
}

/**
 * What promoting `target` makes of a spec. A canary or an A/B variant becomes the single primary;
 * a shadow becomes the primary and the other shadows stay (the strategy stays `shadow` while any
 * remain). Without `target`: the canary of a canary deployment, or the only shadow. Naming the
 * current primary, or promoting a deployment with nothing to promote, is INVALID_STATE (409).
 *
 * @example
 * promoteSpec(canarySpec).targets; // [{ model: 'models:/flights/4', role: 'primary', weight: 100 }]
 */
export function promoteSpec(spec: DeploymentSpec, target?: string): DeploymentSpec {
  const shadows = spec.targets.filter((t) => t.role === 'shadow');
  let chosen: DeploymentTarget | undefined;
  if (target === undefined) {
    if (spec.strategy === 'canary') chosen = spec.targets.find((t) => t.role === 'canary');
    else if (spec.strategy === 'ab') {
      throw invalidParameter('target', 'is required for an A/B deployment: name the variant to promote');
    } else if (shadows.length === 1) chosen = shadows[0];
    else if (shadows.length > 1) {
      throw invalidParameter('target', `is required: the deployment has ${shadows.length} shadows; name one`);
    } else {
      throw new KilnError(
        'INVALID_STATE',
        `Deployment '${spec.name}' serves only its primary; there is nothing to promote`,
        { name: spec.name },
      );
    }
  } else {
    const ref = formatModelRef(parseDeploymentModelRef(target, 'target'));
    chosen = spec.targets.find((t) => t.model === ref);
    if (chosen === undefined) {
      throw invalidParameter(
        'target',
        `${ref} is not a target of deployment '${spec.name}' (targets: ${spec.targets.map((t) => t.model).join(', ')})`,
      );
    }
  }
  if (chosen === undefined) throw new KilnError('INTERNAL_ERROR', `deployment '${spec.name}' has no canary`);
  if (chosen.role === 'primary') {
    throw new KilnError('INVALID_STATE', `${chosen.model} is already the primary of deployment '${spec.name}'`, {
      name: spec.name,
      target: chosen.model,
    });
  }
  const kept = shadows.filter((s) => s !== chosen);
  const strategy: DeploymentStrategy =
    chosen.role === 'shadow' && spec.strategy === 'shadow' && kept.length > 0 ? 'shadow' : 'single';
  return {
    ...spec,
    strategy,
    targets: [{ model: chosen.model, role: 'primary', weight: 100 }, ...kept.map((s) => ({ ...s }))],
  };
}
