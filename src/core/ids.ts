import { randomBytes, randomUUID } from 'node:crypto';

/** A 32-character lower-case hex id, the shape MLflow uses for run ids. */
export function hexId(): string {
  return randomBytes(16).toString('hex');
}

/** A request id: a UUID unless the caller supplied a safe one of its own. */
export function requestId(supplied?: string): string {
  if (supplied !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(supplied)) return supplied;
  return randomUUID();
}
