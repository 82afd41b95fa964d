#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner (Node 20 expands no globs).
// Extra arguments are passed through, e.g. `npm test -- --test-name-pattern=blob`;
// arguments ending in .test.ts select files instead of running them all.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function* walk(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith('.test.ts')) yield path;
  }
}

const args = process.argv.slice(2);
const chosen = args.filter((a) => a.endsWith('.test.ts'));
const flags = args.filter((a) => !a.endsWith('.test.ts'));
const files = chosen.length > 0 ? chosen : [...walk('src'), ...walk('test')].sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...flags, ...files],
  {
    stdio: 'inherit',
    env: { KILN_CHECK_TRANSACTIONS: 'true', ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
);
process.exit(result.status ?? 1);
