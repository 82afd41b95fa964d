import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { type Comparison, MAX_COMPARISONS, MAX_FILTER_LENGTH, parseFilter } from './parser.js';

type Short = [Comparison['entity'], string, Comparison['op'], Comparison['value']];

function short(filter: string): Short[] {
  return parseFilter(filter).map((c) => [c.entity, c.key, c.op, c.value]);
}

const VALID: ReadonlyArray<[string, Short[]]> = [
  ['', []],
  [' \n\t  ', []],
  ['metrics.acc > 0.9', [['metric', 'acc', '>', 0.9]]],
  ['metric.acc >= 1', [['metric', 'acc', '>=', 1]]],
  ['metrics.loss < -0.5', [['metric', 'loss', '<', -0.5]]],
  ['metrics.loss <= 1e-3', [['metric', 'loss', '<=', 0.001]]],
  ['metrics.loss = 1.5E+2', [['metric', 'loss', '=', 150]]],
  ['metrics.loss != .5', [['metric', 'loss', '!=', 0.5]]],
  ['metrics.loss > -.25', [['metric', 'loss', '>', -0.25]]],
  ['metrics.loss > +3', [['metric', 'loss', '>', 3]]],
  ['metrics.loss > 10.', [['metric', 'loss', '>', 10]]],
  ['metrics.loss = 0', [['metric', 'loss', '=', 0]]],
  ["params.model = 'lr'", [['param', 'model', '=', 'lr']]],
  ['param.model = "lr"', [['param', 'model', '=', 'lr']]],
  ["parameters.model != 'lr'", [['param', 'model', '!=', 'lr']]],
  ["parameter.model LIKE 'l%'", [['param', 'model', 'LIKE', 'l%']]],
  ["params.model ILIKE '%LR%'", [['param', 'model', 'ILIKE', '%LR%']]],
  ["tags.team = 'vision'", [['tag', 'team', '=', 'vision']]],
  ["tag.team like 'v%'", [['tag', 'team', 'LIKE', 'v%']]],
  ["tags.team iLiKe 'V%'", [['tag', 'team', 'ILIKE', 'V%']]],
  ["tags.mlflow.runName = 'x'", [['tag', 'mlflow.runName', '=', 'x']]],
  ["attributes.status = 'FINISHED'", [['attribute', 'status', '=', 'FINISHED']]],
  ["attribute.status != 'FAILED'", [['attribute', 'status', '!=', 'FAILED']]],
  ["attr.user_id = 'alice'", [['attribute', 'user_id', '=', 'alice']]],
  ["run.run_name = 'r'", [['attribute', 'run_name', '=', 'r']]],
  ["status = 'RUNNING'", [['attribute', 'status', '=', 'RUNNING']]],
  ["`Run name` = 'r'", [['attribute', 'Run name', '=', 'r']]],
  ['"run name" = \'r\'', [['attribute', 'run name', '=', 'r']]],
  ["attributes.run_id IN ('a', 'b')", [['attribute', 'run_id', 'IN', ['a', 'b']]]],
  ["run_id not in ('a')", [['attribute', 'run_id', 'NOT IN', ['a']]]],
  ["run_id NOT  IN('a','b' , \"c\")", [['attribute', 'run_id', 'NOT IN', ['a', 'b', 'c']]]],
  ["datasets.name = 'iris'", [['dataset', 'name', '=', 'iris']]],
  ['dataset.digest IN (\'abc\', "def")', [['dataset', 'digest', 'IN', ['abc', 'def']]]],
  ["datasets.context NOT IN ('train')", [['dataset', 'context', 'NOT IN', ['train']]]],
  ['`metrics`.acc > 1', [['metric', 'acc', '>', 1]]],
  ['"tags".x = \'y\'', [['tag', 'x', '=', 'y']]],
  ['METRICS.acc > 1', [['metric', 'acc', '>', 1]]],
  ['`Params`.x = "1"', [['param', 'x', '=', '1']]],
  ['metrics."error rate" > 0.1', [['metric', 'error rate', '>', 0.1]]],
  ["tags.`user-name` = 'bob'", [['tag', 'user-name', '=', 'bob']]],
  ['params."1st" = \'a\'', [['param', '1st', '=', 'a']]],
  ['metrics.`a.b` > 1', [['metric', 'a.b', '>', 1]]],
  ["params.x = 'it''s'", [['param', 'x', '=', "it's"]]],
  ['params.x = "say ""hi"""', [['param', 'x', '=', 'say "hi"']]],
  ["params.x = ''", [['param', 'x', '=', '']]],
  ["params.x = 'a\\b'", [['param', 'x', '=', 'a\\b']]],
  ['tags."a""b" = \'x\'', [['tag', 'a"b', '=', 'x']]],
  ['tags.`a``b` = "x"', [['tag', 'a`b', '=', 'x']]],
  ["tags.x LIKE '50\\%'", [['tag', 'x', 'LIKE', '50\\%']]],
  ['metrics.in > 1', [['metric', 'in', '>', 1]]],
  ["params.x = 'AND'", [['param', 'x', '=', 'AND']]],
  ["params.x = 'OR 1=1; drop table runs; --'", [['param', 'x', '=', 'OR 1=1; drop table runs; --']]],
  ["params.x = 'ünïcødé ✓'", [['param', 'x', '=', 'ünïcødé ✓']]],
  ['start_time >= 1700000000000', [['attribute', 'start_time', '>=', 1_700_000_000_000]]],
  ['created > 0', [['attribute', 'created', '>', 0]]],
  ['metrics.acc>0.9', [['metric', 'acc', '>', 0.9]]],
  ['metrics.précision_2 > 1', [['metric', 'précision_2', '>', 1]]],
  [
    "metrics.acc > 0.9 AND params.model = 'lr' and tags.team LIKE '%vision%'",
    [
      ['metric', 'acc', '>', 0.9],
      ['param', 'model', '=', 'lr'],
      ['tag', 'team', 'LIKE', '%vision%'],
    ],
  ],
  [
    'metrics.a > 1\nAND\tmetrics.b < 2',
    [
      ['metric', 'a', '>', 1],
      ['metric', 'b', '<', 2],
    ],
  ],
];

