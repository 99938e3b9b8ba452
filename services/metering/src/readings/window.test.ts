import { historyNeeded } from './meter';
import { HistoryRequiredError } from './slot-book';
import {
  cumulativeMeter,
  intervalMeter,
  MeterScenario,
  q,
  reading,
  registerReading,
  SHANGHAI,
  T0,
} from './test-support/meter-scenario';
import { DEFAULT_METER_OPTIONS } from './model';

const small = { ...DEFAULT_METER_OPTIONS, recentWindowIntervals: 8 };

describe('the state keeps a bounded window; older intervals come from the read model', () => {
  // A window of 8 intervals: after q(0)..q(19) the state holds q(12)..q(19).
  function twentyIntervals(registration = intervalMeter): MeterScenario {
    const scenario = new MeterScenario(registration, small);
    const readings = Array.from({ length: 20 }, (_, k) =>
      registration.registerType === 'cumulative'
        ? registerReading(k, String(100 + k))
        : reading(k, '10'),
    );
    return scenario.givenReadings(q(20), readings);
  }

  it('keeps only the window in state, and the coverage as one range', () => {
    const state = twentyIntervals().registered;
    expect(Object.keys(state.slots)).toEqual([12, 13, 14, 15, 16, 17, 18, 19].map(q));
    expect(state.windowStart).toBe(q(12));
    expect(state.coverage).toEqual([[q(0), q(20)]]);
  });

  it('lists what a command needs from the read model, with a cumulative meter`s neighbours', () => {
    const interval = twentyIntervals();
    const command = {
      type: 'IngestReadings' as const,
      meterId: 'm-int',
      now: q(20),
      readings: [reading(3, '10'), reading(15, '10')],
    };
    expect(historyNeeded(command, interval.state)).toEqual([q(3)]);
    const cumulative = twentyIntervals(cumulativeMeter);
    expect(
      historyNeeded(
        { ...command, meterId: 'm-cum', readings: [registerReading(3, '103')] },
        cumulative.state,
      ),
    ).toEqual([q(2), q(3), q(4)]);
  });

  it('refuses to guess about an old interval it was not given', () => {
    const scenario = twentyIntervals();
    expect(() => scenario.whenIngest(q(20), [reading(3, '10')])).toThrow(
      new HistoryRequiredError([q(3)]),
    );
  });

  it('decides duplicates and corrections of old intervals from the history rows', () => {
    const scenario = twentyIntervals();
    const history = {
      [q(3)]: { value: '10', quality: 'measured' as const, source: 'gateway:gw-1' },
    };
    expect(scenario.whenIngest(q(20), [reading(3, '10')], history)).toEqual({
      events: [],
      results: [{ index: 0, intervalStart: q(3), status: 'duplicate' }],
    });
    const { events } = scenario.whenIngest(q(20), [reading(3, '11')], history);
    expect(events).toMatchObject([
      { type: 'ReadingCorrected', intervalStart: q(3), oldValue: '10', newValue: '11' },
    ]);
    // The window did not take the old interval back in.
    expect(scenario.registered.slots[q(3)]).toBeUndefined();
  });

  it('holds a year of 15-minute readings in a few hundred intervals of state', () => {
    const scenario = new MeterScenario(intervalMeter);
    const days = 365;
    for (let day = 0; day < days; day++) {
      const readings = Array.from({ length: 96 }, (_, k) => reading(day * 96 + k, '1.25'));
      scenario.givenReadings(q((day + 1) * 96), readings);
    }
    const state = scenario.registered;
    // 365 x 96 = 35,040 intervals recorded; the state keeps 192 and one coverage range.
    expect(scenario.history).toHaveLength(365 + 1);
    expect(Object.keys(state.slots)).toHaveLength(192);
    expect(state.coverage).toEqual([[q(0), q(days * 96)]]);
    expect(JSON.stringify(state).length).toBeLessThan(40_000);
  });
});

describe('work at the window`s edge', () => {
  it('leaves an estimate whose start register is behind the window alone instead of asking for it', () => {
    // Registers 100 at q(0), 101 at q(1), none at q(2) and q(3), 104 at q(4), 105 at q(5):
    // q(2)..q(4) are estimated at (104 - 101) x 40 / 3 = 40 each.
    const scenario = new MeterScenario(cumulativeMeter, small)
      .givenReadings(
        q(12),
        [100, 101, null, null, 104, 105].flatMap((register, k) =>
          register === null ? [] : [registerReading(k, String(register))],
        ),
      )
      .given({ type: 'FillGaps', meterId: 'm-cum', now: q(10) });
    expect(scenario.registered.slots[q(2)]).toMatchObject({ value: '40', quality: 'estimated' });
    // q(6)..q(9) move the window (8 intervals) to start at the estimated q(2).
    scenario.givenReadings(
      q(12),
      [6, 7, 8, 9].map((k) => registerReading(k, String(100 + k))),
    );
    expect(scenario.registered.windowStart).toBe(q(2));
    // q(1)'s register is behind the window now; a new reading must not need it.
    const { results } = scenario.whenIngest(q(12), [registerReading(10, '110')]);
    expect(results[0]).toMatchObject({ status: 'accepted', value: '40' });
  });
});

describe('daily meters align to the park`s midnight', () => {
  const water = {
    ...intervalMeter,
    meterId: 'm-water',
    commodity: 'water',
    role: 'sub_meter',
    unit: 'm3',
    ratedPowerKw: undefined,
    intervalMinutes: 1440,
    timeZone: SHANGHAI,
  };

  it('takes 16:00 UTC (00:00 in Shanghai) as a day start and rejects UTC midnight', () => {
    const scenario = new MeterScenario(water);
    const now = new Date(T0 + 2 * 86_400_000).toISOString();
    const { results, events } = scenario.whenIngest(now, [
      { intervalStart: '2025-03-09T16:00:00Z', value: '12.5', unit: 'm3', source: 'gateway:gw-9' },
      { intervalStart: '2025-03-10T00:00:00Z', value: '12.5', unit: 'm3', source: 'gateway:gw-9' },
    ]);
    expect(results[0]).toMatchObject({ status: 'accepted' });
    expect(results[1]).toMatchObject({
      status: 'rejected',
      field: 'readings[1].interval_start',
      reason:
        '2025-03-10T00:00:00.000Z is not an interval start of this 1440-minute meter: intervals start at local midnight in Asia/Shanghai',
    });
    expect(events).toMatchObject([
      {
        type: 'ReadingsRecorded',
        readings: [
          { intervalStart: '2025-03-09T16:00:00.000Z', intervalEnd: '2025-03-10T16:00:00.000Z' },
        ],
      },
    ]);
  });
});
