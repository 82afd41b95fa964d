import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { KILN_VERSION, KilnError } from '../../core/index.js';
import {
  answerableError,
  type EndpointModel,
  type ModelFlavour,
  type ProtocolRoutesOptions,
  ROUTE_KEY_HEADER,
  type ServedEndpoint,
} from '../../serving/index.js';
import { binaryResponse, INFERENCE_HEADER, parseOipBody } from './binary.js';
import { metadataDatatype, modelOutputs, oipTable, outputTensors, readInferRequest } from './tensors.js';

/** The server name `GET /v2` reports. */
export const OIP_SERVER_NAME = 'kiln';
/** The protocol extensions `GET /v2` advertises: the binary tensor data extension, both ways. */
export const OIP_EXTENSIONS: readonly string[] = ['binary_tensor_data'];

/** The `<project>_<format>` platform string of model metadata, by flavour. */
const PLATFORMS: Readonly<Record<ModelFlavour, string>> = {
  kiln: 'kiln_package',
  onnx: 'onnx_onnxv1',
  xgboost: 'xgboost_json',
};

const ALL_METHODS: readonly HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

interface ModelParams {
  model: string;
  version?: string;
}

function notReady(endpoint: ServedEndpoint): KilnError {
  return new KilnError('TEMPORARILY_UNAVAILABLE', `Model '${endpoint.name}' is not ready: it is still loading`, {
    deployment: endpoint.name,
    retryAfter: 1,
  });
}

/**
 * The models of `endpoint` a request path names: the path's model must be the endpoint's name or
 * the name of a model answering there, and its version (when given) one being served. Shadows are
 * not addressable. 404 otherwise; 503 while nothing is loaded yet.
 */
function addressedModels(endpoint: ServedEndpoint, params: ModelParams): EndpointModel[] {
  const answering = endpoint.models().filter((m) => m.role !== 'shadow');
  const named = params.model === endpoint.name ? answering : answering.filter((m) => m.name === params.model);
  if (named.length === 0) {
    // Nothing loaded yet: which names it will serve is not known until it is.
    if (answering.length === 0) throw notReady(endpoint);
    const served = [...new Set([endpoint.name, ...answering.map((m) => m.name)])].map((n) => `'${n}'`).join(' or ');
    throw new KilnError(
      'RESOURCE_DOES_NOT_EXIST',
      `Model '${params.model}' is not served here; this endpoint serves ${served}`,
      {
        model: params.model,
      },
    );
  }
  if (params.version === undefined) return named;
  const versioned = named.filter((m) => m.version === params.version);
  if (versioned.length === 0) {
    const versions = [...new Set(named.map((m) => m.version))].join(', ');
    throw new KilnError(
      'RESOURCE_DOES_NOT_EXIST',
      `Model '${params.model}' has no version '${params.version}' here; it serves version ${versions}`,
      { model: params.model, version: params.version },
    );
  }
  return versioned;
}

function sendOipError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const known = answerableError(error, request, reply);
  return reply.code(known.status).send({ error: known.message });
}

/** Answers 405 (with `Allow`) for the methods a path does not take, in OIP's error body. */
function refuseOtherMethods(scope: FastifyInstance, url: string, allowed: HTTPMethods): void {
  scope.route({
    method: ALL_METHODS.filter((m) => m !== allowed),
    url,
    config: { permission: 'public' },
    schema: { hide: true },
    handler: (request, reply) =>
      reply
        .code(405)
        .header('allow', allowed === 'GET' ? 'GET, HEAD' : allowed)
        .send({ error: `Method ${request.method} is not allowed here; use ${allowed}` }),
  });
}

/**
 * The Open Inference Protocol v2 REST surface (KServe, Triton, MLServer clients) over one endpoint:
 * - `GET /v2`: server metadata `{name, version, extensions}`;
 * - `GET /v2/health/live` (`{live: true}`) and `/v2/health/ready` (`{ready: true}`, or 503
 *   `{ready: false}` until the model is loaded and warmed, so probes that ignore bodies still work);
 * - `GET /v2/models/{model}[/versions/{version}]`: model metadata with the inputs' datatypes
 *   and shapes (`[-1]`, one tensor per input) and the outputs `prediction` and, for classifiers,
 *   `probabilities` (`[-1, classes]`); `…/ready`: `{name, ready}` (503 when not ready);
 * - `POST /v2/models/{model}[/versions/{version}]/infer`: typed tensors of every OIP datatype,
 *   flat or nested data, request `id` echoed, scalar `parameters` accepted, `outputs` selecting
 *   outputs, and the binary tensor data extension (`Inference-Header-Content-Length`) both ways.
 *
 * `{model}` is the deployment's name or the name of the model answering there; anything else, and
 * a version not served, is 404. Errors are `{"error": "…"}`: 400 naming the field for bad input,
 * 404, 405 for a wrong method, 413, and 503 with `Retry-After` while loading or overloaded. The
 * routes stay out of Kiln's OpenAPI description: the OIP specification documents them.
 *
 * @example
 * await app.register(oipRoutes, { prefix: '/serve/:deployment', endpoint: (request) => find(request) });
 * // POST /serve/penguins/v2/models/penguins/infer {"inputs": [{"name": "Island", "shape": [1], "datatype": "BYTES", "data": ["Biscoe"]}, …]}
 */