const INVALID: ReadonlyArray<[string, string, number]> = [
  ["metrics.acc > 0.9 OR params.a = 'b'", "unexpected token 'OR' at column 19: only AND may join comparisons", 19],
  ['NOT metrics.acc > 1', "unexpected keyword 'NOT' at column 1: NOT is only supported as NOT IN", 1],
  ['(metrics.acc > 1)', "unexpected '(' at column 1: parentheses cannot group conditions", 1],
  ["metrics.acc > 1 AND (params.a = 'b')", "unexpected '('", 21],
  ['metrics.acc > 1 extra', "unexpected token 'extra' at column 17: expected AND or the end", 17],
  ['metrics.acc > 1 metrics.b > 2', "unexpected token 'metrics'", 17],
  ["params.a = 'abc", 'unterminated string at column 12', 12],
  ["tags.`abc = 'x'", 'unterminated backtick name at column 6', 6],
  ['metrics.acc > 1 AND', 'expected a comparison after AND at the end (column 20)', 20],
  ['metrics.acc > 1 AND AND metrics.b > 2', "unexpected keyword 'AND'", 21],
  ['AND metrics.acc > 1', "unexpected keyword 'AND'", 1],
  ["params.x = 'a' AND OR", "unexpected keyword 'OR'", 20],
  ['metrics.acc == 1', "unsupported operator '==' at column 13: use '='", 13],
  ['metrics.acc <> 1', "unsupported operator '<>' at column 13: use '!='", 13],
  ["metrics.acc > 1 && params.a = 'b'", "unsupported operator '&&'", 17],
  ["metrics.acc > 1 || params.a = 'b'", "unsupported operator '||' at column 17: only AND may join", 17],
  ['metrics.acc ! 1', "unsupported operator '!'", 13],
  ['metrics.acc > 1;', "unexpected character ';' at column 16", 16],
  ['metrics.acc > - 1', "unexpected character '-'", 15],
  ["foo.bar = 'x'", "unknown entity 'foo' at column 1", 1],
  ['metrics.2nd > 1', 'key \'2nd\' starts with a digit at column 9: quote it: metrics."2nd"', 9],
  ["metrics.'acc' > 1", "single-quoted key 'acc' at column 9", 9],
  ['metrics. > 1', "expected a key after 'metrics.', got '>'", 10],
  ['metrics."" > 1', 'empty key at column 9', 9],
  ["tags.a. = 'x'", "unexpected '=' inside key 'a.'", 9],
  ["'acc' > 1", "expected an identifier, got ''acc'' at column 1", 1],
  ['metrics.acc 1', "expected an operator after metrics.acc, got '1' at column 13", 13],
  ["metrics.acc NOT LIKE 'a'", "expected IN after NOT, got 'LIKE' at column 17", 17],
  ['status = FINISHED', "expected a quoted string or a number, got 'FINISHED' at column 10", 10],
  ['metrics.acc > 1e5x', "malformed number '1e5x' at column 15", 15],
  ['metrics.acc > 1.2.3', "malformed number '1.2.3' at column 15", 15],
  ['metrics.acc > 1e999', "number '1e999' is out of range at column 15", 15],
  ["run_id IN 'a'", "IN needs a parenthesised list, got ''a'' at column 11", 11],
  ['metrics.acc IN', 'IN needs a parenthesised list, got the end of the input at the end (column 15)', 15],
  ['run_id IN ()', 'empty list at column 11', 11],
  ["run_id IN ('a', 1)", 'expected a quoted string in the list, got the number 1 at column 17', 17],
  ["run_id IN ('a' 'b')", "expected ',' or ')' in the list, got ''b'' at column 16", 16],
  ["run_id IN ('a',)", "expected a quoted string in the list, got ')' at column 16", 16],
  ["run_id IN ('a'", "expected ',' or ')' in the list, got the end of the input", 15],
  ["status = ('a')", "unexpected '(' at column 10: a parenthesised list may only follow IN or NOT IN", 10],
  ['metrics.acc >', 'expected a value, got the end of the input at the end (column 14)', 14],
  ['params.a = `b`', 'expected a value, got the name `b` at column 12', 12],
  ["params.x = 'a\u0000'", 'NUL character at column 14', 14],
];

