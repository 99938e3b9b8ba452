// The metering registry: parks, enterprises and meters.
import { park } from '@park/contracts';
import type { Context } from '../context';
import { labelOf, parseEnumOf, parseUnit, unitLabel } from '../enums';
import { listView, recordView, type Column, type Row, type View } from '../output';
import { dec, decimalOf, iso, optionalDecimal, positiveInt, required } from '../values';

const v1 = park.metering.v1;
const PAGE_SIZE = 1000;

// ---- parks -------------------------------------------------------------------------------

const PARK_COLUMNS: Column[] = [
  { key: 'park_id', header: 'park' },
  { key: 'name' },
  { key: 'time_zone', header: 'time zone' },
  { key: 'latitude', align: 'right' },
  { key: 'longitude', align: 'right' },
  { key: 'grid_region', header: 'grid region' },
  { key: 'size_band', header: 'size band' },
];

function parkRow(p: park.metering.v1.Park): Row {
  return {
    park_id: p.parkId,
    name: p.name,
    time_zone: p.timeZone,
    latitude: dec(p.latitude),
    longitude: dec(p.longitude),
    grid_region: p.gridRegion,
    size_band: labelOf('sizeBand', p.sizeBand),
  };
}

function parkView(p: park.metering.v1.Park | undefined): View {
  if (!p) return recordView(null, PARK_COLUMNS, {});
  return recordView(v1.Park.toJSON(p), PARK_COLUMNS, parkRow(p));
}

export interface ConfigureParkOptions {
  name?: string;
  timeZone?: string;
  latitude?: string;
  longitude?: string;
  gridRegion?: string;
  sizeBand?: string;
}

export async function configurePark(
  ctx: Context,
  parkId: string,
  options: ConfigureParkOptions,
): Promise<View> {
  const request: park.metering.v1.ConfigureParkRequest = {
    park: {
      parkId,
      name: required(options.name, '--name'),
      timeZone: options.timeZone ?? ctx.settings.timeZone,
      latitude: decimalOf(required(options.latitude, '--latitude'), '--latitude'),
      longitude: decimalOf(required(options.longitude, '--longitude'), '--longitude'),
      gridRegion: required(options.gridRegion, '--grid-region'),
      sizeBand: parseEnumOf('sizeBand', options.sizeBand ?? 'below_200k_tce', '--size-band'),
    },
  };
  const response = await ctx.unary<'metering', park.metering.v1.ConfigureParkResponse>(
    'metering',
    (client, md, opts, done) => client.configurePark(request, md, opts, done),
  );
  return parkView(response.park);
}

export async function getPark(ctx: Context, parkId: string): Promise<View> {
  const response = await ctx.unary<'metering', park.metering.v1.GetParkResponse>(
    'metering',
    (client, md, opts, done) => client.getPark({ parkId }, md, opts, done),
  );
  return parkView(response.park);
}

// ---- enterprises -------------------------------------------------------------------------

const ENTERPRISE_COLUMNS: Column[] = [
  { key: 'enterprise_id', header: 'enterprise' },
  { key: 'park_id', header: 'park' },
  { key: 'name' },
  { key: 'credit_code', header: 'credit code' },
  { key: 'industry_code', header: 'industry' },
  { key: 'exporter' },
  { key: 'energy_using', header: 'energy using' },
  { key: 'key_energy_consuming_unit', header: 'key unit' },
];

function enterpriseRow(e: park.metering.v1.Enterprise): Row {
  return {
    enterprise_id: e.enterpriseId,
    park_id: e.parkId,
    name: e.name,
    credit_code: e.creditCode,
    industry_code: e.industryCode,
    exporter: e.exporter,
    energy_using: e.energyUsing,
    key_energy_consuming_unit: e.keyEnergyConsumingUnit,
  };
}

export interface ListOptions {
  /** Stop after this many items (all pages by default). */
  limit?: string;
}

/** Every page of a list call, up to the limit. */
async function allPages<T>(
  limit: number,
  fetchPage: (page: park.common.v1.PageRequest) => Promise<{ items: T[]; next: string }>,
): Promise<T[]> {
  const items: T[] = [];
  let token = '';
  do {
    const page = await fetchPage({
      pageSize: Math.min(PAGE_SIZE, limit - items.length),
      pageToken: token,
    });
    items.push(...page.items);
    token = page.next;
  } while (token !== '' && items.length < limit);
  return items.slice(0, limit);
}

