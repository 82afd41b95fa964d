import { invalidParameter, KilnError } from '../../core/index.js';

/** The header giving the byte length of the JSON part of a body that carries binary tensor data. */
export const INFERENCE_HEADER = 'inference-header-content-length';
/** The same header as the binary tensor data extension spells it, for messages. */
export const INFERENCE_HEADER_NAME = 'Inference-Header-Content-Length';

/** An OIP request body: its JSON object, and the binary tensor data after it when there is any. */
export interface OipBody {
  json: unknown;
  /** The bytes after the JSON part (binary tensor data extension); undefined without the header. */
  binary?: Buffer;
}

function parseJson(bytes: Buffer, withHeader: boolean): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new KilnError(
      'MALFORMED_REQUEST',
      withHeader
        ? `Request body is not valid JSON in its first ${bytes.length} bytes (the length ${INFERENCE_HEADER_NAME} gives)`
        : `Request body is not valid JSON (a body with binary tensor data needs the ${INFERENCE_HEADER_NAME} header)`,
    );
  }
}

/**
 * Splits an inference request body. Without `Inference-Header-Content-Length` the whole body is
 * JSON (so trailing binary bytes make it malformed, a 400). With it, the first that many bytes are
 * the JSON object and the rest are the binary tensor chunks, in the order of the inputs that
 * declare `parameters.binary_data_size`. The header must be a byte count within the body.
 *
 * @example
 * parseOipBody(request.headers['inference-header-content-length'], buffer); // { json, binary }
 */
export function parseOipBody(header: string | string[] | undefined, body: Buffer): OipBody {
  if (header === undefined) return { json: parseJson(body, false) };
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || !/^\d{1,15}$/.test(text.trim())) {
    throw invalidParameter(
      INFERENCE_HEADER_NAME,
      `is ${JSON.stringify(text)}; it must be the byte length of the JSON part`,
    );
  }
  const length = Number(text.trim());
  if (length > body.length) {
    throw invalidParameter(INFERENCE_HEADER_NAME, `is ${length} but the body has only ${body.length} bytes`);
  }
  return { json: parseJson(body.subarray(0, length), true), binary: body.subarray(length) };
}

/**
 * A response body with binary outputs: the JSON header object followed by the output chunks,
 * and the length to send as `Inference-Header-Content-Length`.
 *
 * @example
 * const { body, headerLength } = binaryResponse(answer, [bytes]);
 * reply.header('inference-header-content-length', headerLength).type('application/octet-stream').send(body);
 */
export function binaryResponse(json: unknown, chunks: readonly Buffer[]): { body: Buffer; headerLength: number } {
  const head = Buffer.from(JSON.stringify(json), 'utf8');
  return { body: Buffer.concat([head, ...chunks]), headerLength: head.length };
}
