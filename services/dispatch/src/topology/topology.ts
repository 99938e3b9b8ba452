import {
  canonicalTimeZone,
  Dec,
  decimalText,
  Violations,
  type Dec as DecType,
} from '@park/domain-primitives';
import type { Decider } from '@park/eventstore';

/**
 * The park's dispatch topology: plants, batteries, flexible loads, green direct lines, the grid
 * connection with its tariff, and the carbon price. One stream per park; each registration
 * replaces the asset of the same id (the latest definition plans), and an unchanged one is a
 * retry that records nothing.
 */
export interface PlantDef {
  plantId: string;
  kind: 'pv' | 'wind';
  capacityKw: string;
  latitude: string;
  longitude: string;
  derate: string;
  meterId?: string;
}

export interface BatteryDef {
  batteryId: string;
  energyKwh: string;
  maxChargeKw: string;
  maxDischargeKw: string;
  chargeEfficiency: string;
  dischargeEfficiency: string;
  socMinFraction: string;
  socMaxFraction: string;
  degradationCnyPerMwh: string;
  socMeterId?: string;
  safeMode: 'idle';
}

export interface FlexibleLoadDef {
  loadId: string;
  enterpriseId: string;
  energyKwh: string;
  windowStartMinute: number;
  windowEndMinute: number;
  maxKw: string;
}

export interface DirectLineConsumerDef {
  enterpriseId: string;
  priority: number;
  share: string;
  consumptionMeterIds: string[];
}

export interface DirectLineDef {
  lineId: string;
  plantId: string;
  capacityKw: string;
  lineMeterId: string;
  consumers: DirectLineConsumerDef[];
  storageMeterId?: string;
  exportMeterId?: string;
}

export type DayType = 'workday' | 'weekend' | 'holiday';

export interface TariffPeriodDef {
  dayType: DayType;
  fromMinute: number;
  toMinute: number;
  importCnyPerKwh: string;
}

export interface GridDef {
  importLimitKw: string;
  exportLimitKw: string;
  tariff: { periods: TariffPeriodDef[]; feedInCnyPerKwh: string; holidays: string[] };
  carbon: { cnyPerTonne: string; gridFactorKgPerKwh: string };
}

export interface Topology {
  parkId: string;
  timeZone: string;
  plants: Record<string, PlantDef>;
  batteries: Record<string, BatteryDef>;
  flexibleLoads: Record<string, FlexibleLoadDef>;
  directLines: Record<string, DirectLineDef>;
  grid?: GridDef;
}

export type TopologyCommand =
  | { type: 'RegisterPlant'; parkId: string; plant: PlantDef }
  | { type: 'RegisterBattery'; parkId: string; battery: BatteryDef }
  | { type: 'RegisterFlexibleLoad'; parkId: string; load: FlexibleLoadDef }
  | { type: 'RegisterDirectLine'; parkId: string; line: DirectLineDef }
  | { type: 'ConfigureGrid'; parkId: string; grid: GridDef; timeZone?: string };

export type TopologyEvent =
  | { type: 'PlantRegistered'; parkId: string; plant: PlantDef }
  | { type: 'BatteryRegistered'; parkId: string; battery: BatteryDef }
  | { type: 'FlexibleLoadRegistered'; parkId: string; load: FlexibleLoadDef }
  | { type: 'DirectLineRegistered'; parkId: string; line: DirectLineDef }
  | { type: 'GridConfigured'; parkId: string; grid: GridDef; timeZone: string };

export const topologyStreamId = (parkId: string): string => `topology-${parkId}`;

export const emptyTopology = (parkId = ''): Topology => ({
  parkId,
  timeZone: 'Asia/Shanghai',
  plants: {},
  batteries: {},
  flexibleLoads: {},
  directLines: {},
});

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

function id(v: Violations, field: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || !ID.test(value)) {
    v.add(field, 'must be 1-64 letters, digits, ".", "_", ":" or "-"');
    return undefined;
  }
  return value;
}

function decimal(
  v: Violations,
  field: string,
  value: unknown,
  check: (d: DecType) => boolean,
  rule: string,
): string | undefined {
  if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value)) {
    v.add(field, 'must be a plain decimal number');
    return undefined;
  }
  const d = new Dec(value);
  if (!check(d)) {
    v.add(field, rule);
    return undefined;
  }
  return decimalText(d);
}

const positive = (d: DecType) => d.gt(0);
const nonNegative = (d: DecType) => d.gte(0);
const fraction = (d: DecType) => d.gte(0) && d.lte(1);
const efficiency = (d: DecType) => d.gt(0) && d.lte(1);

