import { PreconditionError, ValidationError } from '@park/service-kit/errors';
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
const meter = descriptor(intervalMeter);
const SPIKE =
  "value 30 kWh exceeds the meter's physical maximum of 25 kWh per 15-minute interval (rated power 100 kW)";

/** 100 kW rated: 25 kWh per interval at most, so 30 kWh at q(1) is held. */
function withHeldSpike(): MeterScenario {
  return new MeterScenario(intervalMeter).givenReadings(NOW, [reading(0, '10'), reading(1, '30')]);
}

describe('spikes are held for an operator', () => {
  it('keeps a held value out of the recorded series', () => {
    const scenario = withHeldSpike();
    expect(scenario.registered.slots[q(1)]).toBeUndefined();
    expect(scenario.registered.held[q(1)]).toEqual({
      value: '30',
      source: 'gateway:gw-1',
      reason: SPIKE,
      limit: '25',
    });
    // The same spike resent is a duplicate, not a second hold.
    expect(scenario.whenIngest(NOW, [reading(1, '30')])).toEqual({
      events: [],
      results: [{ index: 0, intervalStart: q(1), status: 'duplicate' }],
    });
  });

  it('records it as measured when the operator accepts it', () => {
    const scenario = withHeldSpike();
    expect(
      scenario.when({
        type: 'AcceptReading',
        meterId: 'm-int',
        intervalStart: q(1),
        reason: 'furnace test run, confirmed by the shift log',
      }),
    ).toEqual([
      {
        type: 'HeldReadingResolved',
        meter,
        intervalStart: q(1),
        resolution: 'accepted',
        reason: 'furnace test run, confirmed by the shift log',
      },
      {
        type: 'ReadingsRecorded',
        meter,
        readings: [
          {
            intervalStart: q(1),
            intervalEnd: q(2),
            value: '30',
            quality: 'measured',
            source: 'gateway:gw-1',
          },
        ],
      },
    ]);
    expect(scenario.registered.held).toEqual({});
  });

  it('records the operator value as edited when the operator corrects it', () => {
    const scenario = withHeldSpike();
    const events = scenario.when({
      type: 'CorrectReading',
      meterId: 'm-int',
      intervalStart: q(1),
      value: '3.0',
      reason: 'decimal point lost by the gateway',
      source: 'operator:li.wei',
    });
    expect(events).toEqual([
      {
        type: 'HeldReadingResolved',
        meter,
        intervalStart: q(1),
        resolution: 'corrected',
        reason: 'decimal point lost by the gateway',
      },
      {
        type: 'ReadingsRecorded',
        meter,
        readings: [
          {
            intervalStart: q(1),
            intervalEnd: q(2),
            value: '3',
            quality: 'edited',
            source: 'operator:li.wei',
          },
        ],
      },
    ]);
    // An operator's value is not overwritten by a gateway resend.
    expect(scenario.whenIngest(NOW, [reading(1, '4')]).results[0]).toMatchObject({
      status: 'rejected',
      field: 'readings[0].value',
      reason: 'an operator edited this interval (value 3); change it with CorrectReading',
    });
  });

  it('drops it when the operator rejects it', () => {
    const scenario = withHeldSpike();
    expect(
      scenario.when({
        type: 'RejectHeldReading',
        meterId: 'm-int',
        intervalStart: q(1),
        reason: 'meter was being tested',
      }),
    ).toEqual([
      {
        type: 'HeldReadingResolved',
        meter,
        intervalStart: q(1),
        resolution: 'rejected',
        reason: 'meter was being tested',
      },
    ]);
    expect(scenario.registered.held).toEqual({});
    expect(scenario.registered.slots[q(1)]).toBeUndefined();
  });

  it('lets a plausible newer reading supersede the hold', () => {
    const scenario = withHeldSpike();
    const { events, results } = scenario.whenIngest(NOW, [reading(1, '3')]);
    expect(results[0]).toMatchObject({ status: 'accepted', value: '3' });
    expect(events.map((e) => e.type)).toEqual(['ReadingsRecorded', 'HeldReadingResolved']);
    expect(events[1]).toMatchObject({ resolution: 'superseded' });
  });

  it('wants a reason and a held reading', () => {
    const scenario = withHeldSpike();
    const noReason = scenario.whenError({
      type: 'AcceptReading',
      meterId: 'm-int',
      intervalStart: q(1),
      reason: ' ',
    });
    expect(noReason).toBeInstanceOf(ValidationError);
    expect((noReason as ValidationError).violations[0]!.field).toBe('reason');
    expect(
      scenario.whenError({
        type: 'AcceptReading',
        meterId: 'm-int',
        intervalStart: q(0),
        reason: 'ok',
      }),
    ).toBeInstanceOf(PreconditionError);
  });

  it('lets an operator edit any interval, with a reason', () => {
    const scenario = new MeterScenario(intervalMeter).givenReadings(NOW, [reading(0, '10')]);
    expect(
      scenario.when({
        type: 'CorrectReading',
        meterId: 'm-int',
        intervalStart: q(0),
        value: '9',
        reason: 'calibration offset',
      }),
    ).toEqual([
      {
        type: 'ReadingCorrected',
        meter,
        intervalStart: q(0),
        intervalEnd: q(1),
        oldValue: '10',
        newValue: '9',
        oldQuality: 'measured',
        newQuality: 'edited',
        reason: 'calibration offset',
        source: 'operator',
      },
    ]);
    const negative = scenario.whenError({
      type: 'CorrectReading',
      meterId: 'm-int',
      intervalStart: q(0),
      value: '-1',
      reason: 'x',
    });
    expect((negative as ValidationError).violations[0]!.field).toBe('value');
  });
});

