import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from './schema.js';

/** Limits every DuckDB session of the data context runs under. */
export interface DuckLimits {
  /** DuckDB's `memory_limit`, e.g. `'1GB'`; beyond it DuckDB spills to the session's directory. */
  memoryLimit: string;
  /** Worker threads; the default is DuckDB's own (one per core). */
  threads?: number;
}

/** What a session runs under unless told otherwise: enough for 3 million rows, well below a small machine's RAM. */
export const DEFAULT_DUCK_LIMITS: DuckLimits = { memoryLimit: '768MB' };

/**
 * Sessions open at once in this process; more wait their turn. Each may use its whole memory
 * limit and every core, so running more at once would only trade speed for the risk of OOM.
 */
export const MAX_DUCK_SESSIONS = Math.max(2, availableParallelism());

let openSessions = 0;
const waiting: (() => void)[] = [];

async function acquireSession(): Promise<void> {
  if (openSessions < MAX_DUCK_SESSIONS) {
    openSessions++;
    return;
  }
  // The releasing session hands its slot over directly, so the count does not change.
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function releaseSession(): void {
  const next = waiting.shift();
  if (next === undefined) openSessions--;
  else next();
}

/**
 * One private in-memory DuckDB database with its own scratch directory, for one operation on
 * dataset versions (derive, split, validate, preview, download). Inputs are exposed as views over
 * Parquet files; {@link DuckSession.lockDown} then confines everything that follows — user SQL
 * included — to those files and the scratch directory, and freezes the configuration, so a query
 * such as `select * from read_csv('/etc/passwd')` fails with a permission error.
 *
 * @example
 * const session = await DuckSession.open();
 * try {
 *   await session.view('flights', '/cache/ab12.parquet');
 *   await session.lockDown();
 *   await session.connection.run(`copy (${sql}) to '${session.path('out.parquet')}' (format parquet)`);
 * } finally {
 *   await session.close();
 * }
 */
export class DuckSession {
  private readonly files = new Set<string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly dir: string,
  ) {}

  static async open(limits: DuckLimits = DEFAULT_DUCK_LIMITS): Promise<DuckSession> {
    await acquireSession();
    let dir: string | undefined;
    let instance: DuckDBInstance | undefined;
    try {
      dir = await mkdtemp(join(tmpdir(), 'kiln-duck-'));
      instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await connection.run(`set memory_limit = ${quoteLiteral(limits.memoryLimit)}`);
      await connection.run(`set temp_directory = ${quoteLiteral(join(dir, 'spill'))}`);
      if (limits.threads !== undefined)
        await connection.run(`set threads = ${Math.max(1, Math.floor(limits.threads))}`);
      return new DuckSession(instance, connection, dir);
    } catch (err) {
      instance?.closeSync();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      releaseSession();
      throw err;
    }
  }

  /** A path inside the session's scratch directory. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Creates view `name` over a Parquet file and allows that file once the session is locked down. */
  async view(name: string, parquetPath: string): Promise<void> {
    await this.connection.run(
      `create or replace view ${quoteIdent(name)} as select * from read_parquet(${quoteLiteral(parquetPath)})`,
    );
    this.files.add(parquetPath);
  }

  /**
   * From now on only the viewed files and the scratch directory can be read or written, no
   * extension can load, and no setting can change again.
   */
  async lockDown(): Promise<void> {
    const paths = [...this.files].map(quoteLiteral).join(', ');
    await this.connection.run(`set allowed_directories = [${quoteLiteral(`${this.dir}/`)}]`);
    await this.connection.run(`set allowed_paths = [${paths}]`);
    await this.connection.run('set enable_external_access = false');
    await this.connection.run('set autoload_known_extensions = false');
    await this.connection.run('set lock_configuration = true');
  }

  async close(): Promise<void> {
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      releaseSession();
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

/** Opens a session, runs `work` in it and always closes it. */
export async function withDuckSession<T>(
  limits: DuckLimits | undefined,
  work: (session: DuckSession) => Promise<T>,
): Promise<T> {
  const session = await DuckSession.open(limits);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}
