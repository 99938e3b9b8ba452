import { startOfLocalDayAfter, startOfNextLocalMonth, zonedInstant } from '@park/domain-primitives';
import { ValidationError } from '@park/service-kit/errors';

export type Granularity = 'day' | 'month' | 'year';

export interface Period {
  granularity: Granularity;
  /** The period's name: YYYY-MM-DD, YYYY-MM or YYYY. */
  label: string;
  /** [from, to) instants (ms). */
  from: number;
  to: number;
}

const PATTERNS: Record<Granularity, RegExp> = {
  day: /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  month: /^(\d{4})-(0[1-9]|1[0-2])$/,
  year: /^(\d{4})$/,
};

/** A park-local calendar period as instants. */
export function parsePeriod(
  granularity: Granularity,
  label: string,
  timeZone: string,
  field = 'period',
): Period {
  const match = PATTERNS[granularity].exec(label);
  if (!match) {
    const shape = { day: 'YYYY-MM-DD', month: 'YYYY-MM', year: 'YYYY' }[granularity];
    throw ValidationError.field(field, `'${label}' is not a ${granularity} ${shape}`);
  }
  const year = Number(match[1]);
  const month = Number(match[2] ?? 1);
  const day = Number(match[3] ?? 1);
  const from = zonedInstant({ year, month, day }, timeZone);
  if (granularity === 'day')
    return { granularity, label, from, to: startOfLocalDayAfter(from, 1, timeZone) };
  if (granularity === 'month')
    return { granularity, label, from, to: startOfNextLocalMonth(from, timeZone) };
  return {
    granularity,
    label,
    from,
    to: zonedInstant({ year: year + 1, month: 1, day: 1 }, timeZone),
  };
}

/** The park-local days of a period, YYYY-MM-DD, with their [from, to). */
export function daysOf(
  period: Period,
  timeZone: string,
): { day: string; from: number; to: number }[] {
  const days: { day: string; from: number; to: number }[] = [];
  for (let from = period.from; from < period.to;) {
    const to = startOfLocalDayAfter(from, 1, timeZone);
    const local = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(from);
    days.push({ day: local, from, to });
    from = to;
  }
  return days;
}
