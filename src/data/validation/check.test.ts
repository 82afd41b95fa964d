import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { expect, suite } from './builder.js';
import { checkSuite, foreignReferences, parseSuite } from './check.js';
import { EXPECTATION_TYPES } from './model.js';

/** Asserts `run` throws INVALID_PARAMETER_VALUE naming `field`, with a message matching `message`. */
function assertInvalid(run: () => unknown, field: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof KilnError, String(error));
    assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
    assert.equal(error.details?.field, field, error.message);
    assert.match(error.message, message);
    return true;
  });
}

/** A suite whose only expectation is `expectation`. */
const one = (expectation: Record<string, unknown>) => ({ name: 's', expectations: [expectation] });

const FLIGHTS_YAML = `name: flights-basic            # optional when the caller supplies it
description: sanity checks
expectations:
  - type: not_null
    column: origin
  - type: between
    column: delay
    min: -60
    max: 1500
    level: error
    mostly: 0.99
  - type: between
    column: date
    min: 2001-01-01
  - type: in_set
    column: origin
    values: [ATL, ORD]
    level: warn
  - type: foreign_subset
    column: origin
    dataset: airports
    foreign_column: iata
  - type: sql
    predicate: distance > 0 and origin <> destination
    description: no round trips
`;

describe('parseSuite', () => {
  it('should read the YAML document into the same suite TypeScript declares', () => {
    const parsed = parseSuite(FLIGHTS_YAML, 'yaml');
    assert.deepEqual(parsed, {
      name: 'flights-basic',
      description: 'sanity checks',
      expectations: [
        { type: 'not_null', column: 'origin' },
        { type: 'between', column: 'delay', min: -60, max: 1500, level: 'error', mostly: 0.99 },
        // YAML 1.2's core schema leaves dates as text, which is what datetime bounds are.
        { type: 'between', column: 'date', min: '2001-01-01' },
        { type: 'in_set', column: 'origin', values: ['ATL', 'ORD'], level: 'warn' },
        { type: 'foreign_subset', column: 'origin', dataset: 'airports', foreign_column: 'iata' },
        { type: 'sql', predicate: 'distance > 0 and origin <> destination', description: 'no round trips' },
      ],
    });
    const declared = suite(
      'flights-basic',
      [
        expect.notNull('origin'),
        expect.between('delay', { min: -60, max: 1500, level: 'error', mostly: 0.99 }),
        expect.between('date', { min: '2001-01-01' }),
        expect.inSet('origin', ['ATL', 'ORD'], { level: 'warn' }),
        expect.foreignSubset('origin', 'airports', { foreignColumn: 'iata' }),
        expect.sql('distance > 0 and origin <> destination', { description: 'no round trips' }),
      ],
      { description: 'sanity checks' },
    );
    assert.deepEqual(declared, parsed);
    assert.deepEqual(parseSuite(JSON.stringify(parsed), 'json'), parsed);
  });

  it('should name the line and column of a YAML syntax error', () => {
    const broken = 'name: s\nexpectations:\n  - type: not_null\n    column: [origin\n  - type: unique\n';
    assert.throws(
      () => parseSuite(broken, 'yaml'),
      (error: unknown) => {
        assert.ok(error instanceof KilnError);
        assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
        assert.match(error.message, /^suite YAML is not valid at line 5, column 3: Flow sequence/);
        assert.deepEqual(error.details, { field: 'suite', line: 5, column: 3 });
        return true;
      },
    );
    assertInvalid(() => parseSuite('name: s\nname: t\n', 'yaml'), 'suite', /line 2, column 1: Map keys must be unique/);
  });

  it('should name the line and column of a JSON syntax error where JSON.parse gives a position', () => {
    assert.throws(
      () => parseSuite('{\n  "name": "s"\n  "expectations": []\n}', 'json'),
      (error: unknown) => {
        assert.ok(error instanceof KilnError);
        assert.equal(
          error.message,
          "suite JSON is not valid at line 3, column 3: Expected ',' or '}' after property value",
        );
        assert.deepEqual(error.details, { field: 'suite', line: 3, column: 3 });
        return true;
      },
    );
    assertInvalid(
      () => parseSuite('{"expectations": [}', 'json'),
      'suite',
      /^suite JSON is not valid: Unexpected token '}'$/,
    );
  });

  it('should take the name from the caller when the document has none, and refuse a different one', () => {
    const text = 'expectations:\n  - type: unique\n    column: id\n';
    assert.equal(parseSuite(text, 'yaml', { name: 'from-url' }).name, 'from-url');
    assertInvalid(() => parseSuite(text, 'yaml'), 'name', /name: is required/);
    assertInvalid(
      () => parseSuite(`name: a\n${text}`, 'yaml', { name: 'b' }),
      'name',
      /document names suite 'a' but the request names 'b'/,
    );
  });
});

