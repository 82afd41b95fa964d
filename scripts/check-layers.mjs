#!/usr/bin/env node
// Fails when an import in src/ points against the layering in DESIGN.md:
//   core ← store ← data ← learn* ← tracking ← registry ← training ← serving ← monitoring ← pipelines ← server / cli
// (*learn imports only core). A context is reached from another only through its index.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHAIN = ['core', 'store', 'data', 'tracking', 'registry', 'training', 'serving', 'monitoring', 'pipelines'];

/** Which contexts each top-level folder of src/ may import. */
export const ALLOWED = (() => {
  const allowed = {};
  CHAIN.forEach((ctx, i) => {
    allowed[ctx] = CHAIN.slice(0, i);
  });
  for (const ctx of CHAIN.slice(CHAIN.indexOf('tracking'))) allowed[ctx].push('learn');
  allowed.learn = ['core'];
  allowed.auth = ['core', 'store'];
  allowed.sdk = ['core'];
  const domain = [...CHAIN, 'learn', 'auth'];
  allowed.compat = [...domain];
  allowed.server = [...domain, 'compat', 'sdk'];
  allowed.cli = [...domain, 'compat', 'sdk', 'server'];
  allowed['.'] = ['core', 'sdk']; // src/index.ts, the package root
  return allowed;
})();

const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (/\.tsx?$/.test(name)) yield path;
  }
}

function contextOf(srcDir, file) {
  const parts = relative(srcDir, file).split(sep);
  return parts.length === 1 ? '.' : parts[0];
}

const isTestCode = (file) => /\.test\.ts$/.test(file) || file.split(sep).includes('testing');

/**
 * A context's public doors: its index.ts, and for test code only, its testing/ folder (fixtures
 * such as fresh databases that other contexts' conformance suites reuse).
 */
function throughDoor(file, rel) {
  const parts = rel.split(sep);
  if (parts.length === 2 && /^index\.(js|ts)$/.test(parts[1] ?? '')) return true;
  return parts[1] === 'testing' && isTestCode(file);
}

/** Returns one message per violating import under `srcDir`. */
export function checkLayers(srcDir) {
  const problems = [];
  for (const file of walk(srcDir)) {
    const from = contextOf(srcDir, file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec?.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const rel = relative(srcDir, target);
      if (rel.startsWith('..')) {
        problems.push(`${relative(srcDir, file)}: imports '${spec}' from outside src/`);
        continue;
      }
      const to = contextOf(srcDir, target);
      if (to === from) continue;
      const line = text.slice(0, m.index).split('\n').length + 1;
      const where = `${relative(process.cwd(), file)}:${line}`;
      if (!(ALLOWED[from] ?? []).includes(to)) {
        problems.push(`${where}: '${from}' may not import '${to}' ('${spec}')`);
      } else if (!throughDoor(file, rel)) {
        problems.push(`${where}: reach '${to}' through its index.ts, not '${spec}'`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(process.argv[2] ?? 'src');
  const problems = checkLayers(srcDir);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`layering: ${problems.length} import(s) point against DESIGN.md's arrows`);
    process.exit(1);
  }
  console.log('layering: ok');
}
