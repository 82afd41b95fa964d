import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../random.js';
import { seattleFrame } from '../testing/vega.js';
import { datePart } from './dates.js';
import { fitPipeline, transform } from './pipeline.js';
import { DATE_PARTS, type DatePart, type PipelineSpec } from './spec.js';

/** The same parts through JS Date's UTC getters, the independent answer. */
function byDate(ms: number, part: DatePart): number {
  const d = new Date(ms);
  switch (part) {
    case 'hour':
      return d.getUTCHours();
    case 'dow':
      return (d.getUTCDay() + 6) % 7;
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day':
      return d.getUTCDate();
    case 'year':
      return d.getUTCFullYear();
  }
}

describe('datePart', () => {
  it('should agree with Date UTC getters on 20,000 instants from year 1 to 2400, before and after 1970', () => {
    const rng = createRng(5);
    const low = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    const high = Date.UTC(2400, 11, 31, 23, 59, 59, 999);
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(low + rng() * (high - low));
      for (const part of DATE_PARTS) assert.equal(datePart(ms, part), byDate(ms, part), `${part} of ${ms}`);
    }
  });

  it('should handle the edges of days, leap days and the epoch', () => {
    const instants = [
      0,
      -1,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2024, 2, 1),
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(1900, 1, 28, 23),
      Date.UTC(1900, 2, 1),
      Date.UTC(1969, 11, 31, 23, 30),
      Date.UTC(2023, 11, 31, 23, 59, 59, 999),
    ];
    for (const ms of instants) {
      for (const part of DATE_PARTS) assert.equal(datePart(ms, part), byDate(ms, part), `${part} of ${ms}`);
    }
    assert.equal(datePart(Date.UTC(2024, 0, 1), 'dow'), 0, '2024-01-01 was a Monday');
    assert.equal(datePart(Date.UTC(2024, 0, 7), 'dow'), 6, '2024-01-07 was a Sunday');
  });

  it('should give NaN for a missing date', () => {
    for (const part of DATE_PARTS) assert.ok(Number.isNaN(datePart(Number.NaN, part)));
  });
});

describe('dateparts step', () => {
  it('should extract every part of the seattle-weather dates, in the order asked, as <name>.<part>', () => {
    const frame = seattleFrame();
    const parts: DatePart[] = ['year', 'month', 'day', 'dow', 'hour'];
    const x = transform(fitPipeline({ columns: { date: [{ kind: 'dateparts', parts }] } }, frame), frame);
    assert.deepEqual(x.names, ['date.year', 'date.month', 'date.day', 'date.dow', 'date.hour']);
    const dates = frame.columns[0]?.kind === 'datetime' ? frame.columns[0].values : undefined;
    assert.ok(dates);
    assert.equal(x.rows, 1461);
    for (let r = 0; r < x.rows; r++) {
      parts.forEach((part, c) => {
        assert.equal(x.data[r * x.cols + c], byDate(dates[r] as number, part), `row ${r} ${part}`);
      });
    }
  });

  it('should give NaN parts for missing dates, which a following impute step fills', () => {
    const values = Float64Array.from([Date.UTC(2021, 4, 3, 17), Number.NaN, Date.UTC(2021, 4, 5, 9)]);
    const frame = { rows: 3, columns: [{ kind: 'datetime' as const, name: 'at', values }] };
    const raw = transform(fitPipeline({ columns: { at: [{ kind: 'dateparts', parts: ['hour'] }] } }, frame), frame);
    assert.deepEqual(Array.from(raw.data), [17, Number.NaN, 9]);
    const spec: PipelineSpec = {
      columns: {
        at: [
          { kind: 'dateparts', parts: ['hour', 'dow'] },
          { kind: 'impute', strategy: 'median', addIndicator: true },
        ],
      },
    };
    const filled = transform(fitPipeline(spec, frame), frame);
    assert.deepEqual(filled.names, ['at.hour', 'at.dow', 'at.hour.missing', 'at.dow.missing']);
    // Monday 3 May 2021 is dow 0, Wednesday 5 May is 2; medians 13 and 1.
    assert.deepEqual(Array.from(filled.data), [17, 0, 0, 0, 13, 1, 1, 1, 9, 2, 0, 0]);
  });
});
