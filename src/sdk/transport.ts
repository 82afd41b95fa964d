import { codeForStatus, type ErrorDetails, isErrorCode, KilnError } from '../core/index.js';

/** One HTTP exchange as the retry loop sees it. */
export type Attempt =
  | { kind: 'response'; response: Response; text: string }
  | { kind: 'network'; error: KilnError }
  | { kind: 'final'; error: KilnError };

/** Everything one {@link attempt} sends, already resolved by the client. */
export interface AttemptInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** A string, bytes, or a stream (sent with `duplex: 'half'`); opened afresh for each attempt. */
  body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
  /** Per-attempt limit; 0 for none. */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** Leave a successful response's body unread (`text` is then empty) so the caller can stream it. */
  streamResponse?: boolean;
}

function describeCause(err: unknown): string {
  let current: unknown = err;
  const parts: string[] = [];
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !current.message.includes(code) ? `${current.message} (${code})` : current.message,
    );
    current = current.cause;
  }
  return parts.join(': ') || String(err);
}

/**
 * Sends one request and reads the whole response body under the timeout. Never throws: a
 * timeout or caller abort is `final` (retrying would not help), a failure to connect is
 * `network` (worth retrying when the method is idempotent).
 */
export async function attempt(input: AttemptInput): Promise<Attempt> {
  // 0 means no limit: the caller's signal (if any) is then the only way to stop the attempt.
  const timeout = input.timeoutMs === 0 ? undefined : AbortSignal.timeout(input.timeoutMs);
  const signals = [timeout, input.signal].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  try {
    const init: RequestInit & { duplex?: 'half' } = { method: input.method, headers: input.headers };
    if (signal !== undefined) init.signal = signal;
    if (input.body !== undefined) init.body = input.body;
    if (input.body instanceof ReadableStream) init.duplex = 'half';
    const response = await fetch(input.url, init);
    if (input.streamResponse === true && response.ok) return { kind: 'response', response, text: '' };
    const text = await response.text();
    return { kind: 'response', response, text };
  } catch (err) {
    if (timeout?.aborted === true) {
      return {
        kind: 'final',
        error: new KilnError(
          'DEADLINE_EXCEEDED',
          `${input.method} ${input.url} took longer than ${input.timeoutMs} ms`,
          {
            url: input.url,
            timeoutMs: input.timeoutMs,
          },
        ),
      };
    }
    if (input.signal?.aborted) {
      return {
        kind: 'final',
        error: new KilnError('CANCELLED', `${input.method} ${input.url} was cancelled`, { url: input.url }),
      };
    }
    if (!isNetworkFailure(err)) {
      return {
        kind: 'final',
        error: new KilnError(
          'INVALID_PARAMETER_VALUE',
          `Cannot send ${input.method} ${input.url}: ${describeCause(err)}`,
          {
            url: input.url,
          },
        ),
      };
    }
    return {
      kind: 'network',
      error: new KilnError('TEMPORARILY_UNAVAILABLE', `Cannot reach ${input.url}: ${describeCause(err)}`, {
        url: input.url,
      }),
    };
  }
}

// fetch reports connection failures as TypeError('fetch failed') carrying the socket error as its
// cause, and a body cut off midway as TypeError('terminated'); any other throw means the request
// itself could not be built (an invalid header value, say), which no retry would fix.
function isNetworkFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.cause !== undefined || err.message === 'fetch failed' || err.message === 'terminated';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Rebuilds the KilnError a Kiln server sent (same code, message and details), or, for a peer
 * that answered without a Kiln error body (a proxy, an MLflow server), the closest code for the
 * status with whatever message it gave.
 *
 * @example
 * errorFromResponse('GET', url, 404, '{"code":"RESOURCE_DOES_NOT_EXIST","message":"…"}').code;
 * // 'RESOURCE_DOES_NOT_EXIST'
 */
export function errorFromResponse(method: string, url: string, status: number, text: string): KilnError {
  const body = parseJson(text);
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = isErrorCode(fields.code) ? fields.code : codeForStatus(status);
  const message =
    typeof fields.message === 'string' && fields.message !== ''
      ? fields.message
      : `${method} ${url} answered ${status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
  const details: Record<string, unknown> =
    typeof fields.details === 'object' && fields.details !== null ? { ...(fields.details as ErrorDetails) } : {};
  if (typeof fields.request_id === 'string') details.request_id = fields.request_id;
  details.status = status;
  return new KilnError(code, message, details);
}

/**
 * The parsed body of a successful response: JSON when it says so, text otherwise, undefined when
 * empty. A body that claims to be JSON but is not is INTERNAL_ERROR: the peer is broken.
 */
export function successBody(method: string, url: string, response: Response, text: string): unknown {
  if (text === '') return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (!/[/+]json\b/.test(type)) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new KilnError('INTERNAL_ERROR', `${method} ${url} answered ${response.status} with a body that is not JSON`, {
      url,
      status: response.status,
    });
  }
}