describe('parseFilter: valid filters', () => {
  for (const [filter, expected] of VALID) {
    it(JSON.stringify(filter), () => {
      assert.deepEqual(short(filter), expected);
    });
  }

  it('records the column of identifier, operator and value', () => {
    assert.deepEqual(parseFilter("metrics.acc > 0.9 AND  params.model = 'lr'"), [
      { entity: 'metric', key: 'acc', op: '>', value: 0.9, position: 1, operatorPosition: 13, valuePosition: 15 },
      { entity: 'param', key: 'model', op: '=', value: 'lr', position: 24, operatorPosition: 37, valuePosition: 39 },
    ]);
    assert.deepEqual(parseFilter("  run_id NOT IN ('a')"), [
      {
        entity: 'attribute',
        key: 'run_id',
        op: 'NOT IN',
        value: ['a'],
        position: 3,
        operatorPosition: 10,
        valuePosition: 17,
      },
    ]);
  });

  it(`accepts exactly ${MAX_COMPARISONS} comparisons`, () => {
    const filter = Array.from({ length: MAX_COMPARISONS }, (_, i) => `metrics.m${i} > ${i}`).join(' AND ');
    const parsed = parseFilter(filter);
    assert.equal(parsed.length, MAX_COMPARISONS);
    assert.deepEqual(parsed.at(-1)?.value, MAX_COMPARISONS - 1);
  });

  it(`accepts a filter of exactly ${MAX_FILTER_LENGTH} characters`, () => {
    const prefix = "params.x = '";
    const filter = `${prefix}${'a'.repeat(MAX_FILTER_LENGTH - prefix.length - 1)}'`;
    assert.equal(filter.length, MAX_FILTER_LENGTH);
    assert.equal(parseFilter(filter).length, 1);
  });
});

function rejects(filter: string, fragment: string, position?: number): KilnError {
  let caught: unknown;
  try {
    parseFilter(filter);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KilnError, `expected ${JSON.stringify(filter)} to be rejected`);
  assert.equal(caught.code, 'INVALID_PARAMETER_VALUE');
  assert.ok(caught.message.startsWith('filter: '), caught.message);
  assert.ok(caught.message.includes(fragment), `${caught.message}\n  should include: ${fragment}`);
  assert.equal(caught.details?.field, 'filter');
  if (position !== undefined) assert.equal(caught.details?.position, position, caught.message);
  return caught;
}

describe('parseFilter: invalid filters', () => {
  for (const [filter, fragment, position] of INVALID) {
    it(JSON.stringify(filter), () => {
      rejects(filter, fragment, position);
    });
  }

  it('names the offending token in details', () => {
    const err = rejects("metrics.acc > 0.9 OR params.a = 'b'", "'OR'", 19);
    assert.deepEqual(err.details, { field: 'filter', position: 19, token: 'OR' });
  });

  it(`refuses more than ${MAX_COMPARISONS} comparisons at the first extra one`, () => {
    const parts = Array.from({ length: MAX_COMPARISONS + 1 }, (_, i) => `metrics.m${String(i).padStart(3, '0')} > 1`);
    const filter = parts.join(' AND ');
    rejects(filter, 'too many comparisons (more than 100)', filter.lastIndexOf('metrics.m100') + 1);
  });

  it(`refuses filters longer than ${MAX_FILTER_LENGTH} characters`, () => {
    const filter = `params.x = '${'a'.repeat(MAX_FILTER_LENGTH)}'`;
    const err = rejects(filter, `the limit is ${MAX_FILTER_LENGTH}`);
    assert.equal(err.details?.length, filter.length);
  });
});
