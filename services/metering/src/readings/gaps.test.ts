import type { MeterEvent } from './model';
import {
  cumulativeMeter,
  descriptor,
  intervalMeter,
  MeterScenario,
  q,
  reading,
  registerReading,
} from './test-support/meter-scenario';

const NOW = q(12);
const fillGaps = (meterId: string, now: string) => ({ type: 'FillGaps' as const, meterId, now });

describe('short gaps are estimated after the grace delay', () => {
  // Values at q(1) = 10 and q(5) = 18, nothing at q(2), q(3), q(4).
  function intervalGap(): MeterScenario {
    return new MeterScenario(intervalMeter).givenReadings(NOW, [
      reading(0, '9'),
      reading(1, '10'),
      reading(5, '18'),
      reading(6, '11'),
    ]);
  }

  it('waits for late data until the gap ended more than an hour ago', () => {
    // The gap ends at q(5) = 01:15; 01:15 + 60 min = 02:15 = q(9).
    expect(intervalGap().when(fillGaps('m-int', '2025-03-10T02:14:59Z'))).toEqual([]);
  });

  it('interpolates an interval meter linearly between the neighbouring values', () => {
    // v_m = 10 + (18 - 10) x m / (3 + 1): m = 1, 2, 3 -> 12, 14, 16
    expect(intervalGap().when(fillGaps('m-int', q(9)))).toEqual([
      {
        type: 'ReadingsEstimated',
        meter: descriptor(intervalMeter),
        method: 'linear_interpolation',
        basis: { before: '10', after: '18' },
        readings: [
          { intervalStart: q(2), intervalEnd: q(3), value: '12' },
          { intervalStart: q(3), intervalEnd: q(4), value: '14' },
          { intervalStart: q(4), intervalEnd: q(5), value: '16' },
        ],
      },
    ]);
  });

  it('lets measured data supersede an estimate and re-bases the estimates around it', () => {
    const scenario = intervalGap().given(fillGaps('m-int', q(9)));
    const { events, results } = scenario.whenIngest(q(13), [reading(3, '15')]);
    expect(results).toEqual([{ index: 0, intervalStart: q(3), status: 'accepted', value: '15' }]);
    // q(3): 14 (estimated) -> 15 (measured).
    // q(2) between 10 and 15: 10 + 5 x 1/2 = 12.5;  q(4) between 15 and 18: 15 + 3 x 1/2 = 16.5
    expect(events).toMatchObject([
      {
        type: 'ReadingCorrected',
        intervalStart: q(2),
        oldValue: '12',
        newValue: '12.5',
        newQuality: 'estimated',
        reason: 'estimate revised after new data',
        source: 'vee',
      },
      {
        type: 'ReadingCorrected',
        intervalStart: q(3),
        oldValue: '14',
        newValue: '15',
        oldQuality: 'estimated',
        newQuality: 'measured',
        reason: 'measured supersedes estimate',
        source: 'gateway:gw-1',
      },
      {
        type: 'ReadingCorrected',
        intervalStart: q(4),
        oldValue: '16',
        newValue: '16.5',
        newQuality: 'estimated',
        reason: 'estimate revised after new data',
      },
    ]);
  });

  // Registers (read at each interval's end): q(0) 999.00, q(1) 1000.00, q(4) 1002.50, q(5) 1003.00.
  // The registers at the ends of q(2) and q(3) are missing, so q(2), q(3) and q(4) have no value:
  // two missing registers leave three intervals (the gap and the interval after it) unmeasured.
  function cumulativeGap(): MeterScenario {
    return new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '999.00'),
      registerReading(1, '1000.00'),
      registerReading(4, '1002.50'),
      registerReading(5, '1003.00'),
    ]);
  }

  it('prorates a cumulative meter register difference evenly, the last interval taking the remainder', () => {
    // D = (1002.50 - 1000.00) x 40 = 100 kWh over k = 3 intervals:
    //   100 / 3 = 33.3333333... rounded down to 6 places = 33.333333 for q(2) and q(3),
    //   q(4) = 100 - 2 x 33.333333 = 33.333334; 33.333333 + 33.333333 + 33.333334 = 100.
    expect(cumulativeGap().when(fillGaps('m-cum', q(9)))).toEqual([
      {
        type: 'ReadingsEstimated',
        meter: descriptor(cumulativeMeter),
        method: 'prorated_register_difference',
        basis: { before: '1000', after: '1002.5' },
        readings: [
          { intervalStart: q(2), intervalEnd: q(3), value: '33.333333' },
          { intervalStart: q(3), intervalEnd: q(4), value: '33.333333' },
          { intervalStart: q(4), intervalEnd: q(5), value: '33.333334' },
        ],
      },
    ]);
  });

  it('keeps a cumulative meter adding up to its registers when a late register arrives', () => {
    const scenario = cumulativeGap().given(fillGaps('m-cum', q(9)));
    // Late register at the end of q(3): 1001.80.
    //   q(4) = (1002.50 - 1001.80) x 40 = 0.70 x 40 = 28, measured.
    //   q(2), q(3) re-prorated from 1000.00 to 1001.80: 1.80 x 40 = 72 -> 36 each.
    //   36 + 36 + 28 = 100 = (1002.50 - 1000.00) x 40, as before.
    const { events } = scenario.whenIngest(q(13), [registerReading(3, '1001.80')]);
    expect(events).toMatchObject([
      {
        type: 'ReadingCorrected',
        intervalStart: q(2),
        oldValue: '33.333333',
        newValue: '36',
        newQuality: 'estimated',
      },
      {
        type: 'ReadingCorrected',
        intervalStart: q(3),
        oldValue: '33.333333',
        newValue: '36',
        newQuality: 'estimated',
        register: '1001.8',
      },
      {
        type: 'ReadingCorrected',
        intervalStart: q(4),
        oldValue: '33.333334',
        newValue: '28',
        newQuality: 'measured',
        reason: 'measured supersedes estimate',
      },
    ]);
    expect(events).toHaveLength(3);
  });

  it('does not estimate across a held reading: the operator decides first', () => {
    const scenario = new MeterScenario(intervalMeter).givenReadings(NOW, [
      reading(0, '10'),
      reading(2, '99'), // held: 99 > 25 kWh
      reading(4, '10'),
    ]);
    expect(scenario.when(fillGaps('m-int', q(12)))).toEqual([]);
  });
});

