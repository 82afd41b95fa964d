import { isAbsolute, join, resolve } from 'node:path';
import { KilnError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './logging.js';

/**
 * The single registry of Kiln's environment variables. Each is declared once, here, with its type,
 * default and a one-line doc; `kiln config` prints the resolved values and the README's
 * configuration table is generated from this list (a test fails if the two drift apart).
 *
 * @example
 * const config = loadConfig(process.env); // throws INVALID_CONFIGURATION naming the variable
 * config.databaseUrl; // 'sqlite:///home/me/project/.kiln/kiln.db'
 */
export interface KilnConfig {
  home: string;
  databaseUrl: string;
  databasePoolSize: number;
  artifactsUrl: string;
  s3Endpoint: string | undefined;
  s3Region: string;
  queueUrl: string;
  queuePrefix: string;
  workerConcurrency: number;
  trainingConcurrency: number;
  host: string;
  port: number;
  logLevel: LogLevel;
  bodyLimit: number;
  uploadLimit: number;
  duckdbMemoryLimit: string;
  shutdownTimeoutMs: number;
  checkTransactions: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** One environment variable: how it is named, parsed, defaulted and documented. */
export interface ConfigVar<K extends keyof KilnConfig = keyof KilnConfig> {
  readonly key: K;
  readonly env: string;
  /** Human-readable type, shown in the README table and `kiln config`. */
  readonly type: string;
  /** The default as documented (may mention other variables). */
  readonly defaultText: string;
  readonly doc: string;
  /** True when the value may carry a credential; printed masked. */
  readonly secret?: boolean;
  /** Parse `raw` (already trimmed, undefined when unset or empty); `resolved` holds earlier vars. */
  parse(raw: string | undefined, resolved: Partial<KilnConfig>): KilnConfig[K];
}

function defineVar<K extends keyof KilnConfig>(spec: ConfigVar<K>): ConfigVar<K> {
  return spec;
}

function integer(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw)) throw new Error(`expected an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}, got ${n}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses `1048576`, `512kb`, `16mb`, `1gb` (binary units). */
export function parseByteSize(raw: string): number {
  const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(raw);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new Error(`expected a size such as 1048576, 512kb or 16mb, got '${raw}'`);
  return Number(m[1]) * unit;
}

/** Parses `true`/`false`/`1`/`0`/`yes`/`no`, case-insensitively; anything else is an error. */
function parseBoolean(raw: string): boolean {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new Error(`expected true or false, got '${raw}'`);
}

function homePath(resolved: Partial<KilnConfig>): string {
  if (resolved.home === undefined) throw new Error('KILN_HOME must be resolved first');
  return resolved.home;
}

/** Accepted database URL forms: `sqlite:<path>`, `sqlite://<abs path>`, `postgres(ql)://…`. */
function parseDatabaseUrl(raw: string): string {
  if (/^postgres(ql)?:\/\//.test(raw)) {
    new URL(raw); // throws on a malformed URL
    return raw;
  }
  if (raw.startsWith('sqlite:')) {
    const path = raw.replace(/^sqlite:(\/\/)?/, '');
    if (path === '') throw new Error("sqlite URL needs a file path, e.g. 'sqlite:./kiln.db'");
    return `sqlite://${path === ':memory:' ? path : resolve(path)}`;
  }
  throw new Error(`expected sqlite:<path> or postgres://…, got '${raw}'`);
}

/** Accepted artifact URL forms: `file://<abs path>`, a plain path, `s3://bucket/prefix`. */
function parseArtifactsUrl(raw: string): string {
  if (raw.startsWith('s3://')) {
    const u = new URL(raw);
    if (u.hostname === '') throw new Error("s3 URL needs a bucket, e.g. 's3://my-bucket/kiln'");
    return raw.replace(/\/+$/, '');
  }
  if (raw.startsWith('file://')) return `file://${new URL(raw).pathname}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new Error(`expected file://, s3:// or a path, got '${raw}'`);
  return `file://${resolve(raw)}`;
}

function parseQueueUrl(raw: string): string {
  if (raw === 'local' || raw === 'memory') return 'local';
  if (/^rediss?:\/\//.test(raw)) {
    new URL(raw);
    return raw;
  }
  throw new Error(`expected 'local' or redis://host:port, got '${raw}'`);
}

/** Every variable Kiln reads, in resolution order (later ones may default from earlier ones). */
export const CONFIG_VARS = [
  defineVar({
    key: 'home',
    env: 'KILN_HOME',
    type: 'path',
    defaultText: './.kiln',
    doc: 'Directory for the embedded database, artifacts and local state.',
    parse: (raw) => resolve(raw ?? '.kiln'),
  }),
  defineVar({
    key: 'databaseUrl',
    env: 'KILN_DATABASE_URL',
    type: 'url',
    defaultText: 'sqlite:$KILN_HOME/kiln.db',
    doc: 'Metadata database: `sqlite:<path>` or `postgres://user:pass@host:5432/db`.',
    secret: true,
    parse: (raw, r) => parseDatabaseUrl(raw ?? `sqlite:${join(homePath(r), 'kiln.db')}`),
  }),
  defineVar({
    key: 'databasePoolSize',
    env: 'KILN_DATABASE_POOL_SIZE',
    type: 'integer',
    defaultText: '10',
    doc: 'Maximum PostgreSQL connections per process (SQLite uses one connection).',
    parse: (raw) => (raw === undefined ? 10 : integer(raw, 1, 1000)),
  }),
  defineVar({
    key: 'artifactsUrl',
    env: 'KILN_ARTIFACTS_URL',
    type: 'url',
    defaultText: 'file://$KILN_HOME/artifacts',
    doc: 'Blob store for artifacts and datasets: a path, `file://<path>` or `s3://bucket/prefix`.',
    parse: (raw, r) => parseArtifactsUrl(raw ?? join(homePath(r), 'artifacts')),
  }),
  defineVar({
    key: 's3Endpoint',
    env: 'KILN_S3_ENDPOINT',
    type: 'url',
    defaultText: '(AWS)',
    doc: 'Endpoint of an S3-compatible server (MinIO, Ceph…); path-style addressing is used when set.',
    parse: (raw) => {
      if (raw === undefined) return undefined;
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`expected http(s)://…, got '${raw}'`);
      return raw.replace(/\/+$/, '');
    },
  }),
  defineVar({
    key: 's3Region',
    env: 'KILN_S3_REGION',
    type: 'string',
    defaultText: 'us-east-1',
    doc: 'Region for S3 requests. Credentials come from the standard AWS variables or profile.',
    parse: (raw) => raw ?? 'us-east-1',
  }),
  defineVar({
    key: 'queueUrl',
    env: 'KILN_QUEUE_URL',
    type: 'url',
    defaultText: 'local',
    doc: 'Background jobs: `local` (durable, in-process, stored in the metadata database) or `redis://host:6379`.',
    secret: true,
    parse: (raw) => parseQueueUrl(raw ?? 'local'),
  }),
  defineVar({
    key: 'queuePrefix',
    env: 'KILN_QUEUE_PREFIX',
    type: 'string',
    defaultText: 'kiln',
    doc: 'Redis key namespace of the BullMQ queues, so several Kiln installs can share one Redis.',
    parse: (raw) => {
      const prefix = raw ?? 'kiln';
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(prefix))
        throw new Error(`expected 1-100 characters of [A-Za-z0-9._-], got '${prefix}'`);
      return prefix;
    },
  }),
  defineVar({
    key: 'workerConcurrency',
    env: 'KILN_WORKER_CONCURRENCY',
    type: 'integer',
    defaultText: '2',
    doc: 'Jobs one process runs at once.',
    parse: (raw) => (raw === undefined ? 2 : integer(raw, 1, 256)),
  }),
  defineVar({
    key: 'trainingConcurrency',
    env: 'KILN_TRAINING_CONCURRENCY',
    type: 'integer',
    defaultText: '1',
    doc: 'Training jobs (and tuning trials) one process fits at once, each in a worker thread; `kiln server` runs them in-process with the local queue, `kiln worker` anywhere.',
    parse: (raw) => (raw === undefined ? 1 : integer(raw, 1, 64)),
  }),
  defineVar({
    key: 'host',
    env: 'KILN_HOST',
    type: 'string',
    defaultText: '127.0.0.1',
    doc: 'Interface the server listens on; `0.0.0.0` to accept remote connections.',
    parse: (raw) => {
      const host = raw ?? '127.0.0.1';
      if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) throw new Error(`expected a host name or IP address, got '${host}'`);
      return host;
    },
  }),
  defineVar({
    key: 'port',
    env: 'KILN_PORT',
    type: 'integer',
    defaultText: '5000',
    doc: 'TCP port the server listens on (0 picks a free one).',
    parse: (raw) => (raw === undefined ? 5000 : integer(raw, 0, 65535)),
  }),
  defineVar({
    key: 'logLevel',
    env: 'KILN_LOG_LEVEL',
    type: LOG_LEVELS.join(' \\| '),
    defaultText: 'info',
    doc: 'Minimum level of the JSON log lines written to stderr.',
    parse: (raw) => {
      const level = (raw ?? 'info').toLowerCase();
      if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        throw new Error(`expected one of ${LOG_LEVELS.join(', ')}, got '${raw}'`);
      }
      return level as LogLevel;
    },
  }),
  defineVar({
    key: 'bodyLimit',
    env: 'KILN_BODY_LIMIT',
    type: 'size',
    defaultText: '16mb',
    doc: 'Largest request body the API accepts; larger ones get 413.',
    parse: (raw) => parseByteSize(raw ?? '16mb'),
  }),
  defineVar({
    key: 'uploadLimit',
    env: 'KILN_UPLOAD_LIMIT',
    type: 'size',
    defaultText: '20gb',
    doc: 'Largest dataset file an upload may stream to the server; larger ones get 413.',
    parse: (raw) => parseByteSize(raw ?? '20gb'),
  }),
  defineVar({
    key: 'duckdbMemoryLimit',
    env: 'KILN_DUCKDB_MEMORY_LIMIT',
    type: 'size',
    defaultText: '768mb',
    doc: 'Memory each DuckDB session (ingest, derive, validate, preview) may use before spilling to temporary files.',
    parse: (raw) => `${Math.max(1, Math.floor(parseByteSize(raw ?? '768mb') / 1024 / 1024))}MB`,
  }),
  defineVar({
    key: 'shutdownTimeoutMs',
    env: 'KILN_SHUTDOWN_TIMEOUT_MS',
    type: 'integer',
    defaultText: '10000',
    doc: 'How long a graceful shutdown waits for in-flight requests and jobs before closing anyway.',
    parse: (raw) => (raw === undefined ? 10_000 : integer(raw, 0, 3_600_000)),
  }),
  defineVar({
    key: 'checkTransactions',
    env: 'KILN_CHECK_TRANSACTIONS',
    type: 'boolean',
    defaultText: 'false',
    doc: 'Fail fast when code queries the database handle inside a transaction callback (development and tests; costs CPU per request).',
    parse: (raw) => parseBoolean(raw ?? 'false'),
  }),
] as const satisfies readonly ConfigVar[];

