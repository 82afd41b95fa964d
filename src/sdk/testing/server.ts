import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The CLI entry point, run from source; the SDK reaches the server only over HTTP. */
const CLI_MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

/** A real `kiln server` in a child process, on a free port and a fresh temp KILN_HOME. */
export interface ChildServer {
  url: string;
  home: string;
  /** Sends SIGTERM, waits for the exit and deletes the temp home. */
  stop(): Promise<void>;
}

/**
 * Starts `kiln server --port 0` as a child process and resolves once it prints its URL. SDK and
 * CLI tests use it to talk to the real server without importing server code (the SDK may import
 * only core), and so that a test spawning the CLI synchronously cannot block the server.
 *
 * @example
 * const server = await startChildServer();
 * after(() => server.stop());
 * const kiln = new KilnClient({ baseUrl: server.url });
 */
export async function startChildServer(): Promise<ChildServer> {
  const home = await mkdtemp(join(tmpdir(), 'kiln-sdk-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('KILN_')) env[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'server', '--port', '0'], {
    env: { ...env, KILN_HOME: home, KILN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      const match = /listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
      else reject(new Error(`unexpected first line '${line}'; stderr: ${stderr}`));
    });
    child.once('exit', (code) => reject(new Error(`kiln server exited with ${code}; stderr: ${stderr}`)));
  });
  return {
    url,
    home,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  };
}
