import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { creditCodeCheckCharacter, organizationCodeCheckCharacter } from '@park/metering';
import { backoffDelayMs, unary } from '@park/testing';

// Registration and readings of the load benchmarks (freshness, query, soak), sent to the
// services over gRPC as a gateway or an integrator sends them.

const m = park.metering.v1;
const Unit = park.common.v1.Unit;

export const INTERVAL_MS = 15 * 60_000;
export const DAY_MS = 86_400_000;
/** The benchmarks' park lies in China, as the reference design's. */
export const PARK_TIME_ZONE = 'Asia/Shanghai';
const PARK_OFFSET_MS = 8 * 3_600_000;

export type MeterKind = 'grid' | 'pv' | 'gas' | 'heat';

export interface LoadMeter {
  meterId: string;
  enterpriseId: string;
  kind: MeterKind;
}

export interface LoadPark {
  parkId: string;
  enterpriseIds: string[];
  meters: LoadMeter[];
}

/** A unified social credit code with valid check characters, different for each number. */
export function benchCreditCode(n: number): string {
  const body = String(n % 1e8).padStart(8, '0');
  const first17 = `91210112${body}${organizationCodeCheckCharacter(body)}`;
  return first17 + creditCodeCheckCharacter(first17);
}

/** Park-local midnight opening the month `monthsBack` months before the one `now` is in. */
export function parkMonthStart(now: number, monthsBack: number): number {
  const local = new Date(now + PARK_OFFSET_MS);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - monthsBack, 1) - PARK_OFFSET_MS;
}

/** `YYYY-MM` of a park-local month. */
export function parkMonth(instant: number): string {
  return new Date(instant + PARK_OFFSET_MS).toISOString().slice(0, 7);
}

function meterProto(meter: LoadMeter): park.metering.v1.Meter {
  // Heat in MJ: the load's values (1 to 91 per interval) stay below a 2,000 kW meter's 15-minute
  // limit of 500 kWh = 1,800 MJ; in GJ they would be held as spikes.
  const shape = {
    grid: [m.Commodity.COMMODITY_ELECTRICITY, m.MeterRole.METER_ROLE_GRID_IMPORT, Unit.UNIT_KWH],
    pv: [m.Commodity.COMMODITY_ELECTRICITY, m.MeterRole.METER_ROLE_ONSITE_PV, Unit.UNIT_KWH],
    gas: [m.Commodity.COMMODITY_NATURAL_GAS, m.MeterRole.METER_ROLE_GRID_IMPORT, Unit.UNIT_NM3],
    heat: [m.Commodity.COMMODITY_HEAT, m.MeterRole.METER_ROLE_GRID_IMPORT, unitOf('heat')],
  } as const;
  const [commodity, role, unit] = shape[meter.kind];
  return {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    commodity,
    role,
    unit,
    registerType: m.RegisterType.REGISTER_TYPE_INTERVAL,
    registerMaximum: undefined,
    multiplier: { value: '1' },
    intervalMinutes: 15,
    steamEnthalpyGjPerTonne: undefined,
    sourceEntityId: '',
    sourceGeneratorId: '',
    status: m.MeterStatus.METER_STATUS_ACTIVE,
    registeredAt: undefined,
    serialNumber: `SN-${meter.meterId}`,
    ratedPowerKw: meter.kind === 'gas' ? undefined : { value: '2000' },
  };
}

export function unitOf(kind: MeterKind): park.common.v1.Unit {
  return kind === 'gas' ? Unit.UNIT_NM3 : kind === 'heat' ? Unit.UNIT_MJ : Unit.UNIT_KWH;
}

/**
 * A deterministic reading of a few units (kWh, Nm3 or MJ: well inside every meter's plausible
 * range), with three decimals, the same from run to run.
 */
export function readingValue(meterIndex: number, interval: number): string {
  return ((((meterIndex * 7_919 + interval * 104_729) % 90_000) / 1_000 + 1) as number).toFixed(3);
}

