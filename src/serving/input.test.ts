import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { predictModel, type TrainedModel, trainModel } from '../learn/index.js';
import { assertInvalid } from '../learn/testing/assert.js';
import { type PenguinRecord, penguinFrame, penguinRecords } from '../learn/testing/vega.js';
import { columnsTable, frameFromTable, memberField, rowsTable } from './input.js';
import type { InputPolicy, ServingInput } from './types.js';

const POLICY: InputPolicy = { extraColumns: 'ignore', maxBatchRows: 10_000 };
const STRICT: InputPolicy = { extraColumns: 'reject', maxBatchRows: 10_000 };

const records = penguinRecords().filter((r) => r.Species !== null);

/** The serving inputs of a trained model, as a predictor over it would expose them. */
function servingInputs(model: TrainedModel): ServingInput[] {
  return model.signature.inputs.map((input) => ({
    name: input.name,
    type: input.type,
    nullable: input.nullable,
    kind:
      input.type === 'float' || input.type === 'integer'
        ? 'float'
        : input.type === 'datetime'
          ? 'datetime'
          : 'categorical',
  }));
}

/** The records without the target, as a client would send them. */
function requestRows(rows: readonly PenguinRecord[]): Record<string, unknown>[] {
  return rows.map(({ Species: _, ...rest }) => rest);
}

const inputs: ServingInput[] = [
  { name: 'distance', kind: 'float', type: 'float', nullable: false },
  { name: 'seats', kind: 'float', type: 'integer', nullable: true },
  { name: 'carrier', kind: 'categorical', type: 'categorical', nullable: false },
  { name: 'delayed', kind: 'categorical', type: 'boolean', nullable: true },
  { name: 'date', kind: 'datetime', type: 'datetime', nullable: true },
];

const good = { distance: 300, seats: 120, carrier: 'AA', delayed: false, date: '2001-01-05' };

describe('frameFromTable on a real penguin model', () => {
  let model: TrainedModel;
  before(async () => {
    const frame = penguinFrame(records);
    ({ model } = await trainModel(frame, {
      task: 'classification',
      target: 'Species',
      model: 'gbdt',
      params: { n_estimators: 10, max_depth: 3 },
    }));
  });

  it('gives the same predictions from rows as from the frame the model was trained on, missing values included', () => {
    const chosen = records.slice(0, 60);
    assert.ok(
      chosen.some((r) => r.Sex === null || r['Beak Length (mm)'] === null),
      'the sample has missing values',
    );
    const expected = predictModel(model, penguinFrame(chosen));
    const frame = frameFromTable(servingInputs(model), rowsTable(requestRows(chosen)), POLICY);
    const actual = predictModel(model, frame);
    assert.deepEqual(actual.prediction, expected.prediction);
    assert.deepEqual(actual.probabilities, expected.probabilities);
  });

  it('gives the same predictions from columns as from rows', () => {
    const chosen = requestRows(records.slice(100, 140));
    const columns: Record<string, unknown[]> = {};
    for (const name of Object.keys(chosen[0] ?? {})) columns[name] = chosen.map((r) => r[name] ?? null);
    const fromRows = predictModel(model, frameFromTable(servingInputs(model), rowsTable(chosen), POLICY));
    const fromColumns = predictModel(model, frameFromTable(servingInputs(model), columnsTable(columns), POLICY));
    assert.deepEqual(fromColumns.prediction, fromRows.prediction);
    assert.deepEqual(fromColumns.probabilities, fromRows.probabilities);
  });

  it('names the column with spaces in its field path when a cell has the wrong type', () => {
    const rows = requestRows(records.slice(0, 3));
    (rows[2] as Record<string, unknown>)['Body Mass (g)'] = '3750 g';
    assertInvalid(
      () => frameFromTable(servingInputs(model), rowsTable(rows), POLICY),
      'rows[2]["Body Mass (g)"]',
      /is a string; the model needs a finite number/,
    );
  });
});

