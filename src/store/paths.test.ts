import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { canonicalKey, canonicalPrefix } from './paths.js';

const HOSTILE: ReadonlyArray<readonly [label: string, key: string]> = [
  ['parent segment', '..'],
  ['leading parent segment', '../etc/passwd'],
  ['parent segment that resolves inside', 'a/../b'],
  ['trailing parent segment', 'a/b/..'],
  ['parent segment behind ./', './../x'],
  ['absolute path', '/etc/passwd'],
  ['protocol-relative path', '//server/share'],
  ['backslash separator', 'a\\b'],
  ['backslash traversal', '..\\..\\windows'],
  ['UNC path', '\\\\server\\share\\x'],
  ['drive letter with backslash', 'C:\\Windows\\system32'],
  ['lower-case drive with slash', 'c:/windows'],
  ['bare drive letter', 'C:'],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['DEL', 'a\u007fb'],
  ['C1 control', 'a\u0085b'],
  ['encoded parent', '%2e%2e/secret'],
  ['upper-case encoded parent', '%2E%2E/secret'],
  ['half-encoded parent', '.%2e/secret'],
  ['encoded parent inside', 'a/%2e%2e/b'],
  ['encoded dot segment', 'a/%2e/b'],
  ['double-encoded parent', '%252e%252e/x'],
  ['double-encoded parent, mixed case', '%252E%252e/x'],
  ['triple-encoded parent', 'a/%25252e%25252e/x'],
  ['encoded slash', 'a%2fb'],
  ['upper-case encoded slash', 'a%2Fb'],
  ['encoded backslash', 'a%5cb'],
  ['upper-case encoded backslash', 'a%5Cb'],
  ['encoded NUL', 'a%00b'],
  ['encoded newline', 'a%0ab'],
  ['encoded DEL', 'a%7Fb'],
  ['encoded C1 control', 'a%c2%85b'],
  ['double-encoded slash', 'a%252fb'],
  ['double-encoded backslash', 'a%255Cb'],
  ['double-encoded NUL', 'a%2500b'],
  ['overlong dots', '%c0%ae%c0%ae/x'],
  ['overlong slash', 'a%c0%afetc'],
  ['upper-case overlong slash', 'a%C0%AFb'],
  ['three-byte overlong dot', '%e0%80%ae%e0%80%ae/x'],
  ['double-encoded overlong dot', '%25c0%25ae%25c0%25ae/x'],
  ['encoded drive letter', '%43%3a/windows'],
  ['fullwidth parent and slash', '．．／etc/passwd'],
  ['fullwidth parent segment', 'a/．．/b'],
  ['fullwidth slash', 'a／b'],
  ['fullwidth backslash', 'a＼b'],
  ['one dot leader pair', '\u2024\u2024/x'],
  ['two dot leader', 'a/\u2025/b'],
  ['small full stop', '\ufe52/x'],
  ['fullwidth drive letter', 'Ｃ：/x'],
  ['encoded fullwidth parent', '%ef%bc%8e%ef%bc%8e/x'],
  ['dots and a space', '.. /x'],
  ['three dots', 'a/.../b'],
  ['empty', ''],
  ['only a slash', '/'],
  ['only dots and slashes', './/./'],
  ['unpaired surrogate', 'a\ud800b'],
  ['key over 1024 bytes', 'x'.repeat(1025)],
  ['key over 1024 bytes in multibyte characters', `${'é/'.repeat(341)}éé`],
  ['segment over 255 bytes', `a/${'x'.repeat(256)}`],
  ['segment over 255 bytes in multibyte characters', 'é'.repeat(128)],
];

const BENIGN: ReadonlyArray<readonly [key: string, canonical: string]> = [
  ['a//b/./c/', 'a/b/c'],
  ['./a', 'a'],
  ['a/././b', 'a/b'],
  ['runs/abc/artifacts/model.json', 'runs/abc/artifacts/model.json'],
  ['model v1/weights.bin', 'model v1/weights.bin'],
  ['données/été.csv', 'données/été.csv'],
  ['日本語/ファイル.txt', '日本語/ファイル.txt'],
  ['emoji 🎉/x', 'emoji 🎉/x'],
  ['file..name.txt', 'file..name.txt'],
  ['a..', 'a..'],
  ['..a', '..a'],
  ['.hidden/.env', '.hidden/.env'],
  ['100%', '100%'],
  ['a%20b', 'a%20b'],
  ['file%2etxt', 'file%2etxt'],
  ['a%2e%2e', 'a%2e%2e'],
  ['report%2525.txt', 'report%2525.txt'],
  ['%zz', '%zz'],
  ['2024-01-01T00:00:00Z/metrics.json', '2024-01-01T00:00:00Z/metrics.json'],
  ['ﬁle.txt', 'ﬁle.txt'],
  ['x'.repeat(255), 'x'.repeat(255)],
  [`${'abc/'.repeat(256)}`, `${'abc/'.repeat(255)}abc`],
];

describe('canonicalKey', () => {
  assert.ok(HOSTILE.length >= 30);
  for (const [label, key] of HOSTILE) {
    it(`rejects ${label}: ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}`, () => {
      assert.throws(
        () => canonicalKey(key, 'artifact_path'),
        (error: unknown) => {
          assert.ok(error instanceof KilnError);
          assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
          assert.match(error.message, /^artifact_path: /);
          assert.equal(error.details?.field, 'artifact_path');
          return true;
        },
      );
    });
  }

  for (const [key, canonical] of BENIGN) {
    it(`accepts ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}`, () => {
      assert.equal(canonicalKey(key), canonical);
    });
  }

  it('is idempotent on its own output', () => {
    for (const [, canonical] of BENIGN) assert.equal(canonicalKey(canonical), canonical);
  });

  it("names the field 'path' by default and explains the problem", () => {
    assert.throws(() => canonicalKey('a/../b'), { code: 'INVALID_PARAMETER_VALUE', message: /^path: .*'\.\.'/ });
    assert.throws(() => canonicalKey('%2e%2e/x'), { message: /URL-decoded|dot segment/ });
  });

  it('rejects a non-string key', () => {
    assert.throws(() => canonicalKey(42 as unknown as string, 'key'), { message: /^key: must be a string/ });
  });
});

describe('canonicalPrefix', () => {
  it('keeps the empty prefix and a meaningful trailing slash', () => {
    assert.equal(canonicalPrefix(''), '');
    assert.equal(canonicalPrefix('runs//a/'), 'runs/a/');
    assert.equal(canonicalPrefix('runs/a'), 'runs/a');
  });

  it('rejects a hostile prefix naming the prefix field', () => {
    assert.throws(() => canonicalPrefix('../'), { code: 'INVALID_PARAMETER_VALUE', message: /^prefix: / });
  });
});