export async function listEnterprises(
  ctx: Context,
  options: ListOptions & { park?: string },
): Promise<View> {
  const limit = positiveInt(options.limit, '--limit', Number.MAX_SAFE_INTEGER);
  const enterprises = await allPages(limit, async (page) => {
    const response = await ctx.unary<'metering', park.metering.v1.ListEnterprisesResponse>(
      'metering',
      (client, md, opts, done) =>
        client.listEnterprises({ parkId: options.park ?? '', page }, md, opts, done),
    );
    return { items: response.enterprises, next: response.page?.nextPageToken ?? '' };
  });
  return listView(
    enterprises.map((e) => v1.Enterprise.toJSON(e)),
    ENTERPRISE_COLUMNS,
    enterprises.map(enterpriseRow),
    '(no enterprises)',
  );
}

export async function getEnterprise(ctx: Context, enterpriseId: string): Promise<View> {
  const response = await ctx.unary<'metering', park.metering.v1.GetEnterpriseResponse>(
    'metering',
    (client, md, opts, done) => client.getEnterprise({ enterpriseId }, md, opts, done),
  );
  return enterpriseView(response.enterprise);
}

function enterpriseView(e: park.metering.v1.Enterprise | undefined): View {
  if (!e) return recordView(null, ENTERPRISE_COLUMNS, {});
  return recordView(v1.Enterprise.toJSON(e), ENTERPRISE_COLUMNS, enterpriseRow(e));
}

export interface RegisterEnterpriseOptions {
  park?: string;
  name?: string;
  creditCode?: string;
  industryCode?: string;
  exporter?: boolean;
  energyUsing?: boolean;
  keyEnergyConsumingUnit?: boolean;
}

export async function registerEnterprise(
  ctx: Context,
  enterpriseId: string,
  options: RegisterEnterpriseOptions,
): Promise<View> {
  const request: park.metering.v1.RegisterEnterpriseRequest = {
    enterprise: {
      enterpriseId,
      parkId: required(options.park, '--park'),
      name: required(options.name, '--name'),
      creditCode: required(options.creditCode, '--credit-code'),
      industryCode: required(options.industryCode, '--industry-code'),
      exporter: options.exporter ?? false,
      energyUsing: options.energyUsing ?? true,
      keyEnergyConsumingUnit: options.keyEnergyConsumingUnit ?? false,
    },
  };
  const response = await ctx.unary<'metering', park.metering.v1.RegisterEnterpriseResponse>(
    'metering',
    (client, md, opts, done) => client.registerEnterprise(request, md, opts, done),
  );
  return enterpriseView(response.enterprise);
}

// ---- meters ------------------------------------------------------------------------------

const METER_COLUMNS: Column[] = [
  { key: 'meter_id', header: 'meter' },
  { key: 'enterprise_id', header: 'enterprise' },
  { key: 'commodity' },
  { key: 'role' },
  { key: 'unit' },
  { key: 'register_type', header: 'register' },
  { key: 'interval_minutes', header: 'minutes', align: 'right' },
  { key: 'rated_power_kw', header: 'rated kW', align: 'right' },
  { key: 'status' },
];

const METER_DETAIL_COLUMNS: Column[] = [
  ...METER_COLUMNS,
  { key: 'multiplier' },
  { key: 'register_maximum', header: 'register maximum' },
  { key: 'steam_enthalpy_gj_per_tonne', header: 'steam enthalpy GJ/t' },
  { key: 'source_generator_id', header: 'source generator' },
  { key: 'source_entity_id', header: 'source entity' },
  { key: 'serial_number', header: 'serial' },
  { key: 'registered_at', header: 'registered' },
];

