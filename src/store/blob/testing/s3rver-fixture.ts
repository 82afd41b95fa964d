import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Credentials s3rver accepts; it checks signatures, so they must match. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface RunningS3rver {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/**
 * Starts a real s3rver (see s3rver-process.ts) on a free loopback port with a fresh bucket in a
 * temp directory, so S3 tests speak the real wire protocol and can run in parallel.
 *
 * @example
 * const s3 = await startS3rver();
 * const blobs = new S3BlobStore({ url: `s3://${s3.bucket}/kiln`, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
 * await s3.stop();
 */
export async function startS3rver(): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), 'kiln-s3rver-'));
  const bucket = `kiln-test-${randomBytes(6).toString('hex')}`;
  const script = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', script, directory, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited early with code ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      child.stdin.end();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