function minuteOfDay(v: Violations, field: string, value: unknown, max = 1440): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    v.add(field, `must be a whole number of minutes from 0 to ${max}`);
    return undefined;
  }
  return value;
}

export function validatePlant(plant: PlantDef): PlantDef {
  const v = new Violations();
  const plantId = id(v, 'plant.plant_id', plant.plantId);
  const kind = v.oneOf('plant.kind', plant.kind, ['pv', 'wind'] as const);
  const capacityKw = decimal(v, 'plant.capacity_kw', plant.capacityKw, positive, 'must be above 0');
  const latitude = decimal(
    v,
    'plant.latitude',
    plant.latitude,
    (d) => d.abs().lte(90),
    'must be within ±90',
  );
  const longitude = decimal(
    v,
    'plant.longitude',
    plant.longitude,
    (d) => d.abs().lte(180),
    'must be within ±180',
  );
  const derate = decimal(
    v,
    'plant.derate',
    plant.derate || '0.8',
    efficiency,
    'must be above 0 and at most 1',
  );
  v.throwIfAny();
  return {
    plantId: plantId!,
    kind: kind!,
    capacityKw: capacityKw!,
    latitude: latitude!,
    longitude: longitude!,
    derate: derate!,
    ...(plant.meterId ? { meterId: plant.meterId } : {}),
  };
}

export function validateBattery(battery: BatteryDef): BatteryDef {
  const v = new Violations();
  const batteryId = id(v, 'battery.battery_id', battery.batteryId);
  const energyKwh = decimal(
    v,
    'battery.energy_kwh',
    battery.energyKwh,
    positive,
    'must be above 0',
  );
  const maxChargeKw = decimal(
    v,
    'battery.max_charge_kw',
    battery.maxChargeKw,
    positive,
    'must be above 0',
  );
  const maxDischargeKw = decimal(
    v,
    'battery.max_discharge_kw',
    battery.maxDischargeKw,
    positive,
    'must be above 0',
  );
  const chargeEfficiency = decimal(
    v,
    'battery.charge_efficiency',
    battery.chargeEfficiency,
    efficiency,
    'must be above 0 and at most 1',
  );
  const dischargeEfficiency = decimal(
    v,
    'battery.discharge_efficiency',
    battery.dischargeEfficiency,
    efficiency,
    'must be above 0 and at most 1',
  );
  const socMinFraction = decimal(
    v,
    'battery.soc_min_fraction',
    battery.socMinFraction,
    fraction,
    'must be from 0 to 1',
  );
  const socMaxFraction = decimal(
    v,
    'battery.soc_max_fraction',
    battery.socMaxFraction,
    fraction,
    'must be from 0 to 1',
  );
  const degradation = decimal(
    v,
    'battery.degradation_cny_per_mwh',
    battery.degradationCnyPerMwh || '0',
    nonNegative,
    'must not be negative',
  );
  if (socMinFraction && socMaxFraction && new Dec(socMinFraction).gte(socMaxFraction)) {
    v.add('battery.soc_max_fraction', 'must be above soc_min_fraction');
  }
  const safeMode = v.oneOf('battery.safe_mode', battery.safeMode || 'idle', ['idle'] as const);
  v.throwIfAny();
  return {
    batteryId: batteryId!,
    energyKwh: energyKwh!,
    maxChargeKw: maxChargeKw!,
    maxDischargeKw: maxDischargeKw!,
    chargeEfficiency: chargeEfficiency!,
    dischargeEfficiency: dischargeEfficiency!,
    socMinFraction: socMinFraction!,
    socMaxFraction: socMaxFraction!,
    degradationCnyPerMwh: degradation!,
    safeMode: safeMode!,
    ...(battery.socMeterId ? { socMeterId: battery.socMeterId } : {}),
  };
}

export function validateFlexibleLoad(load: FlexibleLoadDef): FlexibleLoadDef {
  const v = new Violations();
  const loadId = id(v, 'load.load_id', load.loadId);
  const enterpriseId = id(v, 'load.enterprise_id', load.enterpriseId);
  const energyKwh = decimal(v, 'load.energy_kwh', load.energyKwh, positive, 'must be above 0');
  const maxKw = decimal(v, 'load.max_kw', load.maxKw, positive, 'must be above 0');
  const from = minuteOfDay(v, 'load.window_start_minute', load.windowStartMinute, 1439);
  const to = minuteOfDay(v, 'load.window_end_minute', load.windowEndMinute);
  if (from !== undefined && to !== undefined && to <= from) {
    v.add('load.window_end_minute', 'must be after window_start_minute');
  }
  if (energyKwh && maxKw && from !== undefined && to !== undefined && to > from) {
    const possible = new Dec(maxKw).times(to - from).div(60);
    if (new Dec(energyKwh).gt(possible)) {
      v.add(
        'load.energy_kwh',
        `cannot be served in its window at max_kw (at most ${decimalText(possible)} kWh)`,
      );
    }
  }
  v.throwIfAny();
  return {
    loadId: loadId!,
    enterpriseId: enterpriseId!,
    energyKwh: energyKwh!,
    windowStartMinute: from!,
    windowEndMinute: to!,
    maxKw: maxKw!,
  };
}