export const oipRoutes: FastifyPluginAsync<ProtocolRoutesOptions> = async (app, options) => {
  const endpointOf = options.endpoint;
  await app.register(
    async (v2) => {
      v2.setErrorHandler(sendOipError);
      v2.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?', 1)[0] ?? request.url;
        const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
        return reply.code(404).send({ error: `No endpoint ${request.method} ${shown}` });
      });

      // Every body is read as bytes: JSON whatever its Content-Type (clients differ), split from
      // trailing binary tensor data when Inference-Header-Content-Length says where JSON ends.
      v2.removeAllContentTypeParsers();
      v2.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
        try {
          done(null, parseOipBody(request.headers[INFERENCE_HEADER], body as Buffer));
        } catch (error) {
          done(error as Error, undefined);
        }
      });

      const server = { name: OIP_SERVER_NAME, version: KILN_VERSION, extensions: OIP_EXTENSIONS };
      v2.get('/', { config: { permission: 'public' }, schema: { hide: true } }, (request) => {
        endpointOf(request);
        return server;
      });
      refuseOtherMethods(v2, '/', 'GET');

      v2.get('/health/live', { config: { permission: 'public' }, schema: { hide: true } }, (request) => {
        endpointOf(request);
        return { live: true };
      });
      refuseOtherMethods(v2, '/health/live', 'GET');

      v2.get('/health/ready', { config: { permission: 'public' }, schema: { hide: true } }, (request, reply) => {
        const ready = endpointOf(request).ready();
        if (!ready) reply.code(503).header('retry-after', '1');
        return { ready };
      });
      refuseOtherMethods(v2, '/health/ready', 'GET');

      const metadata = (request: FastifyRequest<{ Params: ModelParams }>) => {
        const endpoint = endpointOf(request);
        const models = addressedModels(endpoint, request.params);
        const model = models[0] as EndpointModel;
        return {
          name: request.params.model,
          versions: [...new Set(models.map((m) => m.version))],
          platform: PLATFORMS[model.flavour],
          inputs: model.inputs.map((input) => ({ name: input.name, datatype: metadataDatatype(input), shape: [-1] })),
          outputs: modelOutputs(model),
        };
      };
      const ready = (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
        const endpoint = endpointOf(request);
        const models = addressedModels(endpoint, request.params);
        const isReady = endpoint.ready() && models.some((m) => m.ready);
        if (!isReady) reply.code(503).header('retry-after', '1');
        return { name: request.params.model, ready: isReady };
      };
      const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
        const endpoint = endpointOf(request);
        const models = addressedModels(endpoint, request.params);
        const primary = models[0] as EndpointModel;
        if (request.body === undefined) {
          throw new KilnError('MALFORMED_REQUEST', 'Request body is empty; send an inference request object');
        }
        const inferRequest = readInferRequest(request.body as ReturnType<typeof parseOipBody>);
        const offered = new Set(modelOutputs(primary).map((o) => o.name));
        for (const output of inferRequest.outputs ?? []) {
          if (!offered.has(output.name)) {
            throw new KilnError(
              'INVALID_PARAMETER_VALUE',
              `${output.field}.name: is ${JSON.stringify(output.name)}, not an output of the model; it offers ${[...offered].join(', ')}`,
              { field: `${output.field}.name` },
            );
          }
        }
        // Inputs only another answering model (a canary of another signature) reads pass on too.
        const others = models.length > 1 ? models.slice(1) : [];
        const table = oipTable(inferRequest.inputs, primary.inputs, (name) =>
          others.some((m) => m.inputs.some((input) => input.name === name)),
        );
        const header = request.headers[ROUTE_KEY_HEADER];
        const result = await endpoint.infer({
          table,
          requestId: request.id,
          protocol: 'oip',
          ...(typeof header === 'string' && header !== '' ? { routeKey: header } : {}),
        });
        const { outputs, chunks } = outputTensors(result, inferRequest);
        const answer: Record<string, unknown> = { model_name: request.params.model, model_version: result.version };
        if (inferRequest.id !== undefined) answer.id = inferRequest.id;
        answer.outputs = outputs;
        if (chunks.length === 0) return answer;
        const { body, headerLength } = binaryResponse(answer, chunks);
        return reply.header(INFERENCE_HEADER, String(headerLength)).type('application/octet-stream').send(body);
      };

      for (const base of ['/models/:model', '/models/:model/versions/:version']) {
        v2.get<{ Params: ModelParams }>(base, { config: { permission: 'read' }, schema: { hide: true } }, metadata);
        refuseOtherMethods(v2, base, 'GET');
        v2.get<{ Params: ModelParams }>(
          `${base}/ready`,
          { config: { permission: 'public' }, schema: { hide: true } },
          ready,
        );
        refuseOtherMethods(v2, `${base}/ready`, 'GET');
        v2.post<{ Params: ModelParams }>(
          `${base}/infer`,
          { config: { permission: 'read' }, schema: { hide: true } },
          infer,
        );
        refuseOtherMethods(v2, `${base}/infer`, 'POST');
      }
    },
    { prefix: '/v2' },
  );
};
