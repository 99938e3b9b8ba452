import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import { meterDecider } from '../readings/meter';
import type { MeterState } from '../readings/model';
import { Dec } from '@park/domain-primitives';
import {
  spikeLimit,
  toMeterUnit,
  validateMeterRegistration,
  type RegisterMeter,
} from './meter-registration';

const pv: RegisterMeter = {
  type: 'RegisterMeter',
  meterId: 'm-pv',
  parkId: 'park-1',
  enterpriseId: 'ent-1',
  timeZone: 'Asia/Shanghai',
  commodity: 'electricity',
  role: 'onsite_pv',
  unit: 'kWh',
  registerType: 'interval',
};

function violations(command: Partial<RegisterMeter>): { field: string; description: string }[] {
  try {
    validateMeterRegistration({ ...pv, ...command } as RegisterMeter);
  } catch (error) {
    if (error instanceof ValidationError) return error.violations;
    throw error;
  }
  return [];
}

describe('RegisterMeter', () => {
  const unregistered: MeterState = { status: 'unregistered' };

  it('registers an electricity meter with a 15-minute interval and multiplier 1 by default', () => {
    expect(meterDecider.decide(pv, unregistered)).toEqual([
      {
        type: 'MeterRegistered',
        meterId: 'm-pv',
        parkId: 'park-1',
        enterpriseId: 'ent-1',
        timeZone: 'Asia/Shanghai',
        commodity: 'electricity',
        role: 'onsite_pv',
        unit: 'kWh',
        registerType: 'interval',
        multiplier: '1',
        intervalMinutes: 15,
      },
    ]);
  });

  it('defaults other commodities to hourly intervals', () => {
    const water = { ...pv, commodity: 'water', role: 'sub_meter', unit: 'm3' };
    expect(validateMeterRegistration(water).intervalMinutes).toBe(60);
  });

  it('is registered once: the same registration again is a no-op, another one a conflict', () => {
    const state = meterDecider.decide(pv, unregistered).reduce(meterDecider.evolve, unregistered);
    expect(meterDecider.decide(pv, state)).toEqual([]);
    expect(() => meterDecider.decide({ ...pv, unit: 'MWh' }, state)).toThrow(PreconditionError);
  });

  it.each<[string, Partial<RegisterMeter>, { field: string; description: string }[]]>([
    [
      'a unit of another commodity',
      { unit: 'Nm3' },
      [{ field: 'unit', description: 'electricity is metered in kWh or MWh' }],
    ],
    [
      'heat in kWh',
      { commodity: 'heat', role: 'grid_import', unit: 'kWh' },
      [{ field: 'unit', description: 'heat is metered in MJ or GJ' }],
    ],
    [
      'steam without enthalpy',
      { commodity: 'steam', role: 'grid_import', unit: 't' },
      [{ field: 'enthalpy_gj_per_tonne', description: 'must be a decimal number such as "1.5"' }],
    ],
    [
      'an enthalpy on a gas meter',
      { commodity: 'natural_gas', role: 'grid_import', unit: 'Nm3', enthalpyGjPerTonne: '2.8' },
      [{ field: 'enthalpy_gj_per_tonne', description: 'only steam meters carry an enthalpy' }],
    ],
    [
      'PV measuring gas',
      { commodity: 'natural_gas', unit: 'Nm3' },
      [{ field: 'role', description: 'onsite_pv meters measure electricity, not natural_gas' }],
    ],
    [
      'a direct line without its generator',
      { role: 'green_direct_line' },
      [
        {
          field: 'source_generator_id',
          description: 'a green direct line names its source generator',
        },
      ],
    ],
    [
      'a transfer without its source',
      { role: 'internal_transfer' },
      [
        {
          field: 'source_entity_id',
          description: 'an internal transfer names the park entity that supplies it',
        },
      ],
    ],
    [
      'a state of charge in kWh on a counter',
      { role: 'storage_soc', registerType: 'cumulative' },
      [
        { field: 'unit', description: 'a storage state-of-charge channel is metered in %' },
        {
          field: 'register_type',
          description: 'a state of charge is a level, not a counter: use interval',
        },
      ],
    ],
    [
      'a rollover value on an interval meter',
      { registerMaximum: '100000' },
      [{ field: 'register_maximum', description: 'only cumulative registers roll over' }],
    ],
    [
      'a zero multiplier',
      { multiplier: '0' },
      [{ field: 'multiplier', description: 'must be greater than zero' }],
    ],
    [
      'a float-formatted multiplier',
      { multiplier: '4e1' },
      [{ field: 'multiplier', description: 'must be a decimal number such as "1.5"' }],
    ],
    [
      'rated power on a water meter',
      { commodity: 'water', role: 'sub_meter', unit: 'm3', ratedPowerKw: '10' },
      [
        {
          field: 'rated_power_kw',
          description: 'rated power applies to electricity, heat and steam meters',
        },
      ],
    ],
    [
      'a 7-minute interval',
      { intervalMinutes: 7 },
      [
        {
          field: 'interval_minutes',
          description: 'must divide 60 (1, 5, 15, 30, 60, ...) or be 1440 (daily)',
        },
      ],
    ],
    [
      'an unknown time zone',
      { timeZone: 'Asia/Shenyang' },
      [{ field: 'time_zone', description: "'Asia/Shenyang' is not an IANA time zone name" }],
    ],
  ])('rejects %s, naming the field', (_case, change, expected) => {
    expect(violations(change)).toEqual(expected);
  });

  it('accepts every interval length that divides the hour, and daily', () => {
    for (const intervalMinutes of [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 1440]) {
      expect(violations({ intervalMinutes })).toEqual([]);
    }
  });
});

describe('units and spike limits', () => {
  const registration = (change: Partial<RegisterMeter>) =>
    validateMeterRegistration({ ...pv, ...change } as RegisterMeter);

  it('converts within a commodity exactly and refuses units of another', () => {
    const kwh = registration({});
    expect(toMeterUnit(new Dec('0.0015'), 'MWh', kwh)?.toFixed()).toBe('1.5'); // 0.0015 * 1000
    expect(toMeterUnit(new Dec('1.5'), 'Nm3', kwh)).toBeUndefined();
    const diesel = registration({ commodity: 'diesel', role: 'sub_meter', unit: 't' });
    expect(toMeterUnit(new Dec('250'), 'kg', diesel)?.toFixed()).toBe('0.25'); // 250 / 1000
  });

  it('turns rated power into the most a meter can pass in one interval', () => {
    // 100 kW x 15 min = 100 x 15 / 60 = 25 kWh
    expect(spikeLimit(registration({ ratedPowerKw: '100' }))?.toFixed()).toBe('25');
    // 100 kW x 60 min = 100 kWh = 100 x 3.6 MJ = 360 MJ
    expect(
      spikeLimit(
        registration({ commodity: 'heat', role: 'grid_import', unit: 'MJ', ratedPowerKw: '100' }),
      )?.toFixed(),
    ).toBe('360');
    // 1000 kW x 60 min = 1000 kWh = 3.6 GJ; at 2.4 GJ/t that is 3.6 / 2.4 = 1.5 t
    expect(
      spikeLimit(
        registration({
          commodity: 'steam',
          role: 'grid_import',
          unit: 't',
          enthalpyGjPerTonne: '2.4',
          ratedPowerKw: '1000',
        }),
      )?.toFixed(),
    ).toBe('1.5');
    expect(spikeLimit(registration({}))).toBeUndefined();
  });
});
