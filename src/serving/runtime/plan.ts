import { invalidParameter } from '../../core/index.js';
import type { DeploymentSpec, TargetRole } from '../types.js';

/** A target of a spec by its index in `spec.targets`, with its share. */
export interface PlannedTarget {
  index: number;
  role: TargetRole;
  weight: number;
}

/** Who answers (primary first) and who is mirrored. */
export interface RoutePlan {
  /** The targets whose answers are returned, with their traffic share; the first is the primary. */
  answering: PlannedTarget[];
  /** Shadow targets, `weight` = percentage mirrored. */
  shadows: PlannedTarget[];
}

const ROLES: readonly TargetRole[] = ['primary', 'canary', 'variant', 'shadow'];

/**
 * Checks that a spec's targets fit its strategy and says how traffic splits: single → the primary
 * takes everything; canary → the canary its weight, the primary the rest; ab → each variant its
 * weight (they must sum to 100); shadow → the primary answers. Shadow targets may join any
 * strategy. The deployments service validates specs first; this guards the runtime against a spec
 * that would route nowhere, naming the field.
 *
 * @example
 * planRoutes(spec).answering; // [{ index: 0, role: 'primary', weight: 90 }, { index: 1, role: 'canary', weight: 10 }]
 */
export function planRoutes(spec: DeploymentSpec): RoutePlan {
  if (!Array.isArray(spec.targets) || spec.targets.length === 0) {
    throw invalidParameter('targets', 'must name at least one model');
  }
  const byRole = new Map<TargetRole, PlannedTarget[]>(ROLES.map((role) => [role, []]));
  spec.targets.forEach((target, index) => {
    if (!ROLES.includes(target.role)) {
      throw invalidParameter(`targets[${index}].role`, `must be one of ${ROLES.join(', ')}`, target.role);
    }
    if (
      typeof target.weight !== 'number' ||
      !Number.isFinite(target.weight) ||
      target.weight < 0 ||
      target.weight > 100
    ) {
      throw invalidParameter(`targets[${index}].weight`, 'must be a percentage from 0 to 100', target.weight);
    }
    if (typeof target.model !== 'string' || target.model === '') {
      throw invalidParameter(
        `targets[${index}].model`,
        'must name a model (models:/name/3, models:/name@alias or a path)',
      );
    }
    byRole.get(target.role)?.push({ index, role: target.role, weight: target.weight });
  });
  const primaries = byRole.get('primary') ?? [];
  const canaries = byRole.get('canary') ?? [];
  const variants = byRole.get('variant') ?? [];
  const shadows = byRole.get('shadow') ?? [];
  const only = (allowed: TargetRole[]) => {
    for (const role of ROLES) {
      const first = byRole.get(role)?.[0];
      if (first !== undefined && !allowed.includes(role)) {
        throw invalidParameter(
          `targets[${first.index}].role`,
          `a ${spec.strategy} deployment has no ${role} target (allowed: ${allowed.join(', ')})`,
        );
      }
    }
  };
  const onePrimary = () => {
    if (primaries.length !== 1) {
      throw invalidParameter('targets', `a ${spec.strategy} deployment needs exactly one primary target`);
    }
    return primaries[0] as PlannedTarget;
  };
  switch (spec.strategy) {
    case 'single': {
      only(['primary', 'shadow']);
      const primary = onePrimary();
      return { answering: [{ ...primary, weight: 100 }], shadows };
    }
    case 'shadow': {
      only(['primary', 'shadow']);
      const primary = onePrimary();
      if (shadows.length === 0)
        throw invalidParameter('targets', 'a shadow deployment needs at least one shadow target');
      return { answering: [{ ...primary, weight: 100 }], shadows };
    }
    case 'canary': {
      only(['primary', 'canary', 'shadow']);
      const primary = onePrimary();
      if (canaries.length !== 1)
        throw invalidParameter('targets', 'a canary deployment needs exactly one canary target');
      const canary = canaries[0] as PlannedTarget;
      return { answering: [{ ...primary, weight: 100 - canary.weight }, canary], shadows };
    }
    case 'ab': {
      only(['variant', 'shadow']);
      if (variants.length < 2) throw invalidParameter('targets', 'an ab deployment needs at least two variant targets');
      const total = variants.reduce((sum, v) => sum + v.weight, 0);
      if (Math.abs(total - 100) > 1e-6) {
        throw invalidParameter('targets', `the variant weights must sum to 100, not ${total}`);
      }
      return { answering: variants, shadows };
    }
    default:
      throw invalidParameter('strategy', 'must be one of single, canary, ab, shadow', spec.strategy);
  }
}
