import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KilnError } from '../core/index.js';
import {
  checkAlias,
  checkMaxResults,
  checkModelName,
  checkRunLink,
  checkStage,
  checkTagKey,
  checkVersion,
  MAX_ALIAS_LENGTH,
  MAX_MODEL_NAME_LENGTH,
} from './rules.js';
import { checkSignature } from './signature.js';

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    const e = err as KilnError;
    return e.code === 'INVALID_PARAMETER_VALUE' && e.details?.field === field;
  });
}

describe('registry rules', () => {
  it('accepts MLflow-style model names and refuses URI-breaking ones', () => {
    for (const name of ['churn', 'Churn Model v2', 'team.churn_model-1', 'modèle', 'a:b']) {
      assert.equal(checkModelName('name', name), name);
    }
    for (const name of ['', ' churn', 'churn ', 'a/b', 'a@b', 'a#b', 'a?b', 'a%2e', 'a\\b', 'a\nb']) {
      rejects(() => checkModelName('name', name), 'name');
    }
    rejects(() => checkModelName('new_name', 'x'.repeat(MAX_MODEL_NAME_LENGTH + 1)), 'new_name');
    rejects(() => checkModelName('name', 7), 'name');
  });

  it('refuses reserved and malformed aliases as MLflow does', () => {
    for (const alias of ['champion', 'challenger', 'prod_2024', 'A-b.c', 'v1x', 'version1', '_x']) {
      assert.equal(checkAlias(alias), alias);
    }
    for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'v007', '', '-x', '.x', 'a b', 'a/b', 'a@b']) {
      rejects(() => checkAlias(alias), 'alias');
    }
    rejects(() => checkAlias('a'.repeat(MAX_ALIAS_LENGTH + 1)), 'alias');
  });

  it('reads versions from numbers and decimal strings only', () => {
    assert.equal(checkVersion(3), 3);
    assert.equal(checkVersion('12'), 12);
    for (const bad of [0, -1, 1.5, '0', '01', '1e3', ' 1', 'one', '', null, Number.NaN, 2 ** 60]) {
      rejects(() => checkVersion(bad), 'version');
    }
  });

  it('canonicalises stage spelling and refuses unknown stages', () => {
    assert.equal(checkStage('production'), 'Production');
    assert.equal(checkStage('NONE'), 'None');
    rejects(() => checkStage('Deleted_Internal'), 'stage');
  });

  it('checks tag keys like MLflow, refusing path tricks', () => {
    for (const key of ['mlflow.source.type', 'team/owner', 'a b', 'x:y']) assert.equal(checkTagKey(key), key);
    for (const key of ['', '../x', 'a//b', '/a', 'a/', 'a/./b', 'a\u0000', 'a$b'])
      rejects(() => checkTagKey(key), 'key');
  });

  it('accepts only http(s) run links without credentials', () => {
    assert.equal(checkRunLink(''), '');
    assert.equal(checkRunLink('https://ci.example.com/job/1'), 'https://ci.example.com/job/1');
    for (const link of ['javascript:alert(1)', 'data:text/html,x', 'ftp://x/y', 'https://u:p@x/', 'http:/x', 'x']) {
      rejects(() => checkRunLink(link), 'run_link');
    }
  });

  it('bounds page sizes', () => {
    assert.equal(checkMaxResults(undefined, 100, 1000), 100);
    assert.equal(checkMaxResults('250', 100, 1000), 250);
    for (const bad of [0, 1001, 2.5, '-1', 'x']) rejects(() => checkMaxResults(bad, 100, 1000), 'max_results');
  });
});

describe('checkSignature', () => {
  it('keeps a valid signature exactly', () => {
    const signature = {
      inputs: [
        { name: 'tenure', type: 'long' },
        { name: 'plan', type: 'string', optional: true },
      ],
      outputs: [{ type: 'double' }],
    };
    assert.deepEqual(checkSignature(signature), signature);
  });

  it('refuses unknown types, fields and duplicate columns', () => {
    for (const bad of [
      null,
      [],
      { inputs: 'x' },
      { inputs: [{ type: 'float64' }] },
      { inputs: [{ type: 'double', extra: 1 }] },
      { inputs: [], code: 'import os' },
      {
        inputs: [
          { name: 'a', type: 'double' },
          { name: 'a', type: 'long' },
        ],
      },
      { inputs: [{ name: '', type: 'double' }] },
      { inputs: [{ type: 'double', optional: 'yes' }] },
    ]) {
      rejects(() => checkSignature(bad), 'signature');
    }
  });
});
