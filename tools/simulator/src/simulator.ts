import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { seededRandom, type SimMeter, type SimPark } from './park-model';
import { INTERVAL_MS, intervalValues } from './profiles';

const m = park.metering.v1;
const Unit = park.common.v1.Unit;
const d = park.dispatch.v1;
const DAY_MS = 86_400_000;

export interface SimulatorTargets {
  metering: string;
  carbon: string;
  dispatch: string;
  /** Bearer token of an operator (registration) or integrator (readings). */
  token: string;
}

export interface RunOptions {
  /** First simulated interval (a park-local midnight is the natural choice). */
  start: number;
  /** Simulated days per real minute while behind real time (1 = one day per minute). */
  speed: number;
  /** Stop after this many simulated days; undefined runs until stopped. */
  days?: number;
  /** Share of readings dropped (gaps), sent again later (late) and repeated (duplicates). */
  anomalies?: { gap: number; late: number; duplicate: number };
  /**
   * While catching up with real time, up to this many intervals go in one batch, as a gateway
   * sends its backlog (1, the default: a batch per interval). In real time every interval is
   * sent as soon as it ends.
   */
  intervalsPerBatch?: number;
  signal?: AbortSignal;
  now?: () => number;
  log?: (line: string) => void;
}

export interface RunSummary {
  intervals: number;
  sent: number;
  accepted: number;
  duplicates: number;
  corrected: number;
  rejected: number;
  gaps: number;
  late: number;
}

function metadata(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

function unary<T>(
  call: (done: (error: grpc.ServiceError | null, value?: T) => void) => unknown,
): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, value) => (error ? reject(error) : resolve(value!))),
  );
}

const dec = (value: number | string) => ({
  value: typeof value === 'number' ? value.toFixed(3) : value,
});

function meterProto(sim: SimPark, meter: SimMeter): park.metering.v1.Meter {
  const enterprise = sim.enterprises.find((e) => e.enterpriseId === meter.enterpriseId);
  const base = {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    registerType: m.RegisterType.REGISTER_TYPE_INTERVAL,
    registerMaximum: undefined,
    multiplier: { value: '1' },
    intervalMinutes: 15,
    steamEnthalpyGjPerTonne: undefined,
    sourceEntityId: '',
    status: m.MeterStatus.METER_STATUS_ACTIVE,
    registeredAt: undefined,
    serialNumber: `SN-${meter.meterId}`,
  };
  const kw = (value: number) => ({ value: String(Math.round(value)) });
  switch (meter.kind) {
    case 'grid':
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_ELECTRICITY,
        role: m.MeterRole.METER_ROLE_GRID_IMPORT,
        unit: Unit.UNIT_KWH,
        ratedPowerKw: kw(enterprise!.baseLoadKw * 3),
        sourceGeneratorId: '',
      };
    case 'direct_line':
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_ELECTRICITY,
        role: m.MeterRole.METER_ROLE_GREEN_DIRECT_LINE,
        unit: Unit.UNIT_KWH,
        ratedPowerKw: kw(3000),
        sourceGeneratorId: sim.line.plantId,
      };
    case 'pv':
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_ELECTRICITY,
        role: m.MeterRole.METER_ROLE_ONSITE_PV,
        unit: Unit.UNIT_KWH,
        ratedPowerKw: kw(enterprise!.pvKw * 1.2),
        sourceGeneratorId: '',
      };
    case 'gas':
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_NATURAL_GAS,
        role: m.MeterRole.METER_ROLE_GRID_IMPORT,
        unit: Unit.UNIT_NM3,
        ratedPowerKw: undefined,
        sourceGeneratorId: '',
      };
    case 'heat':
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_HEAT,
        role: m.MeterRole.METER_ROLE_GRID_IMPORT,
        unit: Unit.UNIT_GJ,
        ratedPowerKw: kw(5000),
        sourceGeneratorId: '',
      };
    case 'soc':
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_ELECTRICITY,
        role: m.MeterRole.METER_ROLE_STORAGE_STATE_OF_CHARGE,
        unit: Unit.UNIT_PERCENT,
        ratedPowerKw: undefined,
        sourceGeneratorId: '',
      };
    case 'plant': {
      const plant = sim.plants.find((p) => p.plantId === meter.assetId)!;
      // A plant's output meter is read by dispatch (generation against the plan). Its energy
      // reaches enterprises over the direct line and their own meters, so carbon must not count
      // it again: it is registered as a sub-meter, which accounting leaves out.
      return {
        ...base,
        commodity: m.Commodity.COMMODITY_ELECTRICITY,
        role: m.MeterRole.METER_ROLE_SUB_METER,
        unit: Unit.UNIT_KWH,
        ratedPowerKw: kw(plant.capacityKw * 1.2),
        sourceGeneratorId: '',
      };
    }
  }
}

