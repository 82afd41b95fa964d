import type { DatetimeBlock, NumericBlock } from './block.js';
import type { DatePart } from './spec.js';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

/**
 * Calendar fields of a UTC instant, without allocating a Date per row: Howard Hinnant's
 * `civil_from_days`, valid for every day a JS Date can hold. Returns NaN for NaN.
 *
 * @example
 * datePart(Date.UTC(2024, 1, 29, 13), 'dow'); // 3 (a Thursday; Monday = 0)
 */
export function datePart(ms: number, part: DatePart): number {
  if (Number.isNaN(ms)) return Number.NaN;
  const days = Math.floor(ms / MS_PER_DAY);
  switch (part) {
    case 'hour':
      return Math.floor((ms - days * MS_PER_DAY) / MS_PER_HOUR);
    case 'dow':
      // 1970-01-01 was a Thursday, day 3 counting from Monday.
      return (((days + 3) % 7) + 7) % 7;
  }
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // March = 0
  if (part === 'day') return dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  if (part === 'month') return month;
  return yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
}

/** One numeric column `<name>.<part>` per requested part. */
export function applyDateParts(parts: readonly DatePart[], block: DatetimeBlock, name: string): NumericBlock {
  const { values } = block;
  const columns = parts.map((part) => {
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = datePart(values[i] as number, part);
    return out;
  });
  return { kind: 'numeric', columns, names: parts.map((p) => `${name}.${p}`) };
}
