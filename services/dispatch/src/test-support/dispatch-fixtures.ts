import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { unary } from '@park/testing';
import type { DispatchClient } from './harness';

/**
 * Topology commands as an operator sends them through the gRPC API, with full messages (every
 * field given), for the dispatch service's integration tests.
 */
const v1 = park.dispatch.v1;
export const dec = (value: string): park.common.v1.Decimal => ({ value });

/** An id no other test file (or earlier run) uses: Redis keys of dispatch are not prefixed. */
export const uniqueId = (name: string): string => `${name}-${randomBytes(3).toString('hex')}`;

export function registerPv(
  client: DispatchClient,
  md: grpc.Metadata,
  parkId: string,
  plantId: string,
  capacityKw = '2000',
  meterId = '',
): Promise<park.dispatch.v1.RegisterPlantResponse> {
  return unary((done) =>
    client.registerPlant(
      {
        parkId,
        plant: {
          plantId,
          kind: v1.PlantKind.PLANT_KIND_PV,
          capacityKw: dec(capacityKw),
          latitude: dec('41.8'),
          longitude: dec('123.4'),
          derate: dec('0.8'),
          meterId,
        },
      },
      md,
      done,
    ),
  );
}

export interface BatteryOptions {
  energyKwh?: string;
  maxChargeKw?: string;
  maxDischargeKw?: string;
  efficiency?: string;
  socMin?: string;
  socMax?: string;
  degradationCnyPerMwh?: string;
  /** The metering meter of its state of charge (percent). */
  socMeterId?: string;
}

export function registerBattery(
  client: DispatchClient,
  md: grpc.Metadata,
  parkId: string,
  batteryId: string,
  options: BatteryOptions = {},
): Promise<park.dispatch.v1.RegisterBatteryResponse> {
  return unary((done) =>
    client.registerBattery(
      {
        parkId,
        battery: {
          batteryId,
          energyKwh: dec(options.energyKwh ?? '1000'),
          maxChargeKw: dec(options.maxChargeKw ?? '500'),
          maxDischargeKw: dec(options.maxDischargeKw ?? '500'),
          chargeEfficiency: dec(options.efficiency ?? '0.95'),
          dischargeEfficiency: dec(options.efficiency ?? '0.95'),
          socMinFraction: dec(options.socMin ?? '0.1'),
          socMaxFraction: dec(options.socMax ?? '0.9'),
          degradationCnyPerMwh: dec(options.degradationCnyPerMwh ?? '20'),
          socMeterId: options.socMeterId ?? '',
          safeMode: 'idle',
        },
      },
      md,
      done,
    ),
  );
}

/** Import prices by local minute of the day, [from, to, CNY/kWh], the same for every day type. */
export function tariffPeriods(
  periods: readonly [number, number, string][],
): park.dispatch.v1.TariffPeriod[] {
  const types = [
    v1.DayType.DAY_TYPE_WORKDAY,
    v1.DayType.DAY_TYPE_WEEKEND,
    v1.DayType.DAY_TYPE_HOLIDAY,
  ];
  return types.flatMap((dayType) =>
    periods.map(([fromMinute, toMinute, price]) => ({
      dayType,
      fromMinute,
      toMinute,
      importCnyPerKwh: dec(price),
    })),
  );
}

/** Night (00:00-08:00 and 22:00-24:00) and day (08:00-22:00) import prices. */
export const nightDay = (night: string, day: string): [number, number, string][] => [
  [0, 480, night],
  [480, 1320, day],
  [1320, 1440, night],
];

export interface GridOptions {
  importLimitKw?: string;
  exportLimitKw?: string;
  /** Import prices by local minute; 0.3 at night and 1 by day (nightDay) when not given. */
  periods?: [number, number, string][];
  feedIn?: string;
  carbonCnyPerTonne?: string;
  gridFactor?: string;
}

export function configureGrid(
  client: DispatchClient,
  md: grpc.Metadata,
  parkId: string,
  options: GridOptions = {},
): Promise<park.dispatch.v1.ConfigureGridResponse> {
  return unary((done) =>
    client.configureGrid(
      {
        parkId,
        grid: {
          importLimitKw: dec(options.importLimitKw ?? '5000'),
          exportLimitKw: dec(options.exportLimitKw ?? '1000'),
        },
        tariff: {
          periods: tariffPeriods(options.periods ?? nightDay('0.3', '1')),
          feedInCnyPerKwh: dec(options.feedIn ?? '0.2'),
          holidays: [],
        },
        carbon: {
          cnyPerTonne: dec(options.carbonCnyPerTonne ?? '80'),
          gridFactorKgPerKwh: dec(options.gridFactor ?? '0.5'),
        },
      },
      md,
      done,
    ),
  );
}

/** A 15-minute series from `start` (values in kW). */
export function submitForecast(
  client: DispatchClient,
  md: grpc.Metadata,
  parkId: string,
  assetId: string,
  start: Date,
  valuesKw: readonly (number | string)[],
): Promise<park.dispatch.v1.SubmitForecastResponse> {
  return unary((done) =>
    client.submitForecast(
      {
        parkId,
        assetId,
        start,
        intervalMinutes: 15,
        valuesKw: valuesKw.map((value) => dec(String(value))),
      },
      md,
      done,
    ),
  );
}

/** Local midnight of a day in Asia/Shanghai (UTC+8, no daylight saving time) as an instant. */
export const shanghaiMidnight = (day: string): Date => new Date(`${day}T00:00:00+08:00`);

/** The start of interval `index` (15 min each) of a Shanghai day. */
export const intervalOf = (day: string, index: number): Date =>
  new Date(shanghaiMidnight(day).getTime() + index * 15 * 60_000);