/** The unit each kind of simulated meter reads in, as its readings are sent. */
export const UNITS: Record<SimMeter['kind'], park.common.v1.Unit> = {
  grid: Unit.UNIT_KWH,
  direct_line: Unit.UNIT_KWH,
  pv: Unit.UNIT_KWH,
  gas: Unit.UNIT_NM3,
  heat: Unit.UNIT_GJ,
  soc: Unit.UNIT_PERCENT,
  plant: Unit.UNIT_KWH,
};

/** Registers the park with metering, carbon and dispatch; registering again changes nothing. */
export async function registerPark(
  sim: SimPark,
  targets: SimulatorTargets,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const md = metadata(targets.token);
  const credentials = grpc.credentials.createInsecure();
  const metering = new park.metering.v1.MeteringServiceClient(targets.metering, credentials);
  const carbon = new park.carbon.v1.CarbonServiceClient(targets.carbon, credentials);
  const dispatch = new park.dispatch.v1.DispatchServiceClient(targets.dispatch, credentials);
  try {
    await unary((done) =>
      metering.configurePark(
        {
          park: {
            parkId: sim.parkId,
            name: '沈阳零碳产业园',
            timeZone: 'Asia/Shanghai',
            latitude: { value: '41.8' },
            longitude: { value: '123.4' },
            gridRegion: 'northeast_china',
            sizeBand: m.SizeBand.SIZE_BAND_BELOW_200K_TCE,
          },
        },
        md,
        done,
      ),
    );
    const operatorEntity = {
      enterpriseId: sim.operatorEnterpriseId,
      parkId: sim.parkId,
      name: '园区综合能源服务有限公司',
      creditCode: sim.operatorCreditCode,
      industryCode: 'D4411',
      exporter: false,
      energyUsing: false,
      keyEnergyConsumingUnit: false,
    };
    for (const enterprise of [
      operatorEntity,
      ...sim.enterprises.map((e) => ({
        enterpriseId: e.enterpriseId,
        parkId: sim.parkId,
        name: e.name,
        creditCode: e.creditCode,
        industryCode: e.industryCode,
        exporter: e.exporter,
        energyUsing: true,
        keyEnergyConsumingUnit: e.baseLoadKw > 1500,
      })),
    ]) {
      await unary((done) => metering.registerEnterprise({ enterprise }, md, done));
    }
    for (const meter of sim.meters) {
      await unary((done) => metering.registerMeter({ meter: meterProto(sim, meter) }, md, done));
    }
    log(
      `registered ${sim.enterprises.length} enterprises and ${sim.meters.length} meters with metering`,
    );
    for (const plant of sim.plants) {
      await unary((done) =>
        carbon.registerGenerator(
          {
            generator: {
              generatorId: plant.plantId,
              name: plant.plantId,
              kind: plant.kind,
              capacityKw: { value: String(plant.capacityKw) },
              attributeStatus: park.carbon.v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED,
            },
          },
          md,
          done,
        ),
      );
      await unary((done) =>
        dispatch.registerPlant(
          {
            parkId: sim.parkId,
            plant: {
              plantId: plant.plantId,
              kind: plant.kind === 'pv' ? d.PlantKind.PLANT_KIND_PV : d.PlantKind.PLANT_KIND_WIND,
              capacityKw: { value: String(plant.capacityKw) },
              latitude: { value: '41.8' },
              longitude: { value: '123.4' },
              derate: { value: '0.8' },
              meterId: plant.meterId,
            },
          },
          md,
          done,
        ),
      );
    }
    for (const battery of sim.batteries) {
      await unary((done) =>
        dispatch.registerBattery(
          {
            parkId: sim.parkId,
            battery: {
              batteryId: battery.batteryId,
              energyKwh: { value: String(battery.energyKwh) },
              maxChargeKw: { value: String(battery.powerKw) },
              maxDischargeKw: { value: String(battery.powerKw) },
              chargeEfficiency: { value: '0.95' },
              dischargeEfficiency: { value: '0.95' },
              socMinFraction: { value: '0.1' },
              socMaxFraction: { value: '0.9' },
              degradationCnyPerMwh: { value: '30' },
              socMeterId: battery.socMeterId,
              safeMode: 'idle',
            },
          },
          md,
          done,
        ),
      );
    }
    await unary((done) =>
      dispatch.registerDirectLine(
        {
          parkId: sim.parkId,
          line: {
            lineId: sim.line.lineId,
            plantId: sim.line.plantId,
            capacityKw: { value: '3000' },
            lineMeterId: sim.plants.find((p) => p.plantId === sim.line.plantId)!.meterId,
            // Served one after the other, as the simulated line delivers (intervalValues).
            consumers: sim.line.consumers.map((enterpriseId, i) => ({
              enterpriseId,
              priority: i + 1,
              share: { value: '1' },
              consumptionMeterIds: [`${enterpriseId}-grid`, `${enterpriseId}-dl`],
            })),
            storageMeterId: '',
            exportMeterId: '',
          },
        },
        md,
        done,
      ),
    );
    // Liaoning-like time-of-use prices: valley 23-07, peak 08-11 and 17-21, flat otherwise.
    const periods: [number, number, string][] = [
      [0, 420, '0.30'],
      [420, 480, '0.62'],
      [480, 660, '1.05'],
      [660, 1020, '0.62'],
      [1020, 1260, '1.05'],
      [1260, 1380, '0.62'],
      [1380, 1440, '0.30'],
    ];
    await unary((done) =>
      dispatch.configureGrid(
        {
          parkId: sim.parkId,
          grid: { importLimitKw: { value: '40000' }, exportLimitKw: { value: '5000' } },
          tariff: {
            periods: [
              d.DayType.DAY_TYPE_WORKDAY,
              d.DayType.DAY_TYPE_WEEKEND,
              d.DayType.DAY_TYPE_HOLIDAY,
            ].flatMap((dayType) =>
              periods.map(([fromMinute, toMinute, price]) => ({
                dayType,
                fromMinute,
                toMinute,
                importCnyPerKwh: { value: price },
              })),
            ),
            feedInCnyPerKwh: { value: '0.37' },
            holidays: ['2026-01-01', '2026-05-01', '2026-10-01', '2026-10-02', '2026-10-03'],
          },
          carbon: { cnyPerTonne: { value: '80' }, gridFactorKgPerKwh: { value: '0.5122' } },
        },
        md,
        done,
      ),
    );
    log('registered plants, storage, the direct line and the grid tariff with carbon and dispatch');
  } finally {
    metering.close();
    carbon.close();
    dispatch.close();
  }
}

