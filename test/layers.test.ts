import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
// @ts-expect-error the layering check is a plain .mjs script without type declarations
import { checkLayers } from '../scripts/check-layers.mjs';

const check = checkLayers as (srcDir: string) => string[];

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kiln-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  roots.push(root);
  return root;
}
const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('layering check', () => {
  it('passes on the real source tree', () => {
    assert.deepEqual(check('src'), []);
  });

  it('accepts imports along the arrows through index.ts', () => {
    const root = tree({
      'core/index.ts': 'export const a = 1;',
      'store/index.ts': "export { a } from '../core/index.js';",
      'tracking/service.ts': "import { a } from '../store/index.js';\nimport type { b } from './x.js';",
    });
    assert.deepEqual(check(root), []);
  });

  it('rejects learn importing store', () => {
    const root = tree({ 'learn/gbdt.ts': "import { openDatabase } from '../store/index.js';" });
    const problems = check(root);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /'learn' may not import 'store'/);
  });

  it('rejects a context importing server, and core importing anything', () => {
    const root = tree({
      'tracking/routes.ts': "import { buildApp } from '../server/index.js';",
      'core/config.ts': "export * from '../store/index.js';",
    });
    const problems = check(root).join('\n');
    assert.match(problems, /'tracking' may not import 'server'/);
    assert.match(problems, /'core' may not import 'store'/);
  });

  it('rejects reaching past another context index.ts', () => {
    const root = tree({ 'data/ingest.ts': "import { FileBlobStore } from '../store/blob/file.js';" });
    assert.match(check(root).join('\n'), /reach 'store' through its index.ts/);
  });

  it('sees dynamic imports and re-exports', () => {
    const root = tree({
      'sdk/client.ts': "const m = await import('../store/index.js');",
      'store/x.ts': "export { run } from '../tracking/index.js';",
    });
    const problems = check(root).join('\n');
    assert.match(problems, /'sdk' may not import 'store'/);
    assert.match(problems, /'store' may not import 'tracking'/);
  });
});

describe('testing fixtures', () => {
  it('may be imported by test code of a later context, but not by production code', () => {
    const root = tree({
      'auth/store.test.ts': "import { testDatabases } from '../store/testing/databases.js';",
      'auth/service.ts': "import { testDatabases } from '../store/testing/databases.js';",
    });
    const problems = check(root);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /auth\/service\.ts.*through its index\.ts/);
  });
});
