import { KilnError, type RequestContext } from '../../../core/index.js';
import type { DeploymentLiveStatus, DeploymentSpec, ShadowReport } from '../../types.js';
import type { DeploymentRegistry, DeploymentRuntimePort } from '../service.js';
import { parseDeploymentModelRef } from '../spec.js';

/** One call the runtime received. */
export type RuntimeCall =
  | { op: 'apply'; workspace: string; spec: DeploymentSpec }
  | { op: 'remove'; workspace: string; name: string };

/**
 * A {@link DeploymentRuntimePort} for the deployments' own tests, while the real runtime is tested
 * on its own: it records every call, keeps the applied specs as "served", resolves alias targets
 * through the registry for its status (as the real one does), and fails `apply` with a 400 for
 * any spec with a target `failOn` names, leaving the previous spec served, as a failed load does.
 *
 * @example
 * const runtime = new RecordingRuntime({ registry, failOn: (model) => model.includes('broken') });
 */
export class RecordingRuntime implements DeploymentRuntimePort {
  readonly calls: RuntimeCall[] = [];
  readonly served = new Map<string, { spec: DeploymentSpec; versions: string[] }>();
  failOn: (model: string) => boolean;
  shadowReports = new Map<string, ShadowReport>();

  constructor(private readonly options: { registry?: DeploymentRegistry; failOn?: (model: string) => boolean } = {}) {
    this.failOn = options.failOn ?? (() => false);
  }

  async apply(ctx: RequestContext, spec: DeploymentSpec): Promise<void> {
    this.calls.push({ op: 'apply', workspace: spec.workspace, spec: structuredClone(spec) });
    const versions: string[] = [];
    for (const [index, target] of spec.targets.entries()) {
      if (this.failOn(target.model)) {
        throw new KilnError('INVALID_PARAMETER_VALUE', `targets[${index}].model: ${target.model} could not be loaded`, {
          field: `targets[${index}].model`,
        });
      }
      const ref = parseDeploymentModelRef(target.model, 'model');
      if (ref.kind === 'version') versions.push(String(ref.version));
      else if (this.options.registry === undefined) versions.push('');
      else
        versions.push(String((await this.options.registry.getModelVersionByAlias(ctx, ref.name, ref.alias)).version));
    }
    this.served.set(`${spec.workspace}/${spec.name}`, { spec: structuredClone(spec), versions });
  }

  async remove(workspace: string, name: string): Promise<void> {
    this.calls.push({ op: 'remove', workspace, name });
    this.served.delete(`${workspace}/${name}`);
  }

  status(workspace: string, name: string): DeploymentLiveStatus | undefined {
    const served = this.served.get(`${workspace}/${name}`);
    if (served === undefined) return undefined;
    return {
      name,
      ready: true,
      targets: served.spec.targets.map((t, i) => ({
        model: t.model,
        role: t.role,
        weight: t.weight,
        version: served.versions[i] ?? '',
        ready: true,
        requests: 0,
        errors: 0,
        inFlight: 0,
        queueDepth: 0,
        latencyMs: { p50: 0, p99: 0 },
      })),
    };
  }

  shadowReport(workspace: string, name: string): ShadowReport | undefined {
    return this.served.has(`${workspace}/${name}`) ? this.shadowReports.get(`${workspace}/${name}`) : undefined;
  }

  /** The spec served for `workspace/name` now. */
  specOf(workspace: string, name: string): DeploymentSpec | undefined {
    return this.served.get(`${workspace}/${name}`)?.spec;
  }
}
