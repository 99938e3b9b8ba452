import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import { intervalMeter, MeterScenario, q, reading } from './test-support/meter-scenario';

const NOW = q(12);
const { type: _type, ...command } = intervalMeter;
const registered = { ...command, multiplier: '1', intervalMinutes: 15 };

describe('meter lifecycle', () => {
  it('records a swap of an interval meter without registers, and refuses registers for it', () => {
    const scenario = new MeterScenario(intervalMeter);
    const error = scenario.whenError({
      type: 'ReplaceMeter',
      meterId: 'm-int',
      at: q(4),
      now: NOW,
      oldFinalRegister: '10',
    });
    expect((error as ValidationError).violations).toEqual([
      {
        field: 'old_final_register',
        description: 'an interval meter has no register to carry over',
      },
    ]);
    expect(
      scenario.when({
        type: 'ReplaceMeter',
        meterId: 'm-int',
        at: q(4),
        now: NOW,
        newSerialNumber: 'SN-2',
      }),
    ).toEqual([
      {
        type: 'MeterReplaced',
        meterId: 'm-int',
        at: q(4),
        multiplier: '1',
        serialNumber: 'SN-2',
        current: {
          registration: { ...registered, multiplier: '1', serialNumber: 'SN-2' },
        },
      },
    ]);
  });

  it('decommissions once; a swap after that is refused', () => {
    const scenario = new MeterScenario(intervalMeter);
    const decommission = { type: 'DecommissionMeter' as const, meterId: 'm-int', at: q(8) };
    expect(scenario.when(decommission)).toEqual([
      {
        type: 'MeterDecommissioned',
        meterId: 'm-int',
        at: q(8),
        current: { registration: registered },
      },
    ]);
    expect(scenario.when(decommission)).toEqual([]);
    expect(scenario.whenError({ ...decommission, at: q(9) })).toBeInstanceOf(PreconditionError);
    expect(
      scenario.whenError({ type: 'ReplaceMeter', meterId: 'm-int', at: q(4), now: NOW }),
    ).toBeInstanceOf(PreconditionError);
  });

  it('refuses a command addressed to another meter than the stream`s', () => {
    const scenario = new MeterScenario(intervalMeter);
    expect(
      scenario.whenError({
        type: 'IngestReadings',
        meterId: 'm-other',
        now: NOW,
        readings: [reading(0, '1')],
      }),
    ).toBeInstanceOf(PreconditionError);
  });

  it('wants a clock and a non-negative grace delay to fill gaps', () => {
    const scenario = new MeterScenario(intervalMeter);
    const noClock = scenario.whenError({ type: 'FillGaps', meterId: 'm-int', now: 'soon' });
    expect((noClock as ValidationError).violations[0]!.field).toBe('now');
    const negative = scenario.whenError({
      type: 'FillGaps',
      meterId: 'm-int',
      now: NOW,
      graceDelayMinutes: -5,
    });
    expect((negative as ValidationError).violations[0]!.field).toBe('grace_delay_minutes');
  });
});
