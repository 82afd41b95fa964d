import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, RawServerDefault } from 'fastify';
import type { Logger } from '../core/index.js';

/**
 * The Fastify instance Kiln builds: Node's HTTP server, Kiln's pino logger, and TypeBox schemas
 * providing the types of `request.body`, `request.query` and `request.params`.
 */
export type KilnApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;