/**
 * Streams the park's readings as a gateway would: one IngestReadings stream per simulated day,
 * a batch per interval, in accelerated time while behind the real clock and in real time after.
 * Occasionally a reading is dropped (a gap metering estimates), held back and sent later (late
 * data), or sent twice (a duplicate).
 */
export async function streamReadings(
  sim: SimPark,
  targets: SimulatorTargets,
  options: RunOptions,
): Promise<RunSummary> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const anomalies = options.anomalies ?? { gap: 0.003, late: 0.003, duplicate: 0.005 };
  const client = new park.metering.v1.MeteringServiceClient(
    targets.metering,
    grpc.credentials.createInsecure(),
  );
  const md = metadata(targets.token);
  const summary: RunSummary = {
    intervals: 0,
    sent: 0,
    accepted: 0,
    duplicates: 0,
    corrected: 0,
    rejected: 0,
    gaps: 0,
    late: 0,
  };
  const soc = new Map<string, number>();
  const held: { due: number; reading: park.metering.v1.ReadingInput }[] = [];
  let previous: park.metering.v1.ReadingInput[] = [];
  const stepMs = DAY_MS / 96 / options.speed / (DAY_MS / 60_000);
  const intervalsPerBatch = Math.max(1, Math.floor(options.intervalsPerBatch ?? 1));
  let at = options.start;
  const end =
    options.days === undefined ? Number.POSITIVE_INFINITY : options.start + options.days * DAY_MS;
  try {
    while (at < end && !options.signal?.aborted) {
      const dayEnd = Math.min(end, at + DAY_MS);
      const batches: park.metering.v1.IngestReadingsRequest[] = [];
      const answer = new Promise<park.metering.v1.IngestReadingsResponse>((resolve, reject) => {
        const call = client.ingestReadings(md, (error, response) =>
          error ? reject(error) : resolve(response!),
        );
        let pending: park.metering.v1.IngestReadingsRequest[] = [];
        const send = async () => {
          if (pending.length === 0) return;
          const batch: park.metering.v1.IngestReadingsRequest =
            pending.length === 1
              ? pending[0]!
              : {
                  batchId: `${pending[0]!.batchId}+${pending.length - 1}`,
                  source: pending[0]!.source,
                  readings: pending.flatMap((b) => b.readings),
                };
          pending = [];
          if (!call.write(batch)) await new Promise((r) => call.once('drain', r));
        };
        const pump = async () => {
          for (; at < dayEnd && !options.signal?.aborted; at += INTERVAL_MS) {
            // Never ahead of the real clock: metering refuses intervals ending in the future.
            while (at + INTERVAL_MS > now() && !options.signal?.aborted) {
              await new Promise((r) => setTimeout(r, Math.min(5_000, at + INTERVAL_MS - now())));
            }
            if (options.signal?.aborted) break;
            const random = seededRandom(sim.seed * 31 + Math.floor(at / INTERVAL_MS));
            const { values } = intervalValues(sim, at, soc);
            const readings: park.metering.v1.ReadingInput[] = [];
            for (const meter of sim.meters) {
              const value = values.get(meter.meterId);
              if (value === undefined) continue;
              const reading = {
                meterId: meter.meterId,
                intervalStart: new Date(at),
                value: dec(value),
                unit: UNITS[meter.kind],
              };
              const roll = random();
              if (roll < anomalies.gap) {
                summary.gaps++;
                continue;
              }
              if (roll < anomalies.gap + anomalies.late) {
                summary.late++;
                held.push({ due: at + 3 * INTERVAL_MS, reading });
                continue;
              }
              readings.push(reading);
            }
            for (let i = held.length - 1; i >= 0; i--) {
              if (held[i]!.due <= at) readings.push(held.splice(i, 1)[0]!.reading);
            }
            for (const reading of previous) {
              if (random() < anomalies.duplicate) readings.push(reading);
            }
            previous = readings.slice(0, 50);
            const batch = {
              batchId: new Date(at).toISOString(),
              source: 'gateway:simulator',
              readings,
            };
            batches.push(batch);
            summary.sent += readings.length;
            summary.intervals++;
            pending.push(batch);
            // Caught up with real time (the next interval has not ended): no waiting for more.
            if (pending.length >= intervalsPerBatch || at + 2 * INTERVAL_MS > now()) await send();
            if (stepMs > 0 && at + INTERVAL_MS <= now())
              await new Promise((r) => setTimeout(r, stepMs));
          }
          // The run is over: data held back as late arrives now rather than never (a gap).
          if (at >= end && held.length > 0) {
            const batch = {
              batchId: `${new Date(at).toISOString()}:late`,
              source: 'gateway:simulator',
              readings: held.splice(0).map((h) => h.reading),
            };
            batches.push(batch);
            summary.sent += batch.readings.length;
            pending.push(batch);
          }
          await send();
          call.end();
        };
        pump().catch(reject);
      });
      const response = await answer;
      summary.accepted += response.accepted;
      summary.duplicates += response.duplicate;
      summary.corrected += response.corrected;
      summary.rejected += response.rejected;
      log(
        `simulated up to ${new Date(at).toISOString()}: ${batches.reduce((n, b) => n + b.readings.length, 0)} readings ` +
          `(accepted ${response.accepted}, duplicates ${response.duplicate}, rejected ${response.rejected})`,
      );
    }
  } finally {
    client.close();
  }
  return summary;
}