describe('spikes on a cumulative meter hold the register', () => {
  // multiplier 40, 200 kWh per interval at most = 5 register units.
  it('holds a register jump and waits for review before using it as a base', () => {
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '1000'),
      registerReading(1, '1001'),
    ]);
    // (1100 - 1001) x 40 = 3960 kWh > 200: held.
    expect(scenario.whenIngest(NOW, [registerReading(2, '1100')]).results[0]).toMatchObject({
      status: 'held',
    });
    // The next register cannot be differenced against a held one: kept, value pending.
    expect(scenario.whenIngest(NOW, [registerReading(3, '1101')]).results[0]).toEqual({
      index: 0,
      intervalStart: q(3),
      status: 'accepted',
    });
    // Accepting it records q(2) = 3960 and now q(3) = (1101 - 1100) x 40 = 40.
    const events = scenario.when({
      type: 'AcceptReading',
      meterId: 'm-cum',
      intervalStart: q(2),
      reason: 'register confirmed on site',
    });
    expect(events).toMatchObject([
      { type: 'HeldReadingResolved', resolution: 'accepted' },
      {
        type: 'ReadingsRecorded',
        readings: [
          { intervalStart: q(2), value: '3960', register: '1100', quality: 'measured' },
          { intervalStart: q(3), value: '40', register: '1101', quality: 'measured' },
        ],
      },
    ]);
  });

  it('moves the register with an operator edit so the next interval absorbs the difference', () => {
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '1000'),
      registerReading(1, '1001'),
      registerReading(2, '1003'),
    ]);
    // q(1) = (1001 - 1000) x 40 = 40, q(2) = (1003 - 1001) x 40 = 80; total 120.
    // Edit q(1) to 60: register at its end becomes 1000 + 60 / 40 = 1001.5,
    // so q(2) = (1003 - 1001.5) x 40 = 60, and 60 + 60 = 120 still.
    const events = scenario.when({
      type: 'CorrectReading',
      meterId: 'm-cum',
      intervalStart: q(1),
      value: '60',
      reason: 'CT wiring fault during commissioning',
    });
    expect(events).toMatchObject([
      {
        type: 'ReadingCorrected',
        intervalStart: q(1),
        oldValue: '40',
        newValue: '60',
        newQuality: 'edited',
        oldRegister: '1001',
        register: '1001.5',
        registerEdited: true,
      },
      {
        type: 'ReadingCorrected',
        intervalStart: q(2),
        oldValue: '80',
        newValue: '60',
        newQuality: 'edited',
        reason: 'previous interval edited',
      },
    ]);
  });
});