describe('long gaps are reported, once, and closed by late data', () => {
  // q(0) = 10, nothing from q(1) to q(10), q(11) = 20: ten missing intervals.
  function longGap(): MeterScenario {
    return new MeterScenario(intervalMeter).givenReadings(NOW, [
      reading(0, '10'),
      reading(11, '20'),
    ]);
  }

  const detected: MeterEvent = {
    type: 'GapDetected',
    meter: descriptor(intervalMeter),
    start: q(1),
    end: q(11),
    missingIntervals: 10,
  };

  it('reports a gap of more than 4 intervals as GapDetected once, without estimating', () => {
    const scenario = longGap();
    // The gap ends at q(11) = 02:45; reported from 03:45 = q(15).
    expect(scenario.when(fillGaps('m-int', q(14)))).toEqual([]);
    expect(scenario.when(fillGaps('m-int', q(15)))).toEqual([detected]);
    expect(scenario.when(fillGaps('m-int', q(20)))).toEqual([]);
  });

  it('fills a reported gap with late data and closes it', () => {
    const scenario = longGap().given(fillGaps('m-int', q(15)));
    const late = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => reading(k, String(10 + k)));
    const { events, results } = scenario.whenIngest(q(16), late);
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['ReadingsRecorded', 'GapClosed']);
    expect(events[1]).toEqual({
      type: 'GapClosed',
      meter: descriptor(intervalMeter),
      start: q(1),
      end: q(11),
    });
    expect(scenario.registered.gaps).toEqual([]);
  });

  it('estimates what is left of a reported gap once it is short, and then closes it', () => {
    const scenario = longGap().given(fillGaps('m-int', q(15)));
    // Late data for q(1)..q(6) = 11..16 leaves q(7)..q(10): 4 intervals between 16 and 20.
    scenario.givenReadings(
      q(16),
      [1, 2, 3, 4, 5, 6].map((k) => reading(k, String(10 + k))),
    );
    // v_m = 16 + (20 - 16) x m / 5: 16.8, 17.6, 18.4, 19.2
    const events = scenario.when(fillGaps('m-int', q(16)));
    expect(events).toMatchObject([
      {
        type: 'ReadingsEstimated',
        readings: [
          { intervalStart: q(7), value: '16.8' },
          { intervalStart: q(8), value: '17.6' },
          { intervalStart: q(9), value: '18.4' },
          { intervalStart: q(10), value: '19.2' },
        ],
      },
      { type: 'GapClosed', start: q(1), end: q(11) },
    ]);
  });

  it('counts a cumulative gap in intervals without a value', () => {
    // Registers at q(0) and q(1), none from q(2) to q(6), then q(7): five missing registers
    // leave q(2)..q(7), six intervals, without a value; q(8) gives q(7)'s neighbour a value.
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '100'),
      registerReading(1, '101'),
      registerReading(7, '110'),
      registerReading(8, '111'),
    ]);
    expect(scenario.when(fillGaps('m-cum', q(13)))).toEqual([
      {
        type: 'GapDetected',
        meter: descriptor(cumulativeMeter),
        start: q(2),
        end: q(8),
        missingIntervals: 6,
      },
    ]);
  });
});
