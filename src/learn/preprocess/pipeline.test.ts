import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { kFold, stratifiedKFold } from '../cv.js';
import type { Column, Frame } from '../frame.js';
import type { Matrix } from '../matrix.js';
import { categoricalColumn, floatColumn, penguinFrame, penguinRecords } from '../testing/vega.js';
import { type FittedPipeline, fitPipeline, fitTransform, transform } from './pipeline.js';
import type { PipelineSpec } from './spec.js';

const records = penguinRecords();

function columnOf(m: Matrix, name: string): number[] {
  const c = m.names.indexOf(name);
  assert.ok(c >= 0, `no output column ${name} in ${m.names.join(', ')}`);
  return Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols + c] as number);
}

function assertNear(actual: number, expected: number, where: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${where}: ${actual} vs ${expected}`,
  );
}

/**
 * Target encoding written out from its definition with plain arrays and Maps, the independent answer:
 * sklearn 1.3's smooth='auto' (λ = nσ² / (nσ² + s²_c)) or the m-estimate, fitted on `rows`.
 */
function closedForm(
  categories: readonly (string | null)[],
  y: readonly number[],
  rows: readonly number[],
  smooth: 'auto' | number,
): { encode: (c: string | null) => number; mean: number } {
  const mean = rows.reduce((s, r) => s + (y[r] as number), 0) / rows.length;
  const variance = rows.reduce((s, r) => s + ((y[r] as number) - mean) ** 2, 0) / rows.length;
  const groups = new Map<string | null, number[]>();
  for (const r of rows)
    groups.set(categories[r] ?? null, [...(groups.get(categories[r] ?? null) ?? []), y[r] as number]);
  const encode = (c: string | null): number => {
    const ys = groups.get(c);
    if (ys === undefined) return mean;
    const n = ys.length;
    const sum = ys.reduce((a, b) => a + b, 0);
    if (smooth !== 'auto') return (sum + smooth * mean) / (n + smooth);
    const cMean = sum / n;
    const cVariance = ys.reduce((s, v) => s + (v - cMean) ** 2, 0) / n;
    if (variance === 0 && cVariance === 0) return mean;
    const lambda = (n * variance) / (n * variance + cVariance);
    return lambda * cMean + (1 - lambda) * mean;
  };
  return { encode, mean };
}

describe('target encoding', () => {
  const massKnown = records.filter((r) => r['Body Mass (g)'] !== null);
  const frame = penguinFrame(massKnown);
  const mass = massKnown.map((r) => r['Body Mass (g)'] as number);
  const all = mass.map((_, i) => i);

  for (const smooth of ['auto', 25] as const) {
    it(`should encode penguin body mass by Species, Island and Sex (smooth ${smooth}) as the closed form`, () => {
      const names = ['Species', 'Island', 'Sex'];
      const spec: PipelineSpec = {
        columns: Object.fromEntries(names.map((n) => [n, [{ kind: 'target', smooth, folds: 4, seed: 11 }]])),
      };
      const { fitted, matrix } = fitTransform(spec, frame, { target: mass });
      const full = transform(fitted, frame);
      const splits = [...kFold(mass.length, 4, { shuffle: true, seed: 11 })];
      for (const name of names) {
        const cats = massKnown.map((r) => r[name] as string | null);
        const expectedFull = closedForm(cats, mass, all, smooth);
        columnOf(full, name).forEach((v, r) => {
          assertNear(v, expectedFull.encode(cats[r] ?? null), `${name} full row ${r}`);
        });
        const oof = columnOf(matrix, name);
        for (const { train, test } of splits) {
          const fold = closedForm(cats, mass, Array.from(train), smooth);
          for (const r of test)
            assertNear(oof[r] as number, fold.encode(cats[r] ?? null), `${name} out-of-fold row ${r}`);
        }
        assert.notDeepEqual(oof, columnOf(full, name), 'out-of-fold differs from the full-data encoding');
      }
    });
  }

  it("should never use a row's own target for its out-of-fold encoding", () => {
    const spec: PipelineSpec = { columns: { Island: [{ kind: 'target', folds: 5 }] } };
    const before = columnOf(fitTransform(spec, frame, { target: mass }).matrix, 'Island');
    for (const r of [0, 57, 200, 341]) {
      const changed = mass.slice();
      changed[r] = (changed[r] as number) + 5000;
      const after = columnOf(fitTransform(spec, frame, { target: changed }).matrix, 'Island');
      assert.equal(after[r], before[r], `row ${r} moved when its own target changed`);
      assert.ok(
        after.some((v, i) => v !== before[i]),
        'other folds see the change',
      );
    }
  });

  it('should encode a binary target (male) with stratified folds and the m-estimate', () => {
    const sexed = records.filter((r) => r.Sex === 'MALE' || r.Sex === 'FEMALE');
    const y: number[] = sexed.map((r) => (r.Sex === 'MALE' ? 1 : 0));
    const f = penguinFrame(sexed);
    const spec: PipelineSpec = { columns: { Species: [{ kind: 'target', smooth: 10, seed: 3 }] } };
    const { fitted, matrix } = fitTransform(spec, f, { target: Float64Array.from(y) });
    const cats = sexed.map((r) => r.Species as string);
    const splits = [...stratifiedKFold(Int32Array.from(y), 5, { shuffle: true, seed: 3 })];
    const oof = columnOf(matrix, 'Species');
    for (const { train, test } of splits) {
      const fold = closedForm(cats, y, Array.from(train), 10);
      for (const r of test) assertNear(oof[r] as number, fold.encode(cats[r] as string), `row ${r}`);
    }
    // Unknown species at predict time get the training mean.
    const unknown: Frame = { rows: 1, columns: [categoricalColumn('Species', ['Emperor'])] };
    assertNear(transform(fitted, unknown).data[0] as number, y.reduce((a, b) => a + b, 0) / y.length, 'unknown');
  });

  it('should fit the steps after a target step on the out-of-fold values', () => {
    const spec: PipelineSpec = { columns: { Island: [{ kind: 'target' }, { kind: 'standard' }] } };
    const { matrix } = fitTransform(spec, frame, { target: mass });
    const values = columnOf(matrix, 'Island');
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    assertNear(mean, 0, 'mean');
    assertNear(variance, 1, 'variance');
  });
});

/** Penguins plus a datetime column with a missing value, for a pipeline that uses every step. */
function penguinsWithDates(rows: typeof records): Frame {
  const base = penguinFrame(rows);
  const when = Float64Array.from(rows, (_, i) => (i % 17 === 5 ? Number.NaN : Date.UTC(2007, 10, 11) + i * 26_297_000));
  return { rows: base.rows, columns: [...base.columns, { kind: 'datetime', name: 'observed', values: when }] };
}

const EVERYTHING: PipelineSpec = {
  columns: {
    Species: [{ kind: 'target', folds: 3, seed: 2 }, { kind: 'minmax' }],
    Island: [{ kind: 'onehot', maxCategories: 2 }],
    Sex: [
      { kind: 'impute', strategy: 'most_frequent', addIndicator: true },
      { kind: 'ordinal', unknownValue: null },
    ],
    'Beak Length (mm)': [{ kind: 'impute', strategy: 'median', addIndicator: true }, { kind: 'standard' }],
    'Beak Depth (mm)': [{ kind: 'minmax', featureRange: [-1, 1] }],
    'Flipper Length (mm)': [],
    observed: [
      { kind: 'dateparts', parts: ['hour', 'dow', 'month', 'day', 'year'] },
      { kind: 'impute', strategy: 'constant', fillValue: -1 },
    ],
  },
};

describe('fitted pipeline', () => {
  // Odd rows: they include the two penguins with no measurements and five with no Sex.
  const train = records.filter((r, i) => i % 2 === 1 && r.Sex !== '.');
  const y = train.map((r) => (r.Island === 'Dream' ? 1 : 0));
  const { fitted, matrix } = fitTransform(EVERYTHING, penguinsWithDates(train), { target: y });

  it('should be plain JSON that transforms identically after JSON.stringify → JSON.parse', () => {
    const parsed = JSON.parse(JSON.stringify(fitted)) as FittedPipeline;
    assert.deepStrictEqual(parsed, fitted, 'no typed arrays, NaN or undefined in the fitted state');
    const fresh = penguinsWithDates(records);
    const a = transform(fitted, fresh);
    const b = transform(parsed, fresh);
    assert.deepStrictEqual(b, a);
    assert.ok(Number.isNaN(columnOf(a, 'Sex')[336] as number), "Sex '.' is unknown → NaN (unknownValue null)");
  });

  it('should name outputs per column in spec order and drop unnamed columns (Body Mass)', () => {
    assert.deepEqual(fitted.names, [
      'Species',
      'Island=Biscoe',
      'Island=(other)',
      'Sex',
      'Sex.missing',
      'Beak Length (mm)',
      'Beak Length (mm).missing',
      'Beak Depth (mm)',
      'Flipper Length (mm)',
      'observed.hour',
      'observed.dow',
      'observed.month',
      'observed.day',
      'observed.year',
    ]);
    assert.deepEqual(matrix.names, fitted.names);
    assert.equal(matrix.cols, 14);
  });

  it('should add no missing indicator for a column that had no missing values at fit', () => {
    const complete = penguinFrame(train.filter((r) => r['Beak Length (mm)'] !== null));
    const spec: PipelineSpec = {
      columns: { 'Beak Length (mm)': [{ kind: 'impute', strategy: 'mean', addIndicator: true }] },
    };
    const x = transform(fitPipeline(spec, complete), penguinFrame(records));
    assert.deepEqual(x.names, ['Beak Length (mm)']);
    assert.ok(x.data.every((v) => !Number.isNaN(v)));
  });

  it('should give the same matrix from fitTransform and transform except for target-encoded columns', () => {
    const again = transform(fitted, penguinsWithDates(train));
    for (const name of fitted.names) {
      if (name === 'Species') assert.notDeepEqual(columnOf(again, name), columnOf(matrix, name));
      else assert.deepStrictEqual(columnOf(again, name), columnOf(matrix, name), name);
    }
  });

  it('should pass a float column with no steps through unchanged, NaN included', () => {
    const flipper = columnOf(matrix, 'Flipper Length (mm)');
    train.forEach((r, i) => {
      const v = r['Flipper Length (mm)'] as number | null;
      if (v === null) assert.ok(Number.isNaN(flipper[i] as number));
      else assert.equal(flipper[i], v);
    });
  });

  it('should map categories by value, not by dictionary code, when the predict frame has another dictionary', () => {
    const reversed = (col: Column): Column => {
      if (col.kind !== 'categorical') return col;
      const dictionary = [...col.dictionary].reverse();
      const n = dictionary.length;
      return { ...col, dictionary, codes: col.codes.map((c) => (c < 0 ? c : n - 1 - c)) };
    };
    const frame = penguinsWithDates(records);
    const shuffled: Frame = { rows: frame.rows, columns: frame.columns.map(reversed) };
    assert.deepStrictEqual(transform(fitted, shuffled), transform(fitted, frame));
  });
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof KilnError, `expected a KilnError, got ${error}`);
    assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
    return error.details?.field as string | undefined;
  }
  assert.fail('expected an error');
}

describe('pipeline errors', () => {
  const frame = penguinFrame(records);
  const fit = (spec: unknown, target?: number[]) => () => fitPipeline(spec as PipelineSpec, frame, { target });

  it('should name the column or step at fault as the field', () => {
    assert.equal(fieldOf(fit({ columns: { nope: [] } })), 'columns.nope');
    assert.equal(fieldOf(fit({ columns: { 'Body Mass (g)': [{ kind: 'onehot' }] } })), 'columns.Body Mass (g)[0]');
    assert.equal(fieldOf(fit({ columns: { Sex: [{ kind: 'impute', strategy: 'mean' }] } })), 'columns.Sex[0].strategy');
    assert.equal(
      fieldOf(fit({ columns: { Island: [{ kind: 'onehot' }, { kind: 'standard' }] } })),
      'columns.Island[1]',
    );
    assert.equal(fieldOf(fit({ columns: { Island: [] } })), 'columns.Island');
    assert.equal(fieldOf(fit({ columns: { Island: [{ kind: 'scale' }] } })), 'columns.Island[0].kind');
    assert.equal(
      fieldOf(fit({ columns: { Island: [{ kind: 'onehot', maxCategories: 1 }] } })),
      'columns.Island[0].maxCategories',
    );
    assert.equal(
      fieldOf(fit({ columns: { Island: [{ kind: 'onehot', maxCategorie: 3 }] } })),
      'columns.Island[0].maxCategorie',
    );
    assert.equal(fieldOf(fit({ columns: { Island: [{ kind: 'target' }] } })), 'target');
    assert.equal(fieldOf(fit({ columns: { Island: [{ kind: 'target' }] } }, [1, 2])), 'target');
    assert.equal(fieldOf(fit({ columns: {} })), 'columns');
    assert.equal(
      fieldOf(fit({ columns: { 'Beak Length (mm)': [{ kind: 'impute', strategy: 'constant', fillValue: 'x' }] } })),
      'columns.Beak Length (mm)[0].fillValue',
    );
  });

  it('should reject a NaN target, infinities and entirely missing columns', () => {
    const y = records.map(() => 1);
    y[4] = Number.NaN;
    assert.equal(fieldOf(fit({ columns: { Island: [{ kind: 'target' }] } }, y)), 'target');
    const inf: Frame = { rows: 2, columns: [floatColumn('x', [1, Number.POSITIVE_INFINITY])] };
    assert.equal(
      fieldOf(() => fitPipeline({ columns: { x: [] } }, inf)),
      'columns.x',
    );
    const empty: Frame = { rows: 2, columns: [floatColumn('x', [null, null])] };
    assert.equal(
      fieldOf(() => fitPipeline({ columns: { x: [{ kind: 'standard' }] } }, empty)),
      'columns.x[0]',
    );
    assert.equal(
      fieldOf(() => fitPipeline({ columns: { x: [{ kind: 'impute', strategy: 'median' }] } }, empty)),
      'columns.x[0]',
    );
  });

  it('should reject a predict frame without a fitted column or with another type for it', () => {
    const fitted = fitPipeline({ columns: { Sex: [{ kind: 'onehot' }] } }, frame);
    assert.equal(
      fieldOf(() => transform(fitted, { rows: 0, columns: [] })),
      'columns.Sex',
    );
    const asFloat: Frame = { rows: 1, columns: [floatColumn('Sex', [1])] };
    assert.equal(
      fieldOf(() => transform(fitted, asFloat)),
      'columns.Sex',
    );
  });
});