describe('rowsTable', () => {
  it('refuses a body that is not an array, and a row that is not an object', () => {
    assertInvalid(() => rowsTable({ distance: 3 }), 'rows', /is an object; it must be an array/);
    assertInvalid(() => rowsTable([good, 3], 'dataframe_records'), 'dataframe_records[1]', /is a number/);
    assertInvalid(() => rowsTable([good, [1, 2]]), 'rows[1]', /is an array/);
  });

  it('treats a key a row lacks as missing: accepted for a nullable input, refused for the others', () => {
    const { seats: _, ...noSeats } = good;
    const frame = frameFromTable(inputs, rowsTable([good, noSeats]), POLICY);
    const seats = frame.columns[1];
    assert.ok(seats?.kind === 'float');
    assert.deepEqual(Array.from(seats.values), [120, Number.NaN]);
    const { carrier: __, ...noCarrier } = good;
    assertInvalid(() => frameFromTable(inputs, rowsTable([good, noCarrier]), POLICY), 'rows[1].carrier', /missing/);
  });

  it('accepts an empty batch and builds an empty frame', () => {
    const frame = frameFromTable(inputs, rowsTable([]), POLICY);
    assert.equal(frame.rows, 0);
    assert.deepEqual(
      frame.columns.map((c) => c.name),
      inputs.map((i) => i.name),
    );
  });
});

describe('columnsTable', () => {
  it('refuses a non-object, a column that is not an array, and columns of unequal length', () => {
    assertInvalid(() => columnsTable([1, 2]), 'columns', /is an array; it must be an object/);
    assertInvalid(() => columnsTable({ distance: 3 }), 'columns.distance', /is a number; each column must be an array/);
    assertInvalid(
      () => columnsTable({ distance: [1, 2], 'Body Mass (g)': [1] }),
      'columns["Body Mass (g)"]',
      /has 1 values but columns.distance has 2/,
    );
  });
});

