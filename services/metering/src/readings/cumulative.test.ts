import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import type { RegisterMeter } from '../registry/meter-registration';
import type { MeterEvent } from './model';
import {
  cumulativeMeter,
  descriptor,
  MeterScenario,
  q,
  registerReading,
} from './test-support/meter-scenario';

const NOW = q(12);
const meter = descriptor(cumulativeMeter);

function recordedValues(events: MeterEvent[]): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const event of events) {
    if (event.type === 'ReadingsRecorded') {
      for (const r of event.readings) values[r.intervalStart] = r.value;
    }
    if (event.type === 'ReadingCorrected') values[event.intervalStart] = event.newValue;
  }
  return values;
}

describe('cumulative registers become interval values', () => {
  // Multiplier 40, register wraps at 100000, at most 200 kWh (5 register units) per interval.
  // Each register is read at the END of its interval.
  it('differences registers times the multiplier, across a rollover and a meter swap', () => {
    const scenario = new MeterScenario(cumulativeMeter);
    const first = scenario.whenIngest(NOW, [
      registerReading(0, '99995.00'), // first register: the base, no interval value yet
      registerReading(1, '99996.50'), // (99996.50 - 99995.00) x 40 = 1.50 x 40 = 60
      registerReading(2, '99998.50'), // (99998.50 - 99996.50) x 40 = 2.00 x 40 = 80
      registerReading(3, '1.25'), //     rollover: 100000 - 99998.50 + 1.25 = 2.75; x 40 = 110
      registerReading(4, '3.00'), //     (3.00 - 1.25) x 40 = 1.75 x 40 = 70
    ]);
    expect(first.results.map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
    ]);
    expect(first.events).toEqual([
      {
        type: 'ReadingsRecorded',
        meter,
        readings: [
          {
            intervalStart: q(0),
            intervalEnd: q(1),
            quality: 'measured',
            source: 'gateway:gw-1',
            register: '99995',
          },
          {
            intervalStart: q(1),
            intervalEnd: q(2),
            value: '60',
            quality: 'measured',
            source: 'gateway:gw-1',
            register: '99996.5',
          },
          {
            intervalStart: q(2),
            intervalEnd: q(3),
            value: '80',
            quality: 'measured',
            source: 'gateway:gw-1',
            register: '99998.5',
          },
          {
            intervalStart: q(3),
            intervalEnd: q(4),
            value: '110',
            quality: 'measured',
            source: 'gateway:gw-1',
            register: '1.25',
          },
          {
            intervalStart: q(4),
            intervalEnd: q(5),
            value: '70',
            quality: 'measured',
            source: 'gateway:gw-1',
            register: '3',
          },
        ],
      },
    ]);

    // Swap at q(6) = 01:30: the old register read 4.50 then, which closes q(5):
    // (4.50 - 3.00) x 40 = 1.50 x 40 = 60. The new meter starts at 0.20 behind 100/5 A CTs (x 20).
    const swap = scenario.when({
      type: 'ReplaceMeter',
      meterId: 'm-cum',
      at: q(6),
      now: NOW,
      oldFinalRegister: '4.50',
      newFirstRegister: '0.20',
      multiplier: '20',
    });
    expect(swap).toEqual([
      {
        type: 'MeterReplaced',
        meterId: 'm-cum',
        at: q(6),
        oldFinalRegister: '4.5',
        newFirstRegister: '0.2',
        multiplier: '20',
        registerMaximum: '100000',
        // The registration after the swap: the new meter's multiplier.
        current: { registration: expect.objectContaining({ meterId: 'm-cum', multiplier: '20' }) },
      },
      {
        type: 'ReadingsRecorded',
        meter,
        readings: [
          {
            intervalStart: q(5),
            intervalEnd: q(6),
            value: '60',
            quality: 'measured',
            source: 'meter_replacement',
            register: '4.5',
          },
        ],
      },
    ]);

    const after = scenario.whenIngest(NOW, [
      registerReading(6, '2.70'), // from the new first register: (2.70 - 0.20) x 20 = 2.50 x 20 = 50
      registerReading(7, '6.20'), // (6.20 - 2.70) x 20 = 3.50 x 20 = 70
    ]);
    expect(recordedValues(after.events)).toEqual({ [q(6)]: '50', [q(7)]: '70' });
    // 60 + 80 + 110 + 70 + 60 + 50 + 70 = 500 kWh from q(1) to q(7).
  });

  it('computes intervals from registers that arrive out of order', () => {
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '500'),
      registerReading(2, '503'),
    ]);
    // q(2) waited for q(1)'s register; now q(1) = (501.5 - 500) x 40 = 60, q(2) = (503 - 501.5) x 40 = 60
    const { events, results } = scenario.whenIngest(NOW, [registerReading(1, '501.5')]);
    expect(results).toEqual([{ index: 0, intervalStart: q(1), status: 'accepted', value: '60' }]);
    expect(recordedValues(events)).toEqual({ [q(1)]: '60', [q(2)]: '60' });
  });

  it('rejects a register that went down when a rollover is implausible', () => {
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '3.00'),
    ]);
    // 2.00 < 3.00: as a wrap it would be 100000 - 3 + 2 = 99999 units x 40 = 3999960 kWh > 200.
    const { events, results } = scenario.whenIngest(NOW, [
      registerReading(1, '2.00'),
      registerReading(2, '4.00'), // kept: (4.00 - 3.00) x 40 = 40... once q(1) is known
    ]);
    expect(results[0]).toEqual({
      index: 0,
      intervalStart: q(1),
      status: 'rejected',
      field: 'readings[0].register',
      reason:
        "register went from 3 to 2: a rollover at 100000 would mean 3999960 kWh, more than the meter's maximum of 200 kWh; not a plausible rollover",
    });
    expect(results[1]).toMatchObject({ status: 'accepted' });
    expect(events).toHaveLength(1);
  });

  it('rejects a register that went down on a meter without a rollover value', () => {
    const noWrap: RegisterMeter = { ...cumulativeMeter, registerMaximum: undefined };
    const scenario = new MeterScenario(noWrap).givenReadings(NOW, [registerReading(0, '10')]);
    expect(scenario.whenIngest(NOW, [registerReading(1, '9.5')]).results[0]).toMatchObject({
      status: 'rejected',
      field: 'readings[0].register',
      reason: 'register went from 10 to 9.5: negative consumption',
    });
  });

  it('without a rated power takes a wrap as plausible below half the register range', () => {
    const scenario = new MeterScenario({
      ...cumulativeMeter,
      ratedPowerKw: undefined,
    }).givenReadings(NOW, [registerReading(0, '99000'), registerReading(1, '60000')]);
    // 99000 -> 60000: 100000 - 99000 + 60000 = 61000 >= 50000: rejected, reason names the bound.
    expect(scenario.registered.slots[q(1)]).toBeUndefined();
    const { results } = scenario.whenIngest(NOW, [registerReading(1, '40000')]);
    // 99000 -> 40000: 100000 - 99000 + 40000 = 41000 < 50000: a wrap; x 40 = 1640000.
    expect(results[0]).toMatchObject({ status: 'accepted', value: '1640000' });
  });

  it('corrects a register: this interval and the next change', () => {
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '100'),
      registerReading(1, '101'),
      registerReading(2, '103'),
    ]);
    // q(1): (101 - 100) x 40 = 40 -> (101.5 - 100) x 40 = 60; q(2): (103 - 101) x 40 = 80 -> 60
    const { events, results } = scenario.whenIngest(NOW, [registerReading(1, '101.5')]);
    expect(results[0]).toEqual({
      index: 0,
      intervalStart: q(1),
      status: 'corrected',
      oldValue: '40',
      newValue: '60',
    });
    expect(events).toMatchObject([
      {
        type: 'ReadingCorrected',
        intervalStart: q(1),
        oldValue: '40',
        newValue: '60',
        oldRegister: '101',
        register: '101.5',
      },
      {
        type: 'ReadingCorrected',
        intervalStart: q(2),
        oldValue: '80',
        newValue: '60',
        reason: 'previous register corrected',
      },
    ]);
  });

  it('asks for a replacement before the new meter reads, on an interval boundary, with registers', () => {
    const scenario = new MeterScenario(cumulativeMeter).givenReadings(NOW, [
      registerReading(0, '100'),
      registerReading(1, '101'),
    ]);
    const replace = {
      type: 'ReplaceMeter' as const,
      meterId: 'm-cum',
      now: NOW,
      oldFinalRegister: '102',
      newFirstRegister: '0',
    };
    expect(scenario.whenError({ ...replace, at: q(1) })).toBeInstanceOf(PreconditionError);
    const misaligned = scenario.whenError({ ...replace, at: '2025-03-10T00:40:00Z' });
    expect((misaligned as ValidationError).violations[0]!.field).toBe('at');
    const missing = scenario.whenError({ ...replace, at: q(3), newFirstRegister: undefined });
    expect((missing as ValidationError).violations.map((v) => v.field)).toEqual([
      'new_first_register',
    ]);
    // The old final register below the last reading: a negative closing interval.
    const backwards = scenario.whenError({ ...replace, at: q(3), oldFinalRegister: '100.5' });
    expect((backwards as ValidationError).violations[0]!.field).toBe('old_final_register');
  });
});