function meterRow(m: park.metering.v1.Meter): Row {
  return {
    meter_id: m.meterId,
    enterprise_id: m.enterpriseId,
    commodity: labelOf('commodity', m.commodity),
    role: labelOf('meterRole', m.role),
    unit: unitLabel(m.unit),
    register_type: labelOf('registerType', m.registerType),
    interval_minutes: m.intervalMinutes || undefined,
    rated_power_kw: dec(m.ratedPowerKw),
    status: labelOf('meterStatus', m.status),
    multiplier: dec(m.multiplier),
    register_maximum: dec(m.registerMaximum),
    steam_enthalpy_gj_per_tonne: dec(m.steamEnthalpyGjPerTonne),
    source_generator_id: m.sourceGeneratorId,
    source_entity_id: m.sourceEntityId,
    serial_number: m.serialNumber,
    registered_at: iso(m.registeredAt),
  };
}

function meterView(m: park.metering.v1.Meter | undefined): View {
  if (!m) return recordView(null, METER_DETAIL_COLUMNS, {});
  return recordView(v1.Meter.toJSON(m), METER_DETAIL_COLUMNS, meterRow(m));
}

export async function listMeters(
  ctx: Context,
  options: ListOptions & { enterprise?: string; commodity?: string; role?: string },
): Promise<View> {
  const limit = positiveInt(options.limit, '--limit', Number.MAX_SAFE_INTEGER);
  const commodity =
    options.commodity === undefined
      ? 0
      : parseEnumOf('commodity', options.commodity, '--commodity');
  const role = options.role === undefined ? 0 : parseEnumOf('meterRole', options.role, '--role');
  const meters = await allPages(limit, async (page) => {
    const response = await ctx.unary<'metering', park.metering.v1.ListMetersResponse>(
      'metering',
      (client, md, opts, done) =>
        client.listMeters(
          { enterpriseId: options.enterprise ?? '', commodity, role, page },
          md,
          opts,
          done,
        ),
    );
    return { items: response.meters, next: response.page?.nextPageToken ?? '' };
  });
  return listView(
    meters.map((m) => v1.Meter.toJSON(m)),
    METER_COLUMNS,
    meters.map(meterRow),
    '(no meters)',
  );
}

export async function getMeter(ctx: Context, meterId: string): Promise<View> {
  const response = await ctx.unary<'metering', park.metering.v1.GetMeterResponse>(
    'metering',
    (client, md, opts, done) => client.getMeter({ meterId }, md, opts, done),
  );
  return meterView(response.meter);
}

export interface RegisterMeterOptions {
  enterprise?: string;
  commodity?: string;
  role?: string;
  unit?: string;
  register?: string;
  intervalMinutes?: string;
  ratedPowerKw?: string;
  multiplier?: string;
  registerMaximum?: string;
  steamEnthalpy?: string;
  sourceGenerator?: string;
  sourceEntity?: string;
  serial?: string;
}

export async function registerMeter(
  ctx: Context,
  meterId: string,
  options: RegisterMeterOptions,
): Promise<View> {
  const registerType = parseEnumOf('registerType', options.register ?? 'interval', '--register');
  const meter = v1.Meter.fromPartial({
    meterId,
    enterpriseId: required(options.enterprise, '--enterprise'),
    commodity: parseEnumOf('commodity', required(options.commodity, '--commodity'), '--commodity'),
    role: parseEnumOf('meterRole', required(options.role, '--role'), '--role'),
    unit: parseUnit(required(options.unit, '--unit')),
    registerType,
    // 0: the service's default (15 minutes).
    intervalMinutes: positiveInt(options.intervalMinutes, '--interval-minutes', 0),
    ratedPowerKw: optionalDecimal(options.ratedPowerKw, '--rated-power-kw'),
    multiplier: optionalDecimal(options.multiplier, '--multiplier'),
    registerMaximum: optionalDecimal(options.registerMaximum, '--register-maximum'),
    steamEnthalpyGjPerTonne: optionalDecimal(options.steamEnthalpy, '--steam-enthalpy'),
    sourceGeneratorId: options.sourceGenerator ?? '',
    sourceEntityId: options.sourceEntity ?? '',
    serialNumber: options.serial ?? '',
  });
  const response = await ctx.unary<'metering', park.metering.v1.RegisterMeterResponse>(
    'metering',
    (client, md, opts, done) => client.registerMeter({ meter }, md, opts, done),
  );
  return meterView(response.meter);
}