/** Registers the park, its enterprises and meters with metering, `concurrency` calls at a time. */
export async function registerLoadPark(
  client: park.metering.v1.MeteringServiceClient,
  metadata: grpc.Metadata,
  plan: LoadPark,
  options: { signal: AbortSignal; concurrency?: number; onMeter?: () => void },
): Promise<void> {
  await unary((done) =>
    client.configurePark(
      {
        park: {
          parkId: plan.parkId,
          name: `Bench park ${plan.parkId}`,
          timeZone: PARK_TIME_ZONE,
          latitude: { value: '41.8' },
          longitude: { value: '123.4' },
          gridRegion: 'northeast_china',
          sizeBand: m.SizeBand.SIZE_BAND_BELOW_200K_TCE,
        },
      },
      metadata,
      done,
    ),
  );
  for (const [n, enterpriseId] of plan.enterpriseIds.entries()) {
    options.signal.throwIfAborted();
    await unary((done) =>
      client.registerEnterprise(
        {
          enterprise: {
            enterpriseId,
            parkId: plan.parkId,
            name: `Bench enterprise ${enterpriseId}`,
            creditCode: benchCreditCode(n + 1),
            industryCode: 'C3120',
            exporter: false,
            energyUsing: true,
            keyEnergyConsumingUnit: false,
          },
        },
        metadata,
        done,
      ),
    );
  }
  let next = 0;
  const worker = async () => {
    while (next < plan.meters.length) {
      options.signal.throwIfAborted();
      const meter = plan.meters[next++]!;
      await unary((done) => client.registerMeter({ meter: meterProto(meter) }, metadata, done));
      options.onMeter?.();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
}

export interface ProtoReading {
  meterId: string;
  intervalStart: Date;
  value: { value: string };
  unit: park.common.v1.Unit;
}

/**
 * One IngestReadings call of one batch, answered once metering has stored it: a gateway's
 * upload. ABORTED (another call appended to one of its meters' streams at the same moment) and
 * UNAVAILABLE (no database connection free in time, or metering at capacity) are retried as the
 * status asks, with backoff (100 ms doubling to 5 s) for up to 5 minutes, as a gateway holds its
 * backlog through a service's overload (metering refuses batches beyond its admission limits).
 * Metering commits a batch's meters in several transactions, so a failed call may have stored some
 * of them: on a retry those come back as duplicates, which count as stored. Resolves with the answer; rejects when a reading was not stored, because a benchmark
 * must not report figures of readings the service refused.
 */
export async function ingestBatch(
  client: park.metering.v1.MeteringServiceClient,
  metadata: grpc.Metadata,
  batchId: string,
  readings: ProtoReading[],
): Promise<park.metering.v1.IngestReadingsResponse> {
  const giveUpAt = Date.now() + 300_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ingestOnce(client, metadata, batchId, readings, attempt > 1);
    } catch (error) {
      const code = (error as grpc.ServiceError).code;
      const retriable = code === grpc.status.ABORTED || code === grpc.status.UNAVAILABLE;
      const backoffMs = backoffDelayMs(attempt, 100, 5_000);
      if (!retriable || Date.now() + backoffMs > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
  }
}

function ingestOnce(
  client: park.metering.v1.MeteringServiceClient,
  metadata: grpc.Metadata,
  batchId: string,
  readings: ProtoReading[],
  retry: boolean,
): Promise<park.metering.v1.IngestReadingsResponse> {
  return new Promise((resolve, reject) => {
    const call = client.ingestReadings(metadata, (error, response) => {
      if (error) return reject(error);
      const stored = response!.accepted + (retry ? response!.duplicate : 0);
      if (stored !== readings.length) {
        const reasons = response!.batches.flatMap((b) => b.rejections).slice(0, 3);
        return reject(
          new Error(
            `batch ${batchId}: ${response!.accepted} of ${readings.length} readings accepted ` +
              `(${response!.duplicate} duplicate, ${response!.held} held, ${response!.rejected} rejected): ` +
              JSON.stringify(reasons),
          ),
        );
      }
      resolve(response!);
    });
    call.write({ batchId, source: 'gateway:bench', readings });
    call.end();
  });
}

/**
 * Steady traffic of many interval meters: the n-th reading of the run is meter
 * floor((n mod M·k) / k) at interval round·k + (n mod k), round = floor(n / (M·k)): each meter in
 * turn uploads its next k intervals (an hour when k = 4), then the first meter again.
 */
export function steadyReading(
  n: number,
  meters: number,
  intervalsPerUpload: number,
): { meterIndex: number; interval: number } {
  const perRound = meters * intervalsPerUpload;
  const round = Math.floor(n / perRound);
  const within = n % perRound;
  return {
    meterIndex: Math.floor(within / intervalsPerUpload),
    interval: round * intervalsPerUpload + (within % intervalsPerUpload),
  };
}

/** Intervals of each meter that `total` readings of steady traffic reach (the span they need). */
export function intervalsSpanned(
  total: number,
  meters: number,
  intervalsPerUpload: number,
): number {
  if (total <= 0) return 0;
  return steadyReading(total - 1, meters, intervalsPerUpload).interval + 1;
}

/** The readings [from, from + count) of steady traffic over `meters`, starting at `t0`. */
export function steadyReadings(
  meters: readonly LoadMeter[],
  intervalsPerUpload: number,
  t0: number,
  from: number,
  count: number,
): ProtoReading[] {
  const readings: ProtoReading[] = [];
  for (let n = from; n < from + count; n++) {
    const { meterIndex, interval } = steadyReading(n, meters.length, intervalsPerUpload);
    const meter = meters[meterIndex]!;
    readings.push({
      meterId: meter.meterId,
      intervalStart: new Date(t0 + interval * INTERVAL_MS),
      value: { value: readingValue(meterIndex, interval) },
      unit: unitOf(meter.kind),
    });
  }
  return readings;
}

/** Electricity grid meters for steady load, `metersPerEnterprise` to an enterprise. */
export function gridLoadPark(
  parkId: string,
  meters: number,
  metersPerEnterprise: number,
): LoadPark {
  const enterpriseIds = Array.from(
    { length: Math.ceil(meters / metersPerEnterprise) },
    (_, e) => `${parkId}-ent-${String(e).padStart(3, '0')}`,
  );
  return {
    parkId,
    enterpriseIds,
    meters: Array.from({ length: meters }, (_, i) => ({
      meterId: `${parkId}-M-${String(i).padStart(5, '0')}`,
      enterpriseId: enterpriseIds[Math.floor(i / metersPerEnterprise)]!,
      kind: 'grid' as const,
    })),
  };
}

/**
 * Metering creates the readings table's monthly partition on the first reading of a month, and
 * two calls creating the same one at once fail ("relation ... already exists"): one reading of
 * `meter` per UTC month of [from, to), sent one call after the other before the load, creates
 * them first.
 */
export async function ensureReadingPartitions(
  client: park.metering.v1.MeteringServiceClient,
  metadata: grpc.Metadata,
  meter: LoadMeter,
  from: number,
  to: number,
): Promise<void> {
  const starts: number[] = [];
  for (let at = from; at < to;) {
    starts.push(at);
    const month = new Date(at);
    at = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1);
  }
  for (const [i, at] of starts.entries()) {
    const intervalStart = new Date(Math.ceil(at / INTERVAL_MS) * INTERVAL_MS);
    await ingestBatch(client, metadata, `partition-${i}`, [
      {
        meterId: meter.meterId,
        intervalStart,
        value: { value: '1.000' },
        unit: unitOf(meter.kind),
      },
    ]);
  }
}