export function validateDirectLine(line: DirectLineDef, topology: Topology): DirectLineDef {
  const v = new Violations();
  const lineId = id(v, 'line.line_id', line.lineId);
  const plantId = id(v, 'line.plant_id', line.plantId);
  if (plantId && !Object.hasOwn(topology.plants, plantId)) {
    v.add('line.plant_id', `plant ${plantId} is not registered`);
  }
  const capacityKw = decimal(v, 'line.capacity_kw', line.capacityKw, positive, 'must be above 0');
  const lineMeterId = id(v, 'line.line_meter_id', line.lineMeterId);
  const consumers: DirectLineConsumerDef[] = [];
  if (!Array.isArray(line.consumers) || line.consumers.length === 0) {
    v.add('line.consumers', 'must name the enterprises the line feeds');
  }
  const seen = new Set<string>();
  (line.consumers ?? []).forEach((consumer, i) => {
    const field = `line.consumers[${i}]`;
    const enterpriseId = id(v, `${field}.enterprise_id`, consumer.enterpriseId);
    if (enterpriseId && seen.has(enterpriseId)) v.add(`${field}.enterprise_id`, 'is listed twice');
    if (enterpriseId) seen.add(enterpriseId);
    if (!Number.isInteger(consumer.priority) || consumer.priority < 1) {
      v.add(`${field}.priority`, 'must be a whole number from 1 (served first)');
    }
    const share = decimal(
      v,
      `${field}.share`,
      consumer.share,
      (d) => d.gt(0) && d.lte(1),
      'must be above 0 and at most 1',
    );
    const meters = (consumer.consumptionMeterIds ?? []).filter((meter) => meter.trim() !== '');
    if (meters.length === 0)
      v.add(`${field}.consumption_meter_ids`, 'must name the meters of its consumption');
    if (enterpriseId && share) {
      consumers.push({
        enterpriseId,
        priority: consumer.priority,
        share,
        consumptionMeterIds: [...new Set(meters)].sort(),
      });
    }
  });
  v.throwIfAny();
  return {
    lineId: lineId!,
    plantId: plantId!,
    capacityKw: capacityKw!,
    lineMeterId: lineMeterId!,
    consumers,
    ...(line.storageMeterId ? { storageMeterId: line.storageMeterId } : {}),
    ...(line.exportMeterId ? { exportMeterId: line.exportMeterId } : {}),
  };
}

