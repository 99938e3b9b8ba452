import {
  canonicalTimeZone,
  DAY_MS,
  localDate,
  localDateTime,
  MINUTE_MS,
  parseInstant,
  startOfLocalDay,
  startOfLocalDayAfter,
  startOfLocalHour,
  zonedInstant,
  type LocalDateTime,
} from './park-time';

describe('instants', () => {
  it.each([
    ['2025-03-10T00:00:00Z', '2025-03-10T00:00:00.000Z'],
    ['2025-03-10T08:00:00+08:00', '2025-03-10T00:00:00.000Z'],
    ['2025-03-10T08:00+08:00', '2025-03-10T00:00:00.000Z'],
    ['2025-03-10T00:00:00.123456Z', '2025-03-10T00:00:00.123Z'],
  ])('reads %s', (text, iso) => {
    expect(new Date(parseInstant(text)!).toISOString()).toBe(iso);
  });

  it.each([
    '2025-02-30T00:00:00Z',
    '2025-03-10T00:00:00',
    '2025-03-10 00:00:00Z',
    '2025-03-10T24:00:00Z',
    1_741_564_800_000,
  ])('refuses %s', (text) => {
    expect(parseInstant(text)).toBeUndefined();
  });

  it('answers a text read before the same way (its cache), valid or not', () => {
    for (let round = 0; round < 2; round++) {
      expect(parseInstant('2025-03-10T08:00:00+08:00')).toBe(Date.UTC(2025, 2, 10));
      expect(parseInstant('2025-02-30T00:00:00Z')).toBeUndefined();
    }
  });
});

