import { startOfLocalDayAfter, zonedInstant } from '@park/domain-primitives';
import { intervalGrid } from './interval-grid';

describe('intervalGrid', () => {
  it('steps daily intervals across a daylight-saving change by local days (23 h and 25 h days)', () => {
    const march30 = zonedInstant({ year: 2025, month: 3, day: 30 }, 'Europe/Berlin');
    const march31 = zonedInstant({ year: 2025, month: 3, day: 31 }, 'Europe/Berlin');
    const daily = intervalGrid({ intervalMinutes: 1440, timeZone: 'Europe/Berlin' });
    expect(daily.next(march30)).toBe(march31);
    expect(daily.previous(march31)).toBe(march30);
    expect(daily.count(march30, startOfLocalDayAfter(march30, 7, 'Europe/Berlin'))).toBe(7);
  });
});