export function validateGrid(grid: GridDef): GridDef {
  const v = new Violations();
  const importLimitKw = decimal(
    v,
    'grid.import_limit_kw',
    grid.importLimitKw,
    nonNegative,
    'must not be negative',
  );
  const exportLimitKw = decimal(
    v,
    'grid.export_limit_kw',
    grid.exportLimitKw,
    nonNegative,
    'must not be negative',
  );
  const feedIn = decimal(
    v,
    'tariff.feed_in_cny_per_kwh',
    grid.tariff?.feedInCnyPerKwh || '0',
    () => true,
    '',
  );
  const periods: TariffPeriodDef[] = [];
  const types: DayType[] = ['workday', 'weekend', 'holiday'];
  (grid.tariff?.periods ?? []).forEach((period, i) => {
    const field = `tariff.periods[${i}]`;
    const dayType = v.oneOf(`${field}.day_type`, period.dayType, types);
    const from = minuteOfDay(v, `${field}.from_minute`, period.fromMinute, 1439);
    const to = minuteOfDay(v, `${field}.to_minute`, period.toMinute);
    if (from !== undefined && to !== undefined && to <= from)
      v.add(`${field}.to_minute`, 'must be after from_minute');
    const price = decimal(v, `${field}.import_cny_per_kwh`, period.importCnyPerKwh, () => true, '');
    if (dayType && from !== undefined && to !== undefined && price) {
      periods.push({ dayType, fromMinute: from, toMinute: to, importCnyPerKwh: price });
    }
  });
  // Every minute of every day type must have exactly one price.
  for (const dayType of types) {
    const own = periods
      .filter((p) => p.dayType === dayType)
      .sort((a, b) => a.fromMinute - b.fromMinute);
    let at = 0;
    for (const p of own) {
      if (p.fromMinute !== at) break;
      at = p.toMinute;
    }
    if (at !== 1440)
      v.add(
        'tariff.periods',
        `${dayType} periods must cover the day from minute 0 to 1440 without gaps or overlaps`,
      );
  }
  const holidays = (grid.tariff?.holidays ?? []).filter((day) => {
    const ok = /^\d{4}-\d{2}-\d{2}$/.test(day);
    if (!ok) v.add('tariff.holidays', `'${day}' is not a day YYYY-MM-DD`);
    return ok;
  });
  const carbonPrice = decimal(
    v,
    'carbon.cny_per_tonne',
    grid.carbon?.cnyPerTonne || '0',
    nonNegative,
    'must not be negative',
  );
  const factor = decimal(
    v,
    'carbon.grid_factor_kg_per_kwh',
    grid.carbon?.gridFactorKgPerKwh,
    nonNegative,
    'must not be negative',
  );
  v.throwIfAny();
  return {
    importLimitKw: importLimitKw!,
    exportLimitKw: exportLimitKw!,
    tariff: { periods, feedInCnyPerKwh: feedIn!, holidays: [...holidays].sort() },
    carbon: { cnyPerTonne: carbonPrice!, gridFactorKgPerKwh: factor! },
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function decide(command: TopologyCommand, state: Topology): TopologyEvent[] {
  const parkId = command.parkId;
  switch (command.type) {
    case 'RegisterPlant': {
      const plant = validatePlant(command.plant);
      return same(state.plants[plant.plantId], plant)
        ? []
        : [{ type: 'PlantRegistered', parkId, plant }];
    }
    case 'RegisterBattery': {
      const battery = validateBattery(command.battery);
      return same(state.batteries[battery.batteryId], battery)
        ? []
        : [{ type: 'BatteryRegistered', parkId, battery }];
    }
    case 'RegisterFlexibleLoad': {
      const load = validateFlexibleLoad(command.load);
      return same(state.flexibleLoads[load.loadId], load)
        ? []
        : [{ type: 'FlexibleLoadRegistered', parkId, load }];
    }
    case 'RegisterDirectLine': {
      const line = validateDirectLine(command.line, state);
      return same(state.directLines[line.lineId], line)
        ? []
        : [{ type: 'DirectLineRegistered', parkId, line }];
    }
    case 'ConfigureGrid': {
      const grid = validateGrid(command.grid);
      const timeZone = command.timeZone ? canonicalTimeZone(command.timeZone) : state.timeZone;
      if (!timeZone) {
        const v = new Violations();
        v.add('time_zone', `'${command.timeZone}' is not an IANA time zone`);
        v.throwIfAny();
      }
      return same(state.grid, grid) && timeZone === state.timeZone
        ? []
        : [{ type: 'GridConfigured', parkId, grid, timeZone: timeZone! }];
    }
  }
}

function evolve(state: Topology, event: TopologyEvent): Topology {
  const next: Topology = { ...state, parkId: event.parkId };
  switch (event.type) {
    case 'PlantRegistered':
      return { ...next, plants: { ...state.plants, [event.plant.plantId]: event.plant } };
    case 'BatteryRegistered':
      return {
        ...next,
        batteries: { ...state.batteries, [event.battery.batteryId]: event.battery },
      };
    case 'FlexibleLoadRegistered':
      return {
        ...next,
        flexibleLoads: { ...state.flexibleLoads, [event.load.loadId]: event.load },
      };
    case 'DirectLineRegistered':
      return { ...next, directLines: { ...state.directLines, [event.line.lineId]: event.line } };
    case 'GridConfigured':
      return { ...next, grid: event.grid, timeZone: event.timeZone };
  }
}

export const topologyDecider: Decider<TopologyCommand, TopologyEvent, Topology> = {
  initialState: () => emptyTopology(),
  decide,
  evolve,
};

/** The import price of a local minute of a day type. */
export function importPriceAt(grid: GridDef, dayType: DayType, minute: number): string {
  const period = grid.tariff.periods.find(
    (p) => p.dayType === dayType && p.fromMinute <= minute && minute < p.toMinute,
  );
  if (!period) throw new Error(`no ${dayType} tariff period covers minute ${minute}`);
  return period.importCnyPerKwh;
}
