import { ValidationError } from '@park/service-kit/errors';
import {
  emptyTopology,
  importPriceAt,
  topologyDecider,
  type GridDef,
  type TopologyEvent,
} from './topology';

const { decide, evolve } = topologyDecider;
const apply = (events: TopologyEvent[], state = emptyTopology('p1')) =>
  events.reduce(evolve, state);

const grid: GridDef = {
  importLimitKw: '5000',
  exportLimitKw: '1000',
  tariff: {
    periods: [
      { dayType: 'workday', fromMinute: 0, toMinute: 480, importCnyPerKwh: '0.3' },
      { dayType: 'workday', fromMinute: 480, toMinute: 1440, importCnyPerKwh: '0.9' },
      { dayType: 'weekend', fromMinute: 0, toMinute: 1440, importCnyPerKwh: '0.5' },
      { dayType: 'holiday', fromMinute: 0, toMinute: 1440, importCnyPerKwh: '0.4' },
    ],
    feedInCnyPerKwh: '0.35',
    holidays: ['2026-10-01'],
  },
  carbon: { cnyPerTonne: '80', gridFactorKgPerKwh: '0.5122' },
};

describe('topology', () => {
  it('registers assets; the same definition again records nothing, a changed one replaces it', () => {
    const plant = {
      plantId: 'pv-1',
      kind: 'pv' as const,
      capacityKw: '2000',
      latitude: '41.8',
      longitude: '123.4',
      derate: '0.8',
    };
    const first = decide({ type: 'RegisterPlant', parkId: 'p1', plant }, emptyTopology('p1'));
    expect(first).toHaveLength(1);
    const state = apply(first);
    expect(decide({ type: 'RegisterPlant', parkId: 'p1', plant }, state)).toEqual([]);
    const bigger = decide(
      { type: 'RegisterPlant', parkId: 'p1', plant: { ...plant, capacityKw: '2500' } },
      state,
    );
    expect(apply(bigger, state).plants['pv-1']?.capacityKw).toBe('2500');
  });

  it('refuses a battery with its minimum SOC above its maximum, naming the field', () => {
    const attempt = () =>
      decide(
        {
          type: 'RegisterBattery',
          parkId: 'p1',
          battery: {
            batteryId: 'b1',
            energyKwh: '1000',
            maxChargeKw: '500',
            maxDischargeKw: '500',
            chargeEfficiency: '0.95',
            dischargeEfficiency: '0.95',
            socMinFraction: '0.9',
            socMaxFraction: '0.1',
            degradationCnyPerMwh: '20',
            safeMode: 'idle',
          },
        },
        emptyTopology('p1'),
      );
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/battery.soc_max_fraction/);
  });

  it('refuses a direct line from an unregistered plant and a tariff with a gap', () => {
    expect(() =>
      decide(
        {
          type: 'RegisterDirectLine',
          parkId: 'p1',
          line: {
            lineId: 'l1',
            plantId: 'nowhere',
            capacityKw: '1000',
            lineMeterId: 'm-line',
            consumers: [
              { enterpriseId: 'e1', priority: 1, share: '1', consumptionMeterIds: ['m1'] },
            ],
          },
        },
        emptyTopology('p1'),
      ),
    ).toThrow(/plant nowhere is not registered/);
    const gappy = { ...grid, tariff: { ...grid.tariff, periods: grid.tariff.periods.slice(1) } };
    expect(() =>
      decide({ type: 'ConfigureGrid', parkId: 'p1', grid: gappy }, emptyTopology('p1')),
    ).toThrow(/workday periods must cover the day/);
  });

  it('a flexible load that cannot be served in its window is refused', () => {
    // 2 h window x 100 kW = 200 kWh at most; 300 kWh cannot fit.
    expect(() =>
      decide(
        {
          type: 'RegisterFlexibleLoad',
          parkId: 'p1',
          load: {
            loadId: 'f1',
            enterpriseId: 'e1',
            energyKwh: '300',
            windowStartMinute: 600,
            windowEndMinute: 720,
            maxKw: '100',
          },
        },
        emptyTopology('p1'),
      ),
    ).toThrow(/at most 200 kWh/);
  });

  it('prices a minute by its day type', () => {
    const state = apply(decide({ type: 'ConfigureGrid', parkId: 'p1', grid }, emptyTopology('p1')));
    expect(importPriceAt(state.grid!, 'workday', 479)).toBe('0.3');
    expect(importPriceAt(state.grid!, 'workday', 480)).toBe('0.9');
    expect(importPriceAt(state.grid!, 'holiday', 0)).toBe('0.4');
  });
});
