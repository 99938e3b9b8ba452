import { ValidationError } from '@park/service-kit/errors';
import { PARK_COORDINATES, clearSkyPvForecast, haurwitzGhi, solarPosition } from './index';

// A 1000 kW plant at Shenyang (41.8 N, 123.4 E), default derate 0.8, 15-min intervals.
const PLANT = { ...PARK_COORDINATES, capacityKw: 1000 };

/** The 96 intervals of a Beijing-time day: local midnight is 16:00 UTC the day before. */
function localDay(utcStartOfDayBefore: string): number[] {
  return clearSkyPvForecast({ ...PLANT, start: utcStartOfDayBefore, intervals: 96 });
}

/** Hand-computed clear-sky output at solar noon: zenith z = latitude - declination. */
// June solstice, declination +23.44: z = 41.8 - 23.44 = 18.36 deg, cos z = 0.949096;
// 0.059 / 0.949096 = 0.062164, exp(-0.062164) = 0.939728;
// GHI = 1098 x 0.949096 x 0.939728 = 979.30 W/m2; P = 1000 x 979.30 / 1000 x 0.8 = 783.44 kW.
const JUNE_NOON_KW = 783.44;
// December solstice, declination -23.44: z = 41.8 + 23.44 = 65.24 deg, cos z = 0.418818;
// 0.059 / 0.418818 = 0.140873, exp(-0.140873) = 0.868600;
// GHI = 1098 x 0.418818 x 0.868600 = 399.44 W/m2; P = 399.44 x 0.8 = 319.55 kW.
const DECEMBER_NOON_KW = 319.55;

describe('solarPosition', () => {
  it('puts the June-solstice sun at Shenyang near its hand-computed noon position', () => {
    // Solar noon = 12:00 Beijing time - (123.4 - 120) / 15 h - EoT = 12:00 - 13.6 min - EoT.
    // EoT by the NOAA series at g = 2 pi / 365 x (171 + (3.8 - 12) / 24) = 2.937748 rad:
    // 229.18 x (0.000075 + 0.001868 x -0.979295 - 0.032077 x 0.202436 - 0.014615 x 0.918039
    //           - 0.040849 x -0.396490) = 229.18 x -0.0054688 = -1.2533 min.
    // Solar noon = 11:46.4 + 1.25 min = 11:47:39 Beijing time = 03:47:39 UTC.
    const noon = solarPosition(Date.parse('2025-06-21T03:47:39Z'), 41.8, 123.4);
    expect(noon.equationOfTimeMin).toBeCloseTo(-1.2533, 3);
    expect(Math.abs(noon.hourAngleDeg)).toBeLessThan(0.01);
    expect(noon.declinationDeg).toBeCloseTo(23.44, 1);
    expect(noon.zenithDeg).toBeCloseTo(41.8 - 23.44, 1);
  });

  it('has the sun below the horizon at local midnight', () => {
    expect(solarPosition(Date.parse('2025-06-20T16:00:00Z'), 41.8, 123.4).cosZenith).toBeLessThan(
      0,
    );
    expect(haurwitzGhi(-0.2)).toBe(0);
    expect(haurwitzGhi(0)).toBe(0);
  });
});

describe('clearSkyPvForecast', () => {
  const june = localDay('2025-06-20T16:00:00Z');

  it('is zero at night', () => {
    // Sunrise in Shenyang on the June solstice is about 03:45 Beijing time, sunset about 19:30.
    expect(june.slice(0, 4 * 3)).toEqual(new Array(12).fill(0)); // 00:00-03:00
    expect(june.slice(4 * 21)).toEqual(new Array(12).fill(0)); // 21:00-24:00
  });

  it('peaks at the hand-computed noon value on the June solstice, in the 11:45 interval', () => {
    const peak = Math.max(...june);
    expect(Math.abs(peak - JUNE_NOON_KW) / JUNE_NOON_KW).toBeLessThan(0.01);
    // 11:45-12:00 Beijing time holds solar noon (11:47:39).
    expect(june.indexOf(peak)).toBe(47);
  });

  it('is symmetric about solar noon', () => {
    // 24 intervals centred on 03:47:39 UTC: interval i and 23 - i are mirror images.
    const around = clearSkyPvForecast({ ...PLANT, start: '2025-06-21T00:47:39Z', intervals: 24 });
    for (let i = 0; i < 12; i++) {
      expect(Math.abs((around[i] as number) - (around[23 - i] as number))).toBeLessThan(0.2);
    }
    expect(around[0]).toBeGreaterThan(300);
  });

  it('peaks lower in December, at the hand-computed value', () => {
    const december = localDay('2025-12-20T16:00:00Z');
    const peak = Math.max(...december);
    expect(peak).toBeLessThan(Math.max(...june));
    expect(Math.abs(peak - DECEMBER_NOON_KW) / DECEMBER_NOON_KW).toBeLessThan(0.01);
  });

  it('scales with capacity and derate and averages within the interval', () => {
    const base = { ...PARK_COORDINATES, start: '2025-06-21T03:30:00Z', intervals: 2 };
    const full = clearSkyPvForecast({ ...base, capacityKw: 1000, derate: 1 });
    const small = clearSkyPvForecast({ ...base, capacityKw: 250, derate: 0.5 });
    expect(small[0]).toBeCloseTo((full[0] as number) * 0.25 * 0.5, 9);
    // One sample at the midpoint (sampleMinutes 15) differs from three only by the curvature.
    const coarse = clearSkyPvForecast({ ...base, capacityKw: 1000, derate: 1, sampleMinutes: 15 });
    expect(Math.abs((coarse[0] as number) - (full[0] as number))).toBeLessThan(1);
  });

  it('names bad fields', () => {
    try {
      clearSkyPvForecast({
        latitude: 95,
        longitude: 123.4,
        capacityKw: -1,
        derate: 0,
        start: '2025-06-21',
        intervals: 1.5,
        intervalMinutes: 0,
      });
      throw new Error('expected a ValidationError');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).violations.map((v) => v.field)).toEqual([
        'latitude',
        'capacity_kw',
        'derate',
        'start',
        'intervals',
        'interval_minutes',
      ]);
    }
  });
});
