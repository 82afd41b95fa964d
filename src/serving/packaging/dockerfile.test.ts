import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KILN_VERSION } from '../../core/index.js';
import { dockerfile, dockerignore, NATIVE_BUILD_PACKAGES, NODE_BASE_IMAGE } from './dockerfile.js';
import { SERVE_PATHS, SERVE_SECRET_VARIABLES, SERVE_USER } from './options.js';

const REPO = new URL('../../../', import.meta.url);

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** One build stage: its FROM and the instructions under it. */
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/**
 * A small Dockerfile reader: drops comments and blank lines, joins `\`-continued lines, splits each
 * instruction into keyword and arguments, and groups them by stage. Global ARGs (before the first
 * FROM) are kept apart so `FROM ${NODE_IMAGE}` can be resolved as Docker would.
 */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = pending === '' ? raw.trimEnd() : raw.trim();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const space = full.search(/\s/);
    instructions.push({ keyword: full.slice(0, space).toUpperCase(), args: full.slice(space + 1).trim(), line: start });
  });
  assert.equal(pending, '', 'a continuation line never ends');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/^\$\{(\w+)\}$/, (_m, arg: string) => args.get(arg) ?? `\${${arg}}`);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      assert.equal(instruction.keyword, 'ARG', `only ARG may precede FROM, got ${instruction.keyword}`);
      const [key = '', value = ''] = instruction.args.split('=');
      args.set(key, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const one = (stage: Stage, keyword: string): Instruction => {
  const found = all(stage, keyword);
  assert.equal(found.length, 1, `exactly one ${keyword} in stage ${stage.name}`);
  return found[0] as Instruction;
};
const indexOf = (stage: Stage, keyword: string) => stage.instructions.findIndex((i) => i.keyword === keyword);

describe('dockerfile', () => {
  const text = dockerfile({ deployment: 'flights', models: ['models:/flights@champion'], image: 'kiln-flights:1' });
  const { stages } = parseDockerfile(text);
  const build = stages[0] as Stage;
  const runtime = stages[1] as Stage;

  it('has a build stage running npm ci and npm run build, and a runtime stage copying dist and production node_modules from it', () => {
    assert.deepEqual(
      stages.map((s) => s.name),
      ['build', 'runtime'],
    );
    const runs = all(build, 'RUN').map((i) => i.args);
    assert.ok(
      runs.some((r) => /\bnpm ci\b/.test(r)),
      runs.join('\n'),
    );
    assert.ok(runs.some((r) => /\bnpm run build\b/.test(r)));
    const prune = runs.find((r) => /\bnpm prune\b/.test(r)) ?? '';
    assert.match(prune, /--omit=dev/, 'dev dependencies are dropped before the runtime copies node_modules');
    const copies = all(runtime, 'COPY').map((i) => i.args);
    assert.ok(copies.includes('--from=build /src/dist ./dist'), copies.join('\n'));
    assert.ok(copies.includes('--from=build /src/node_modules ./node_modules'));
    assert.ok(
      copies.includes('--from=build /src/package.json ./package.json'),
      'KILN_VERSION is read from package.json',
    );
    assert.ok(
      copies.every((c) => c.startsWith('--from=build')),
      'the runtime takes nothing from the context',
    );
    assert.equal(all(runtime, 'RUN').filter((i) => /npm (ci|install)/.test(i.args)).length, 0);
  });

  it('starts both stages from an exact Node 20 Debian slim tag, never latest, and pins a digest when given', () => {
    for (const stage of stages) {
      assert.equal(stage.from, NODE_BASE_IMAGE);
      assert.match(stage.from, /^node:20\.\d+\.\d+-(bookworm|trixie)-slim$/);
      assert.doesNotMatch(stage.from, /latest/);
    }
    const digest = `sha256:${'ab'.repeat(32)}`;
    const pinned = parseDockerfile(dockerfile({ deployment: 'flights', baseImageDigest: digest }));
    for (const stage of pinned.stages) assert.equal(stage.from, `${NODE_BASE_IMAGE}@${digest}`);
  });

  it('switches to the non-root user the runtime stage creates, after every RUN and before ENTRYPOINT and CMD', () => {
    const user = one(runtime, 'USER').args;
    assert.equal(user, `${SERVE_USER.uid}:${SERVE_USER.uid}`);
    assert.notEqual(SERVE_USER.uid, 0);
    const creates = all(runtime, 'RUN').find((i) => i.args.includes('useradd'))?.args ?? '';
    assert.match(creates, new RegExp(`--uid ${SERVE_USER.uid}\\b`));
    const userAt = indexOf(runtime, 'USER');
    const lastRun = runtime.instructions.findLastIndex((i) => i.keyword === 'RUN');
    assert.ok(lastRun < userAt, 'nothing runs as root after USER');
    assert.ok(userAt < indexOf(runtime, 'ENTRYPOINT'));
    assert.ok(userAt < indexOf(runtime, 'CMD'));
  });

  it('exposes the serve port and runs kiln serve for the deployment on it', () => {
    assert.equal(one(runtime, 'EXPOSE').args, '8080');
    assert.deepEqual(JSON.parse(one(runtime, 'ENTRYPOINT').args), ['node', '/app/dist/cli/main.js']);
    assert.deepEqual(JSON.parse(one(runtime, 'CMD').args), ['serve', 'flights', '--port', '8080']);

    const model = parseDockerfile(dockerfile({ model: 'models:/flights/3', port: 9000 })).stages[1] as Stage;
    assert.equal(one(model, 'EXPOSE').args, '9000');
    assert.deepEqual(JSON.parse(one(model, 'CMD').args), ['serve', 'models:/flights/3', '--port', '9000']);
    assert.match(one(model, 'HEALTHCHECK').args, /127\.0\.0\.1:9000\/v2\/health\/ready/);
  });

  it('runs the entrypoint the build produces: src/cli/main.ts compiles to dist/cli/main.js', () => {
    assert.ok(existsSync(new URL('src/cli/main.ts', REPO)));
    const buildConfig = JSON.parse(readFileSync(new URL('tsconfig.build.json', REPO), 'utf8'));
    assert.equal(buildConfig.compilerOptions.rootDir, 'src');
    assert.equal(buildConfig.compilerOptions.outDir, 'dist');
  });

  it('never bakes the database or artifact URLs into the image', () => {
    for (const stage of stages) {
      for (const instruction of stage.instructions.filter((i) => ['ENV', 'ARG'].includes(i.keyword))) {
        for (const variable of SERVE_SECRET_VARIABLES) assert.doesNotMatch(instruction.args, new RegExp(variable));
      }
    }
    const env = one(runtime, 'ENV').args;
    assert.match(env, /KILN_HOST=0\.0\.0\.0/, 'listens beyond the container loopback');
  });

  it('carries OCI image labels', () => {
    const labels = new Map(
      all(runtime, 'LABEL').map((i) => {
        const eq = i.args.indexOf('=');
        return [i.args.slice(0, eq), JSON.parse(i.args.slice(eq + 1)) as string];
      }),
    );
    assert.equal(labels.get('org.opencontainers.image.title'), 'flights');
    assert.equal(labels.get('org.opencontainers.image.version'), KILN_VERSION);
    assert.equal(labels.get('org.opencontainers.image.base.name'), NODE_BASE_IMAGE);
    assert.match(labels.get('org.opencontainers.image.description') ?? '', /flights/);
    assert.equal(labels.get('kiln.models'), 'models:/flights@champion');
  });

  it('installs with scripts off except for the packages package.json allows', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', REPO), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    const allowed = Object.entries(pkg.allowScripts)
      .filter(([, on]) => on)
      .map(([name]) => name)
      .sort();
    assert.deepEqual([...NATIVE_BUILD_PACKAGES].sort(), allowed);
    const install = all(build, 'RUN').find((i) => /npm ci/.test(i.args))?.args ?? '';
    assert.match(install, /npm ci --ignore-scripts/);
    assert.match(install, new RegExp(`npm rebuild ${NATIVE_BUILD_PACKAGES.join(' ')}`));
  });

  it('ignores everything in the context but what the build stage copies from it', () => {
    const patterns = dockerignore()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(patterns[0], '*', 'an allow-list: .kiln/, .env, .git and node_modules stay out');
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
    const copied = all(build, 'COPY')
      .filter((i) => !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    assert.deepEqual([...allowed].sort(), [...copied].sort());
  });

  describe('HEALTHCHECK', () => {
    let server: Server;
    let status = 200;
    let port = 0;
    const seen: string[] = [];
    before(async () => {
      server = createServer((request, response) => {
        seen.push(request.url ?? '');
        response.writeHead(request.url === SERVE_PATHS.ready ? status : 404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    /** The HEALTHCHECK's exec-form command run as Docker would, for a Dockerfile serving on `port`. */
    async function runHealthcheck(onPort: number): Promise<number | null> {
      const runtimeStage = parseDockerfile(dockerfile({ deployment: 'flights', port: onPort })).stages[1] as Stage;
      const check = one(runtimeStage, 'HEALTHCHECK').args;
      assert.match(check, /--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD /);
      const [command, ...args] = JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
      assert.equal(command, 'node', 'slim images have no curl; node is always there');
      // Asynchronously: the readiness server answers from this process's event loop.
      const child = spawn(process.execPath, args, { stdio: 'ignore', timeout: 10_000 });
      return new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    }

    it('passes when readiness answers 200 and fails on 503 or when nothing listens', async () => {
      status = 200;
      assert.equal(await runHealthcheck(port), 0);
      assert.equal(seen.at(-1), SERVE_PATHS.ready);
      status = 503;
      assert.equal(await runHealthcheck(port), 1);
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const freePort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      assert.equal(await runHealthcheck(freePort), 1);
    });
  });

  it('passes hadolint when it is installed', async (t) => {
    const probe = spawnSync('hadolint', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      t.skip('hadolint is not installed');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'kiln-hadolint-'));
    try {
      const file = join(dir, 'Dockerfile');
      await writeFile(file, text);
      // DL3008 (pin apt versions) does not apply: the image installs no apt packages.
      const lint = spawnSync('hadolint', ['--failure-threshold', 'warning', file], { encoding: 'utf8' });
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