describe('checkSuite', () => {
  it('should list the valid types for an unknown one', () => {
    assertInvalid(
      () =>
        checkSuite({
          name: 's',
          expectations: [
            { type: 'not_null', column: 'a' },
            { type: 'not_nul', column: 'a' },
          ],
        }),
      'expectations[1].type',
      new RegExp(`unknown expectation type "not_nul"; valid types are ${EXPECTATION_TYPES.join(', ')}$`),
    );
    assertInvalid(
      () => checkSuite(one({ column: 'a' })),
      'expectations[0].type',
      /is required; valid types are not_null/,
    );
  });

  it('should reject unknown keys naming the allowed ones', () => {
    assertInvalid(
      () => checkSuite(one({ type: 'not_null', colum: 'origin' })),
      'expectations[0].colum',
      /unknown key 'colum' for not_null; allowed: type, column, level, mostly$/,
    );
    assertInvalid(
      () => checkSuite(one({ type: 'mean_between', column: 'x', min: 1, mostly: 0.9 })),
      'expectations[0].mostly',
      /mostly applies only to row-based expectations/,
    );
    assertInvalid(() => checkSuite({ nmae: 's', expectations: [] }), 'nmae', /unknown key 'nmae' for a suite/);
  });

  it('should name the path of each bad value', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ type: 'not_null' }, 'expectations[0].column', /is required/],
      [{ type: 'unique', column: '' }, 'expectations[0].column', /must be a non-empty string/],
      [{ type: 'not_null', column: 'a', level: 'fatal' }, 'expectations[0].level', /must be one of error, warn/],
      [{ type: 'not_null', column: 'a', mostly: 1.5 }, 'expectations[0].mostly', /must be between 0 and 1/],
      [{ type: 'between', column: 'a' }, 'expectations[0].min', /give min, max or both/],
      [{ type: 'between', column: 'a', min: 5, max: 1 }, 'expectations[0].max', /is below min \(5\)/],
      [{ type: 'between', column: 'a', min: 5, max: '2001-01-01' }, 'expectations[0].max', /both be numbers/],
      [{ type: 'between', column: 'a', max: 5, strict_min: true }, 'expectations[0].strict_min', /needs min/],
      [{ type: 'between', column: 'a', max: Number.POSITIVE_INFINITY }, 'expectations[0].max', /finite number/],
      [{ type: 'type', column: 'a', logical_type: ['integer', 'text'] }, 'expectations[0].logical_type[1]', /one of/],
      [{ type: 'in_set', column: 'a', values: [] }, 'expectations[0].values', /at least 1/],
      [{ type: 'in_set', column: 'a', values: ['x', null] }, 'expectations[0].values[1]', /use not_null/],
      [{ type: 'regex', column: 'a' }, 'expectations[0].pattern', /is required/],
      [{ type: 'string_length', column: 'a', min: -1 }, 'expectations[0].min', /non-negative integer/],
      [{ type: 'row_count_between', min: 1.5 }, 'expectations[0].min', /non-negative integer/],
      [{ type: 'column_set_equals', columns: 'a' }, 'expectations[0].columns', /must be a list/],
      [{ type: 'column_set_equals', columns: ['a', 'a'] }, 'expectations[0].columns[1]', /repeats column 'a'/],
      [{ type: 'quantile_between', column: 'a', quantile: 2, max: 1 }, 'expectations[0].quantile', /between 0 and 1/],
      [{ type: 'null_proportion_below', column: 'a' }, 'expectations[0].max', /is required/],
      [{ type: 'compound_unique', columns: ['a'] }, 'expectations[0].columns', /at least 2/],
      [{ type: 'foreign_subset', column: 'a', dataset: 'b', version: 0 }, 'expectations[0].version', /positive/],
      [{ type: 'sql', predicate: 'x > 1; drop table t' }, 'expectations[0].predicate', /';' is not allowed/],
    ];
    for (const [expectation, field, message] of cases)
      assertInvalid(() => checkSuite(one(expectation)), field, message);
  });

  it('should check the suite itself', () => {
    assertInvalid(() => checkSuite([]), 'suite', /must be a mapping/);
    assertInvalid(() => checkSuite({ name: 's', expectations: [] }), 'expectations', /at least one expectation/);
    assertInvalid(() => checkSuite({ name: '../s', expectations: [] }), 'name', /must match/);
    assertInvalid(() => suite('s', [expect.stringLength('a', {})]), 'expectations[0].min', /give min, max or both/);
  });

  it('should treat a null as an absent optional value and keep only what was said', () => {
    const checked = checkSuite(one({ type: 'between', column: 'a', min: null, max: 3, strict_max: undefined }));
    assert.deepEqual(checked.expectations[0], { type: 'between', column: 'a', max: 3 });
  });
});

describe('foreignReferences', () => {
  it('should list each referenced dataset version once', () => {
    const checked = suite('s', [
      expect.foreignSubset('origin', 'airports', { foreignColumn: 'iata' }),
      expect.foreignSubset('destination', 'airports', { foreignColumn: 'iata' }),
      expect.foreignSubset('carrier', 'carriers', { version: 3 }),
      expect.notNull('origin'),
    ]);
    assert.deepEqual(foreignReferences(checked), [{ dataset: 'airports' }, { dataset: 'carriers', version: 3 }]);
  });
});