/**
 * Resolves every variable from `env`. Throws `INVALID_CONFIGURATION` naming the first bad
 * variable and what was wrong with it; never falls back silently.
 */
export function loadConfig(env: Env = process.env): KilnConfig {
  const resolved: Partial<KilnConfig> = {};
  for (const v of CONFIG_VARS as readonly ConfigVar[]) {
    const raw = env[v.env]?.trim();
    try {
      (resolved as Record<string, unknown>)[v.key] = v.parse(raw === '' ? undefined : raw, resolved);
    } catch (err) {
      const problem = err instanceof Error ? err.message : String(err);
      throw new KilnError('INVALID_CONFIGURATION', `${v.env}: ${problem}`, { variable: v.env });
    }
  }
  return resolved as KilnConfig;
}

/** Replaces the password (and any user info) of a URL-valued secret with `***`. */
export function maskSecret(value: string): string {
  try {
    const u = new URL(value);
    if (u.password === '' && u.username === '') return value;
    if (u.password !== '') u.password = '***';
    else u.username = '***';
    return u.toString();
  } catch {
    return value;
  }
}

/** One printable row per variable, secrets masked: what `kiln config` shows. */
export interface ResolvedVar {
  env: string;
  value: string;
  source: 'environment' | 'default';
  doc: string;
}

export function describeConfig(config: KilnConfig, env: Env = process.env): ResolvedVar[] {
  return (CONFIG_VARS as readonly ConfigVar[]).map((v) => {
    const value = config[v.key];
    const text = value === undefined ? '' : String(value);
    const raw = env[v.env]?.trim();
    return {
      env: v.env,
      value: v.secret ? maskSecret(text) : text,
      source: raw ? 'environment' : 'default',
      doc: v.doc,
    };
  });
}

/** The README's configuration table, generated from {@link CONFIG_VARS}. */
export function configMarkdownTable(): string {
  const rows = (CONFIG_VARS as readonly ConfigVar[]).map(
    (v) => `| \`${v.env}\` | ${v.type} | \`${v.defaultText}\` | ${v.doc} |`,
  );
  return ['| variable | type | default | what it sets |', '|---|---|---|---|', ...rows].join('\n');
}

/** Absolute file-system path of a `file://` artifacts URL. */
export function fileUrlPath(url: string): string {
  const path = new URL(url).pathname;
  if (!isAbsolute(path)) throw new KilnError('INVALID_CONFIGURATION', `not an absolute file URL: ${url}`);
  return decodeURIComponent(path);
}
