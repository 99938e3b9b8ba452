import { markerMilliKwh, markersCovered, milliUnits } from './benchmarks/freshness';
import { queryMix, seriesSql } from './benchmarks/query';
import {
  INTERVAL_MS,
  gridLoadPark,
  intervalsSpanned,
  parkMonth,
  parkMonthStart,
  steadyReading,
  steadyReadings,
} from './park-load';

test('steady traffic gives each meter its next intervals in turn, never one twice', () => {
  expect(steadyReading(0, 3, 4)).toEqual({ meterIndex: 0, interval: 0 });
  expect(steadyReading(5, 3, 4)).toEqual({ meterIndex: 1, interval: 1 });
  expect(steadyReading(12, 3, 4)).toEqual({ meterIndex: 0, interval: 4 });
  const seen = new Set<string>();
  for (let n = 0; n < 3 * 4 * 5; n++) {
    const { meterIndex, interval } = steadyReading(n, 3, 4);
    seen.add(`${meterIndex}:${interval}`);
  }
  expect(seen.size).toBe(60);
  expect(intervalsSpanned(60, 3, 4)).toBe(20);
  expect(intervalsSpanned(0, 3, 4)).toBe(0);
});

test('steady readings carry the meters, instants and units of the plan', () => {
  const plan = gridLoadPark('p', 3, 2);
  expect(plan.enterpriseIds).toEqual(['p-ent-000', 'p-ent-001']);
  expect(plan.meters.map((m) => m.enterpriseId)).toEqual(['p-ent-000', 'p-ent-000', 'p-ent-001']);
  const readings = steadyReadings(plan.meters, 4, 0, 4, 2);
  expect(readings.map((r) => [r.meterId, r.intervalStart.getTime()])).toEqual([
    ['p-M-00001', 0],
    ['p-M-00001', INTERVAL_MS],
  ]);
});

test('park months are cut in park time (UTC+8)', () => {
  // 2026-03-01 02:00 in Shanghai is still February in UTC.
  const now = Date.UTC(2026, 1, 28, 18);
  expect(parkMonth(now)).toBe('2026-03');
  expect(new Date(parkMonthStart(now, 0)).toISOString()).toBe('2026-02-28T16:00:00.000Z');
  expect(new Date(parkMonthStart(now, 1)).toISOString()).toBe('2026-01-31T16:00:00.000Z');
  expect(parkMonth(parkMonthStart(now, 1))).toBe('2026-02');
});

test('an observed total covers the markers whose running sum it reaches', () => {
  const cumulative: number[] = [];
  for (let t = 0, sum = 0; t < 12; t++) cumulative.push((sum += markerMilliKwh(t)));
  expect(markersCovered(cumulative, 0)).toBe(0);
  expect(markersCovered(cumulative, 999)).toBe(0);
  expect(markersCovered(cumulative, 1_000)).toBe(1);
  expect(markersCovered(cumulative, cumulative[4]!)).toBe(5);
  expect(markersCovered(cumulative, cumulative[4]! + 1)).toBe(5);
  expect(markersCovered(cumulative, cumulative[11]!)).toBe(12);
  expect(milliUnits('1234.567')).toBe(1_234_567);
  expect(milliUnits('0.000')).toBe(0);
  expect(() => milliUnits('1,234.5')).toThrow('not a decimal');
});

test('the query mix is the same every run and stays within the month', () => {
  const plan = gridLoadPark('q', 10, 10);
  const t0 = Date.UTC(2026, 0, 1);
  const mix = queryMix(plan.meters, t0, 300);
  expect(queryMix(plan.meters, t0, 300)).toEqual(mix);
  expect(new Set(mix.map((q) => q.resolution))).toEqual(new Set(['quarter_hour', 'hour', 'day']));
  for (const query of mix) {
    expect(query.from).toBeGreaterThanOrEqual(t0);
    expect(query.to).toBeLessThanOrEqual(t0 + 30 * 86_400_000);
  }
  const byMeter = mix.filter((q) => q.meter).length;
  expect(byMeter).toBeGreaterThan(100);
  expect(byMeter).toBeLessThan(200);
});

test('the SQL baseline asks the same rows, summed per local bucket', () => {
  const plan = gridLoadPark('q', 1, 1);
  const sql = seriesSql({ kind: 'grid', resolution: 'hour', from: 0, to: 86_400_000 }, 'q-ent-000');
  expect(sql.text).toContain("date_trunc('hour', interval_start AT TIME ZONE $1)");
  expect(sql.text).toContain("commodity = 'electricity' AND role = 'grid_import'");
  expect(sql.values.slice(0, 2)).toEqual(['Asia/Shanghai', 'q-ent-000']);
  const meter = seriesSql(
    { meter: plan.meters[0]!, kind: 'grid', resolution: 'quarter_hour', from: 0, to: 1 },
    'q-ent-000',
  );
  expect(meter.text).toContain('meter_id = $2');
  expect(meter.values[1]).toBe('q-M-00000');
});
