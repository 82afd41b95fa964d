/**
 * A one-line description of a driver error for messages that reach operators. Node reports a
 * refused connection to a host with several addresses as an AggregateError with an empty message,
 * so the inner errors and the error code are used when the message says nothing.
 *
 * @example
 * causeText(err); // 'connect ECONNREFUSED 127.0.0.1:1'
 */
export function causeText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((inner) => causeText(inner)))].join('; ');
  }
  if (err instanceof Error) {
    const code = errorCode(err);
    if (err.message !== '') return err.message;
    return code ?? err.name;
  }
  return String(err);
}

/** The string `code` a driver error carries (`SQLITE_BUSY`, `ECONNREFUSED`, `23505`), if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
