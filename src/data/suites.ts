import { KilnError, type RequestContext } from '../core/index.js';
import { nowIso } from '../store/index.js';
import type { SuiteVersion } from './model.js';
import type { DatasetStore } from './store.js';
import { checkSuite, parseSuite, type SuiteDefinition } from './validation/index.js';

/** A suite to save: a parsed document, or YAML / JSON text. */
export type SaveSuiteInput =
  | { name?: string; definition: unknown }
  | { name?: string; text: string; format: 'yaml' | 'json' };

/**
 * Validation suites, versioned like datasets: saving a suite under an existing name makes its next
 * version and never changes an earlier one, so a report always names the exact expectations it ran.
 *
 * @example
 * const suites = new SuiteService(store);
 * const v1 = await suites.save(ctx, { text: readFileSync('flights.yaml', 'utf8'), format: 'yaml' });
 * await datasets.attachSuite(ctx, 'flights', { name: v1.name });
 */
export class SuiteService {
  constructor(private readonly store: DatasetStore) {}

  async save(ctx: RequestContext, input: SaveSuiteInput): Promise<SuiteVersion> {
    const named = input.name === undefined ? {} : { name: input.name };
    const definition =
      'text' in input ? parseSuite(input.text, input.format, named) : checkSuite(input.definition, named);
    return this.store.appendSuiteVersion({
      workspace: ctx.workspace,
      name: definition.name,
      description: definition.description ?? '',
      definition,
      createdAt: nowIso(),
      createdBy: ctx.actor,
    });
  }

  /** Checks an inline suite document (used once, not saved); a document without a name is called `inline`. */
  check(definition: unknown): SuiteDefinition {
    const named =
      typeof definition === 'object' && definition !== null && 'name' in definition ? {} : { name: 'inline' };
    return checkSuite(definition, named);
  }

  /** A suite version, or the latest when `version` is undefined. */
  async get(ctx: RequestContext, name: string, version?: number): Promise<SuiteVersion> {
    const found = await this.store.getSuite(ctx.workspace, name, version);
    if (found === undefined) {
      const which = version === undefined ? '' : ` version ${version}`;
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `suite '${name}'${which} does not exist`, { name });
    }
    return found;
  }

  /** The latest version of every suite, in name order. */
  list(ctx: RequestContext): Promise<SuiteVersion[]> {
    return this.store.listSuites(ctx.workspace);
  }
}
