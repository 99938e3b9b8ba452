import { checkCreditCode } from '@park/metering';
import { buildPark } from './park-model';
import { INTERVAL_MS, intervalValues, loadFactor } from './profiles';

describe('the synthetic park', () => {
  it('is the same park for the same seed, another for another seed', () => {
    const a = buildPark({ seed: 42, enterprises: 40 });
    expect(buildPark({ seed: 42, enterprises: 40 })).toEqual(a);
    expect(
      buildPark({ seed: 43, enterprises: 40 }).enterprises.map((e) => e.creditCode),
    ).not.toEqual(a.enterprises.map((e) => e.creditCode));
    expect(a.enterprises).toHaveLength(40);
    // Four sectors, ten enterprises each; three fed by the direct line; every meter unique.
    expect(new Set(a.enterprises.map((e) => e.sector)).size).toBe(4);
    expect(a.enterprises.filter((e) => e.directLine)).toHaveLength(3);
    expect(new Set(a.meters.map((m) => m.meterId)).size).toBe(a.meters.length);
  });

  it('gives every enterprise a unified social credit code with valid check characters', () => {
    const sim = buildPark({ seed: 7, enterprises: 40 });
    for (const code of [...sim.enterprises.map((e) => e.creditCode), sim.operatorCreditCode]) {
      expect(checkCreditCode(code)).toMatchObject({ valid: true });
    }
  });

  it('sends the same values for the same interval; PV is dark at night and bright at noon', () => {
    const sim = buildPark({ seed: 42, enterprises: 12 });
    // 2026-06-22 is a Monday; 00:00 local = 2026-06-21T16:00Z, noon local = 04:00Z.
    const midnight = Date.parse('2026-06-21T16:00:00Z');
    const noon = Date.parse('2026-06-22T04:00:00Z');
    const once = intervalValues(sim, noon, new Map()).values;
    expect(intervalValues(sim, noon, new Map()).values).toEqual(once);
    expect(intervalValues(sim, midnight, new Map()).values.get('plant-pv-park-1')).toBe(0);
    // A 5 MW plant at noon in June: well above half of its capacity for a quarter hour
    // (0.5 x 5,000 kW x 0.25 h = 625 kWh) on all but the cloudiest days.
    expect(once.get('plant-pv-park-1')).toBeGreaterThan(0);
    expect([...once.values()].every((value) => Number.isFinite(value) && value >= 0)).toBe(true);
  });

  it('runs factories on shifts and slows down at weekends', () => {
    const sim = buildPark({ seed: 42, enterprises: 4 });
    const automotive = sim.enterprises.find((e) => e.sector === 'automotive')!;
    const mondayTen = Date.parse('2026-06-22T02:00:00Z');
    const sundayTen = mondayTen - 86_400_000;
    expect(loadFactor(automotive, mondayTen)).toBe(1);
    expect(loadFactor(automotive, sundayTen)).toBe(0.3);
    expect(INTERVAL_MS).toBe(900_000);
  });
});
