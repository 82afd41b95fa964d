import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { KilnError } from '../core/index.js';
import type { SuiteService } from './suites.js';
import { SaveSuiteBody, SuiteVersionSchema, suiteToWire } from './wire.js';

const tags = ['suites'];

const SuiteEnvelope = Type.Object({ suite: SuiteVersionSchema });

/** What {@link suiteRoutes} is registered with. */
export interface SuiteRoutesOptions {
  suites: SuiteService;
}

/**
 * Validation suites: save a YAML or JSON document as the next version of a suite, read a suite
 * (latest or a given version), list suites. Attaching a suite to a dataset is a dataset route.
 *
 * @example
 * await app.register(suiteRoutes, { prefix: '/api/v1/suites', suites });
 * // POST /api/v1/suites { "yaml": "name: flights\nexpectations: [...]" } → 201 { suite: { version: 1, ... } }
 */
export const suiteRoutes: FastifyPluginAsyncTypebox<SuiteRoutesOptions> = async (app, { suites }) => {
  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'List suites (their latest versions) in name order',
        tags,
        response: { 200: Type.Object({ suites: Type.Array(SuiteVersionSchema) }) },
      },
    },
    async (request) => ({ suites: (await suites.list(request.ctx)).map(suiteToWire) }),
  );

  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Save a suite document (YAML text or JSON) as the next version of its suite',
        tags,
        body: SaveSuiteBody,
        response: { 201: SuiteEnvelope },
      },
    },
    async (request, reply) => {
      const { name, definition, yaml } = request.body;
      if ((definition === undefined) === (yaml === undefined)) {
        throw new KilnError('INVALID_PARAMETER_VALUE', 'give either definition (JSON) or yaml (text)', {
          field: 'definition',
        });
      }
      const named = name === undefined ? {} : { name };
      const saved =
        yaml === undefined
          ? await suites.save(request.ctx, { ...named, definition })
          : await suites.save(request.ctx, { ...named, text: yaml, format: 'yaml' });
      return reply.code(201).send({ suite: suiteToWire(saved) });
    },
  );

  app.get(
    '/:name',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Get a suite: its latest version, or the one `version` names',
        tags,
        params: Type.Object({ name: Type.String() }),
        querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }),
        response: { 200: SuiteEnvelope },
      },
    },
    async (request) => ({
      suite: suiteToWire(await suites.get(request.ctx, request.params.name, request.query.version)),
    }),
  );
};
