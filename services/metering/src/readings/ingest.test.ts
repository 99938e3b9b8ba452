import { NotFoundError } from '@park/service-kit/errors';
import { meterDecider } from './meter';
import {
  descriptor,
  intervalMeter,
  MeterScenario,
  q,
  reading,
  T0,
} from './test-support/meter-scenario';

const meter = descriptor(intervalMeter);
/** 03:00 UTC on the test day: intervals up to q(11) (02:45-03:00) have ended. */
const NOW = q(12);

describe('ingesting interval readings', () => {
  it('records a batch as measured, with the meter descriptor on the event', () => {
    const scenario = new MeterScenario(intervalMeter);
    const { events, results } = scenario.whenIngest(NOW, [reading(0, '10'), reading(1, '12.50')]);
    expect(results).toEqual([
      { index: 0, intervalStart: q(0), status: 'accepted', value: '10' },
      { index: 1, intervalStart: q(1), status: 'accepted', value: '12.5' },
    ]);
    expect(events).toEqual([
      {
        type: 'ReadingsRecorded',
        meter,
        readings: [
          {
            intervalStart: q(0),
            intervalEnd: q(1),
            value: '10',
            quality: 'measured',
            source: 'gateway:gw-1',
          },
          {
            intervalStart: q(1),
            intervalEnd: q(2),
            value: '12.5',
            quality: 'measured',
            source: 'gateway:gw-1',
          },
        ],
      },
    ]);
  });

  it('takes the same value again as a duplicate and records nothing, in any notation or unit', () => {
    const scenario = new MeterScenario(intervalMeter).givenReadings(NOW, [reading(0, '1.5')]);
    const { events, results } = scenario.whenIngest(NOW, [reading(0, '1.5')]);
    expect(events).toEqual([]);
    expect(results).toEqual([{ index: 0, intervalStart: q(0), status: 'duplicate' }]);
    // 1.50 = 1.5, and 0.0015 MWh = 1.5 kWh: the same quantity.
    expect(scenario.whenIngest(NOW, [reading(0, '1.50')]).events).toEqual([]);
    expect(scenario.whenIngest(NOW, [reading(0, '0.0015', { unit: 'MWh' })]).results).toEqual([
      { index: 0, intervalStart: q(0), status: 'duplicate' },
    ]);
  });

  it('turns a changed value into exactly one ReadingCorrected with old and new value, reason and source', () => {
    const scenario = new MeterScenario(intervalMeter).givenReadings(NOW, [reading(0, '1.5')]);
    const { events, results } = scenario.whenIngest(NOW, [
      reading(0, '1.7', { source: 'csv:upload-7', reason: 'gateway re-read after outage' }),
    ]);
    expect(results).toEqual([
      { index: 0, intervalStart: q(0), status: 'corrected', oldValue: '1.5', newValue: '1.7' },
    ]);
    expect(events).toEqual([
      {
        type: 'ReadingCorrected',
        meter,
        intervalStart: q(0),
        intervalEnd: q(1),
        oldValue: '1.5',
        newValue: '1.7',
        oldQuality: 'measured',
        newQuality: 'measured',
        reason: 'gateway re-read after outage',
        source: 'csv:upload-7',
      },
    ]);
    // The corrected value is now the one a resend is compared with.
    expect(scenario.whenIngest(NOW, [reading(0, '1.7')]).results[0]!.status).toBe('duplicate');
  });

  it('applies the CT/PT multiplier to interval values', () => {
    const scenario = new MeterScenario({
      ...intervalMeter,
      multiplier: '40',
      ratedPowerKw: undefined,
    });
    // 2.5 kWh on the secondary side x 40 = 100 kWh
    expect(scenario.whenIngest(NOW, [reading(0, '2.5')]).results[0]).toMatchObject({
      value: '100',
    });
  });

  it('answers the same interval twice in one batch: a repeat is a duplicate, a conflict is rejected', () => {
    const scenario = new MeterScenario(intervalMeter);
    const { results, events } = scenario.whenIngest(NOW, [
      reading(0, '5'),
      reading(0, '5.0'),
      reading(0, '6'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['accepted', 'duplicate', 'rejected']);
    expect(results[2]).toMatchObject({
      field: 'readings[2].interval_start',
      reason: 'readings[0] has a different value for the same interval in this batch',
    });
    expect(events).toHaveLength(1);
  });

  it('says a meter that is not registered is not found (the adapter answers unknown meters)', () => {
    expect(() =>
      meterDecider.decide(
        { type: 'IngestReadings', meterId: 'nope', now: NOW, readings: [reading(0, '1')] },
        meterDecider.initialState(),
      ),
    ).toThrow(NotFoundError);
  });
});

describe('VEE: bad readings are rejected one by one, naming the field, and the good ones are kept', () => {
  it('handles a batch with one of every problem', () => {
    const scenario = new MeterScenario(intervalMeter);
    const ninetyOneDaysAgo = new Date(T0 - 91 * 86_400_000).toISOString();
    const { events, results } = scenario.whenIngest(NOW, [
      /* 0 */ reading(0, '10'),
      /* 1 */ reading(1, '10', { unit: 'Nm3' }),
      /* 2 */ reading(2, 'NaN'),
      /* 3 */ reading(3, '-3'),
      // 100 kW x 0.25 h = 25 kWh at most; 30 is a spike.
      /* 4 */ reading(4, '30'),
      // q(12) to q(13) ends at 03:15, more than 5 minutes after now (03:00).
      /* 5 */ reading(12, '10'),
      /* 6 */ { ...reading(0, '10'), intervalStart: '2025-03-10T00:07:00Z' },
      /* 7 */ { ...reading(0, '10'), intervalStart: ninetyOneDaysAgo },
      /* 8 */ reading(5, '1e3'),
      /* 9 */ reading(6, '4', { source: '' }),
      /* 10 */ { ...reading(7, '4'), register: '100' },
      /* 11 */ { ...reading(8, '4'), intervalStart: '2025-03-10 02:00' },
      /* 12 */ reading(9, '12.5'),
    ]);
    expect(results).toEqual([
      { index: 0, intervalStart: q(0), status: 'accepted', value: '10' },
      {
        index: 1,
        intervalStart: q(1),
        status: 'rejected',
        field: 'readings[1].unit',
        reason: "'Nm3' does not fit this electricity meter, metered in kWh",
      },
      {
        index: 2,
        intervalStart: q(2),
        status: 'rejected',
        field: 'readings[2].value',
        reason: `'NaN' is not a decimal number such as "12.5"`,
      },
      {
        index: 3,
        intervalStart: q(3),
        status: 'rejected',
        field: 'readings[3].value',
        reason: 'negative consumption (-3 kWh) is not a reading',
      },
      {
        index: 4,
        intervalStart: q(4),
        status: 'held',
        reason:
          "value 30 kWh exceeds the meter's physical maximum of 25 kWh per 15-minute interval (rated power 100 kW)",
      },
      {
        index: 5,
        intervalStart: q(12),
        status: 'rejected',
        field: 'readings[5].interval_start',
        reason:
          'the interval ends at 2025-03-10T03:15:00.000Z, more than 5 minutes after now (2025-03-10T03:00:00.000Z)',
      },
      {
        index: 6,
        intervalStart: '2025-03-10T00:07:00.000Z',
        status: 'rejected',
        field: 'readings[6].interval_start',
        reason:
          '2025-03-10T00:07:00.000Z is not an interval start of this 15-minute meter: intervals start at a multiple of 15 minutes in UTC',
      },
      {
        index: 7,
        intervalStart: ninetyOneDaysAgo,
        status: 'rejected',
        field: 'readings[7].interval_start',
        // now 2025-03-10T03:00Z - 90 days = 2024-12-10T03:00Z
        reason:
          'the interval ended before 2024-12-10T03:00:00.000Z, outside the 90-day late-data window',
      },
      {
        index: 8,
        intervalStart: q(5),
        status: 'rejected',
        field: 'readings[8].value',
        reason: `'1e3' is not a decimal number such as "12.5"`,
      },
      {
        index: 9,
        intervalStart: q(6),
        status: 'rejected',
        field: 'readings[9].source',
        reason: 'say where the reading comes from, e.g. gateway:gw-17',
      },
      {
        index: 10,
        intervalStart: q(7),
        status: 'rejected',
        field: 'readings[10].register',
        reason: 'an interval meter reports the interval value, not a register',
      },
      {
        index: 11,
        intervalStart: '2025-03-10 02:00',
        status: 'rejected',
        field: 'readings[11].interval_start',
        reason:
          "'2025-03-10 02:00' is not an ISO 8601 instant with an offset, e.g. 2025-01-01T00:00:00Z",
      },
      { index: 12, intervalStart: q(9), status: 'accepted', value: '12.5' },
    ]);
    expect(events).toEqual([
      {
        type: 'ReadingsRecorded',
        meter,
        readings: [
          {
            intervalStart: q(0),
            intervalEnd: q(1),
            value: '10',
            quality: 'measured',
            source: 'gateway:gw-1',
          },
          {
            intervalStart: q(9),
            intervalEnd: q(10),
            value: '12.5',
            quality: 'measured',
            source: 'gateway:gw-1',
          },
        ],
      },
      {
        type: 'ReadingsHeld',
        meter,
        readings: [
          {
            intervalStart: q(4),
            intervalEnd: q(5),
            value: '30',
            source: 'gateway:gw-1',
            reason: results[4]!.status === 'held' ? results[4]!.reason : '',
            limit: '25',
          },
        ],
      },
    ]);
  });

  it('allows five minutes of clock skew on an interval end', () => {
    // q(11) ends at 03:00: at 02:55:00 that is 5 minutes ahead, still accepted; at 02:54:59 not.
    const onTime = new MeterScenario(intervalMeter).whenIngest('2025-03-10T02:55:00Z', [
      reading(11, '1'),
    ]);
    expect(onTime.results[0]!.status).toBe('accepted');
    const early = new MeterScenario(intervalMeter).whenIngest('2025-03-10T02:54:59Z', [
      reading(11, '1'),
    ]);
    expect(early.results[0]).toMatchObject({
      status: 'rejected',
      field: 'readings[0].interval_start',
    });
  });

  it('rejects readings of a decommissioned meter after its end, and keeps late data from before', () => {
    const scenario = new MeterScenario(intervalMeter).given({
      type: 'DecommissionMeter',
      meterId: 'm-int',
      at: q(4),
    });
    const { results } = scenario.whenIngest(NOW, [reading(3, '2'), reading(4, '2')]);
    expect(results).toEqual([
      { index: 0, intervalStart: q(3), status: 'accepted', value: '2' },
      {
        index: 1,
        intervalStart: q(4),
        status: 'rejected',
        field: 'meter_id',
        reason: `meter m-int was decommissioned at ${q(4)}; this interval ends after that`,
      },
    ]);
  });

  it('rejects a state of charge above 100 %', () => {
    const soc = new MeterScenario({
      ...intervalMeter,
      meterId: 'm-soc',
      role: 'storage_soc',
      unit: '%',
      ratedPowerKw: undefined,
    });
    const { results } = soc.whenIngest(NOW, [
      reading(0, '100', { unit: '%' }),
      reading(1, '100.1', { unit: '%' }),
      reading(2, '50', { unit: 'kWh' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'rejected']);
    expect(results[1]).toMatchObject({ field: 'readings[1].value' });
    expect(results[2]).toMatchObject({ field: 'readings[2].unit' });
  });
});