describe('time zones', () => {
  it('knows IANA names and spells them canonically', () => {
    expect(canonicalTimeZone('Asia/Shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('Asia/Shenyang')).toBeUndefined();
    expect(canonicalTimeZone('+08:00')).toBeUndefined();
  });

  it('finds local midnight in Shanghai at 16:00 UTC', () => {
    const instant = Date.parse('2025-03-10T15:59:59Z'); // 23:59:59 local on 10 March
    expect(new Date(startOfLocalDay(instant, 'Asia/Shanghai')).toISOString()).toBe(
      '2025-03-09T16:00:00.000Z',
    );
    expect(localDate(Date.parse('2025-03-10T16:00:00Z'), 'Asia/Shanghai')).toBe('2025-03-11');
  });

  it('has 23- and 25-hour days where daylight saving changes (Berlin, 2025)', () => {
    const march30 = zonedInstant({ year: 2025, month: 3, day: 30 }, 'Europe/Berlin');
    const march31 = startOfLocalDayAfter(march30, 1, 'Europe/Berlin');
    expect((march31 - march30) / 3_600_000).toBe(23);
    const october26 = zonedInstant({ year: 2025, month: 10, day: 26 }, 'Europe/Berlin');
    expect((startOfLocalDayAfter(october26, 1, 'Europe/Berlin') - october26) / 3_600_000).toBe(25);
  });
});

describe('wall-clock readings (Intl once per zone and UTC hour)', () => {
  // The reference: Intl's own reading of every instant, as localDateTime once took it.
  const references = new Map<string, Intl.DateTimeFormat>();
  function intlReading(epochMs: number, timeZone: string): LocalDateTime {
    let format = references.get(timeZone);
    if (!format) {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
      references.set(timeZone, format);
    }
    const parts = Object.fromEntries(
      format.formatToParts(epochMs).map((part) => [part.type, Number(part.value)]),
    );
    return {
      year: parts.year!,
      month: parts.month!,
      day: parts.day!,
      hour: parts.hour!,
      minute: parts.minute!,
      second: parts.second!,
    };
  }
  function offsetAt(epochMs: number, timeZone: string): number {
    const l = intlReading(epochMs, timeZone);
    return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - epochMs;
  }
  /** The instants (whole seconds) where the zone's offset changes, found week by week. */
  function transitions(timeZone: string, from: number, to: number): number[] {
    const found: number[] = [];
    const week = 7 * DAY_MS;
    for (let at = from; at + week <= to; at += week) {
      if (offsetAt(at, timeZone) === offsetAt(at + week, timeZone)) continue;
      let [low, high] = [at, at + week];
      while (high - low > 1000) {
        const middle = low + Math.floor((high - low) / 2000) * 1000;
        if (offsetAt(middle, timeZone) === offsetAt(low, timeZone)) low = middle;
        else high = middle;
      }
      found.push(high);
    }
    return found;
  }

  // DST of an hour and of half an hour (Lord Howe), offsets of 30 and 45 minutes, a negative
  // DST (Dublin), a skipped day (Apia, 2011), Ramadan breaks (Casablanca), local mean time with
  // offsets in seconds before standard time (Amsterdam, Shanghai), and the parks' zone.
  const zones = [
    'Asia/Shanghai',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'Asia/Kathmandu',
    'Asia/Kolkata',
    'Pacific/Chatham',
    'America/St_Johns',
    'Europe/Dublin',
    'Pacific/Apia',
    'Africa/Casablanca',
    'Europe/Amsterdam',
  ];

  it.each(zones)('reads %s as Intl does, around every rule change of 1880-2040', (timeZone) => {
    const changes = transitions(timeZone, Date.UTC(1880, 0, 1), Date.UTC(2040, 0, 1));
    expect(changes.length).toBeGreaterThan(0);
    let checked = 0;
    for (const change of changes) {
      // Either side of the change, at odd minutes and seconds, and at the change itself.
      const instants = [change - 1000, change, change + 1000, change - 1, change + 999];
      for (let at = change - 75 * MINUTE_MS; at <= change + 75 * MINUTE_MS; at += 433_000) {
        instants.push(at);
      }
      for (const at of instants) {
        expect([at, localDateTime(at, timeZone)]).toEqual([at, intlReading(at, timeZone)]);
        checked++;
      }
    }
    expect(checked).toBe(changes.length * 26); // 5 + 21 steps of 433 s in 150 min
  });

  it('reads instants spread over 1000-9999, and the edges of that range, as Intl does', () => {
    // A fixed linear congruential sequence: the same instants on every run.
    let seed = 12_345;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const from = Date.UTC(1000, 0, 1);
    const to = Date.UTC(9999, 11, 31, 23, 59, 59);
    const instants = [from, from + DAY_MS, to - DAY_MS, to];
    for (let i = 0; i < 1_000; i++) instants.push(from + Math.floor(next() * (to - from)));
    for (const timeZone of zones) {
      for (const at of instants) {
        expect([at, localDateTime(at, timeZone)]).toEqual([at, intlReading(at, timeZone)]);
      }
    }
  });

  it('reads fractional milliseconds as Intl does, and refuses what Intl refuses', () => {
    // Intl (like Date) truncates a fraction toward zero: -0.5 ms is the epoch itself.
    for (const at of [-0.5, 0.5, 1_700_000_000_000.75, -1_700_000_000_000.25]) {
      expect(localDateTime(at, 'Asia/Shanghai')).toEqual(intlReading(at, 'Asia/Shanghai'));
    }
    expect(localDateTime(-0.5, 'Asia/Shanghai')).toEqual({
      year: 1970,
      month: 1,
      day: 1,
      hour: 8,
      minute: 0,
      second: 0,
    });
    expect(() => localDateTime(Number.NaN, 'Asia/Shanghai')).toThrow(RangeError);
    expect(() => localDateTime(8.64e15 + 1, 'Asia/Shanghai')).toThrow(RangeError);
  });

  it('starts local hours where the clock shows a whole hour (Kathmandu at hh:15 UTC)', () => {
    // Kathmandu is UTC+05:45: 10:00 local is 04:15 UTC; 04:14:59Z is still 09:59:59 local.
    const at = Date.parse('2025-03-10T04:20:00Z');
    expect(new Date(startOfLocalHour(at, 'Asia/Kathmandu')).toISOString()).toBe(
      '2025-03-10T04:15:00.000Z',
    );
    const before = Date.parse('2025-03-10T04:14:59Z');
    expect(new Date(startOfLocalHour(before, 'Asia/Kathmandu')).toISOString()).toBe(
      '2025-03-10T03:15:00.000Z',
    );
    // New York falls back on 2 November 2025 at 06:00Z: the two 01:00 hours stay distinct.
    const first = Date.parse('2025-11-02T05:30:00Z'); // 01:30 EDT
    const second = Date.parse('2025-11-02T06:30:00Z'); // 01:30 EST
    expect(new Date(startOfLocalHour(first, 'America/New_York')).toISOString()).toBe(
      '2025-11-02T05:00:00.000Z',
    );
    expect(new Date(startOfLocalHour(second, 'America/New_York')).toISOString()).toBe(
      '2025-11-02T06:00:00.000Z',
    );
  });
});
