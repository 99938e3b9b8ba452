import {
  canonicalTimeZone,
  localDate,
  parseInstant,
  startOfLocalDay,
  startOfLocalDayAfter,
  zonedInstant,
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
