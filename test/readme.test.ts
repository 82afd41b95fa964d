import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configMarkdownTable } from '../src/core/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('carries the configuration table generated from the registry (regenerate: npm run kiln -- config --markdown)', () => {
    const m = /<!-- config:start -->\n([\s\S]*?)\n<!-- config:end -->/.exec(readme);
    assert.ok(m, 'README.md needs <!-- config:start --> … <!-- config:end --> markers');
    assert.equal(m[1], configMarkdownTable());
  });

  it('has a two-command Quick start', () => {
    const m = /## Quick start\n([\s\S]*?)\n## /.exec(readme);
    assert.ok(m, 'README.md needs a "## Quick start" section');
    const block = /```(?:sh|bash)\n([\s\S]*?)```/.exec(m[1] ?? '');
    const commands = (block?.[1] ?? '').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    assert.deepEqual(commands, ['npm install && npm start', 'npm test']);
  });
});