describe('frameFromTable checks', () => {
  const one = (patch: Record<string, unknown>) => rowsTable([good, { ...good, ...patch }]);

  it('builds float, categorical and datetime columns in the order of the inputs', () => {
    const frame = frameFromTable(
      inputs,
      columnsTable({
        date: ['2001-01-05', 978_739_200_000, '2001-01-06T12:30:00', null],
        delayed: [true, 'False', 1, null],
        carrier: ['AA', 'UA', 'AA', 7],
        seats: [1, null, 3, 4],
        distance: [1.5, 2, 3, 4],
        unused: ['x', 'y', 'z', 'w'],
      }),
      POLICY,
    );
    assert.equal(frame.rows, 4);
    const [distance, seats, carrier, delayed, date] = frame.columns;
    assert.ok(distance?.kind === 'float' && seats?.kind === 'float');
    assert.deepEqual(Array.from(distance.values), [1.5, 2, 3, 4]);
    assert.deepEqual(Array.from(seats.values), [1, Number.NaN, 3, 4]);
    assert.ok(carrier?.kind === 'categorical' && delayed?.kind === 'categorical');
    assert.deepEqual(
      Array.from(carrier.codes, (c) => carrier.dictionary[c]),
      ['AA', 'UA', 'AA', '7'],
    );
    assert.deepEqual(
      Array.from(delayed.codes, (c) => (c < 0 ? null : delayed.dictionary[c])),
      ['true', 'false', 'true', null],
    );
    assert.ok(date?.kind === 'datetime');
    assert.deepEqual(Array.from(date.values), [
      Date.UTC(2001, 0, 5),
      978_739_200_000,
      Date.UTC(2001, 0, 6, 12, 30),
      Number.NaN,
    ]);
  });

  it('refuses NaN, Infinity, strings, booleans and objects where a number is needed', () => {
    assertInvalid(() => frameFromTable(inputs, one({ distance: Number.NaN }), POLICY), 'rows[1].distance', /is NaN/);
    assertInvalid(
      () => frameFromTable(inputs, one({ distance: Number.POSITIVE_INFINITY }), POLICY),
      'rows[1].distance',
      /is Infinity/,
    );
    assertInvalid(
      () => frameFromTable(inputs, one({ distance: '300' }), POLICY),
      'rows[1].distance',
      /is a string; the model needs a finite number/,
    );
    assertInvalid(() => frameFromTable(inputs, one({ distance: true }), POLICY), 'rows[1].distance', /is a boolean/);
    assertInvalid(() => frameFromTable(inputs, one({ distance: { v: 1 } }), POLICY), 'rows[1].distance', /an object/);
  });

  it('refuses null for an input that is not nullable, and accepts it for one that is', () => {
    assertInvalid(() => frameFromTable(inputs, one({ distance: null }), POLICY), 'rows[1].distance', /missing/);
    assertInvalid(() => frameFromTable(inputs, one({ carrier: null }), POLICY), 'rows[1].carrier', /missing/);
    const frame = frameFromTable(inputs, one({ seats: null, delayed: null, date: null }), POLICY);
    assert.equal(frame.rows, 2);
  });

  it('refuses a fraction for an integer input and anything but true / false for a boolean one', () => {
    assertInvalid(() => frameFromTable(inputs, one({ seats: 3.5 }), POLICY), 'rows[1].seats', /whole number/);
    assertInvalid(() => frameFromTable(inputs, one({ delayed: 'maybe' }), POLICY), 'rows[1].delayed', /true or false/);
    assertInvalid(() => frameFromTable(inputs, one({ delayed: 2 }), POLICY), 'rows[1].delayed', /true or false/);
  });

  it('refuses a date that is not ISO 8601, and a nested value for a categorical input', () => {
    assertInvalid(() => frameFromTable(inputs, one({ date: 'yesterday' }), POLICY), 'rows[1].date', /ISO 8601/);
    assertInvalid(() => frameFromTable(inputs, one({ date: '2001-13-45' }), POLICY), 'rows[1].date', /ISO 8601/);
    assertInvalid(() => frameFromTable(inputs, one({ carrier: ['AA'] }), POLICY), 'rows[1].carrier', /is an array/);
  });

  it('refuses a column the request does not name at all, naming it', () => {
    const { seats: _, ...noSeats } = good;
    assertInvalid(
      () => frameFromTable(inputs, rowsTable([noSeats]), POLICY),
      'rows[0].seats',
      /missing; the model needs it/,
    );
    assertInvalid(
      () => frameFromTable(inputs, columnsTable({ distance: [1] }), POLICY),
      'columns.seats',
      /missing; the model needs it/,
    );
  });

  it('ignores extra columns by default and refuses them under the reject policy', () => {
    const table = () => rowsTable([good, { ...good, 'origin airport': 'JFK' }]);
    assert.equal(frameFromTable(inputs, table(), POLICY).columns.length, inputs.length);
    assertInvalid(
      () => frameFromTable(inputs, table(), STRICT),
      'rows[1]["origin airport"]',
      /not an input of the model/,
    );
  });

  it('refuses a batch over the limit, naming the request field that holds it', () => {
    const rows = Array.from({ length: 11 }, () => good);
    assertInvalid(
      () => frameFromTable(inputs, rowsTable(rows, 'dataframe_records'), { extraColumns: 'ignore', maxBatchRows: 10 }),
      'dataframe_records',
      /has 11 rows; one request may carry at most 10/,
    );
    assert.equal(
      frameFromTable(inputs, rowsTable(rows.slice(1)), { extraColumns: 'ignore', maxBatchRows: 10 }).rows,
      10,
    );
  });

  it('reports errors as KilnError with status 400', () => {
    try {
      frameFromTable(inputs, one({ distance: 'far' }), POLICY);
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof KilnError);
      assert.equal(error.status, 400);
    }
  });
});

describe('memberField', () => {
  it('uses dot notation for identifiers and quoted brackets otherwise', () => {
    assert.equal(memberField('columns', 'island'), 'columns.island');
    assert.equal(memberField('rows[2]', 'Body Mass (g)'), 'rows[2]["Body Mass (g)"]');
    assert.equal(memberField('columns', 'a.b'), 'columns["a.b"]');
  });
});
