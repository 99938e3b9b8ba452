import { performance } from 'node:perf_hooks';
import { park } from '@park/contracts';
import { createPool } from '@park/eventstore';
import { unary } from '@park/testing';
import { startBenchPark } from '../bench-park';
import { formatCount, formatDuration, formatNumber } from '../format';
import { runOpenLoop } from '../pacing';
import {
  DAY_MS,
  INTERVAL_MS,
  PARK_TIME_ZONE,
  ingestBatch,
  readingValue,
  registerLoadPark,
  unitOf,
  type LoadMeter,
  type LoadPark,
  type MeterKind,
} from '../park-load';
import { percentileOfSorted, perSecond, sortAscending } from '../stats';
import { defineBenchmark, type BenchResult } from '../types';
import { seededRandom } from '@park/simulator';

const m = park.metering.v1;
const DAYS = 30;
const INTERVALS = DAYS * 96;

/** One enterprise's meters: grid electricity, its own PV, gas and heat (10 by default). */
const METER_KINDS: readonly MeterKind[] = [
  'grid',
  'grid',
  'grid',
  'grid',
  'pv',
  'pv',
  'gas',
  'gas',
  'heat',
  'heat',
];

const COMMODITY: Record<MeterKind, [park.metering.v1.Commodity, string]> = {
  grid: [m.Commodity.COMMODITY_ELECTRICITY, 'electricity'],
  pv: [m.Commodity.COMMODITY_ELECTRICITY, 'electricity'],
  gas: [m.Commodity.COMMODITY_NATURAL_GAS, 'natural_gas'],
  heat: [m.Commodity.COMMODITY_HEAT, 'heat'],
};
const ROLE: Record<MeterKind, [park.metering.v1.MeterRole, string]> = {
  grid: [m.MeterRole.METER_ROLE_GRID_IMPORT, 'grid_import'],
  pv: [m.MeterRole.METER_ROLE_ONSITE_PV, 'onsite_pv'],
  gas: [m.MeterRole.METER_ROLE_GRID_IMPORT, 'grid_import'],
  heat: [m.MeterRole.METER_ROLE_GRID_IMPORT, 'grid_import'],
};

export type QueryResolution = 'quarter_hour' | 'hour' | 'day';

/** A GetSeries a dashboard asks: one meter or a commodity and role of the enterprise. */
export interface SeriesQuery {
  meter?: LoadMeter;
  kind: MeterKind;
  resolution: QueryResolution;
  from: number;
  to: number;
}

/**
 * The query mix within the month [t0, t0 + 30 days): a day at 15 minutes, a week by the hour,
 * the month by the day, in equal shares; half for one meter, half for a commodity and role.
 * Ranges start at park-local midnights.
 */
export function queryMix(
  meters: readonly LoadMeter[],
  t0: number,
  count: number,
  seed = 1,
): SeriesQuery[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const shapes: { resolution: QueryResolution; days: number }[] = [
    { resolution: 'quarter_hour', days: 1 },
    { resolution: 'hour', days: 7 },
    { resolution: 'day', days: DAYS },
  ];
  return Array.from({ length: count }, (_, i) => {
    const { resolution, days } = shapes[i % shapes.length]!;
    const meter = pick(meters);
    const firstDay = Math.floor(random() * (DAYS - days + 1));
    const from = t0 + firstDay * DAY_MS;
    return {
      ...(random() < 0.5 && { meter }),
      kind: meter.kind,
      resolution,
      from,
      to: from + days * DAY_MS,
    };
  });
}

/**
 * The same question as plain SQL on metering's readings table: the rows GetSeries reads,
 * summed per bucket by PostgreSQL (local periods in the park's time zone).
 */
export function seriesSql(
  query: SeriesQuery,
  enterpriseId: string,
): { text: string; values: unknown[] } {
  const unit = query.resolution === 'quarter_hour' ? 'minute' : query.resolution;
  const bucket = `date_trunc('${unit}', interval_start AT TIME ZONE $1)`;
  const where = query.meter
    ? 'meter_id = $2'
    : `enterprise_id = $2 AND commodity = '${COMMODITY[query.kind][1]}' AND role = '${ROLE[query.kind][1]}'`;
  return {
    text:
      `SELECT ${bucket} AS bucket, sum(value)::text AS value, count(*)::int AS intervals ` +
      `FROM readings WHERE ${where} AND interval_start >= $3 AND interval_start < $4 ` +
      'AND value IS NOT NULL GROUP BY 1 ORDER BY 1',
    values: [
      PARK_TIME_ZONE,
      query.meter ? query.meter.meterId : enterpriseId,
      new Date(query.from),
      new Date(query.to),
    ],
  };
}

function seriesRequest(
  query: SeriesQuery,
  enterpriseId: string,
): park.metering.v1.GetSeriesRequest {
  const resolution = {
    quarter_hour: m.Resolution.RESOLUTION_QUARTER_HOUR,
    hour: m.Resolution.RESOLUTION_HOUR,
    day: m.Resolution.RESOLUTION_DAY,
  }[query.resolution];
  return {
    meterId: query.meter?.meterId ?? '',
    enterpriseId: query.meter ? '' : enterpriseId,
    commodity: query.meter ? m.Commodity.COMMODITY_UNSPECIFIED : COMMODITY[query.kind][0],
    role: query.meter ? m.MeterRole.METER_ROLE_UNSPECIFIED : ROLE[query.kind][0],
    resolution,
    range: { start: new Date(query.from), end: new Date(query.to) },
  };
}

export const queryBenchmark = defineBenchmark({
  name: 'query',
  description:
    "GetSeries latency p50/p99 at a steady request rate over a month of one enterprise's 15-minute data vs the same queries as plain SQL on the same read model at the same rate",
  flags: {
    'requests-per-second': {
      kind: 'int',
      description: 'steady (open-loop) request rate, for the subject and the baseline alike',
      default: 200,
      min: 1,
      max: 5_000,
    },
    'query-seconds': {
      kind: 'int',
      description: 'measured time of each of subject and baseline',
      default: 30,
      min: 1,
      max: 600,
    },
    'enterprise-meters': {
      kind: 'int',
      description: 'meters of the enterprise: 40 % grid, 20 % PV, 20 % gas, 20 % heat',
      default: 10,
      min: 1,
      max: 200,
    },
  },

  async run({ options, infra, signal, log, progress }): Promise<BenchResult[]> {
    const rate = options['requests-per-second'];
    const count = rate * options['query-seconds'];
    const intervalMs = 1000 / rate;
    // The last 30 whole park-local days before today: within the late-data window.
    const now = Date.now();
    const offset = 8 * 3_600_000;
    const t0 = Math.floor((now + offset) / DAY_MS) * DAY_MS - offset - DAYS * DAY_MS;
    const id = `bq-${Math.floor(now / 1000) % 1e6}`;
    const enterpriseId = `${id}-ent`;
    const plan: LoadPark = {
      parkId: id,
      enterpriseIds: [enterpriseId],
      meters: Array.from({ length: options['enterprise-meters'] }, (_, i) => ({
        meterId: `${id}-M-${String(i).padStart(3, '0')}`,
        enterpriseId,
        kind: METER_KINDS[i % METER_KINDS.length]!,
      })),
    };

    log('starting metering as a child process');
    const running = await startBenchPark(infra, 'query', ['metering']);
    // The baseline's pool: the size of the service's own (DATABASE_POOL_SIZE's default).
    const pool = createPool({
      connectionString: running.services.databaseUrl('metering'),
      max: 10,
      applicationName: 'park-bench query baseline',
    });
    try {
      await registerLoadPark(running.metering, running.operator, plan, { signal });

      // A month of data through IngestReadings, a day of one meter per batch, as the service
      // itself stores it.
      const loading = progress('load', plan.meters.length * INTERVALS, 'readings');
      for (const [meterIndex, meter] of plan.meters.entries()) {
        for (let day = 0; day < DAYS; day++) {
          signal.throwIfAborted();
          const readings = Array.from({ length: 96 }, (_, k) => ({
            meterId: meter.meterId,
            intervalStart: new Date(t0 + (day * 96 + k) * INTERVAL_MS),
            value: { value: readingValue(meterIndex, day * 96 + k) },
            unit: unitOf(meter.kind),
          }));
          await ingestBatch(
            running.metering,
            running.operator,
            `${meter.meterId}-${day}`,
            readings,
          );
          loading.advance(readings.length);
        }
      }
      loading.finish();
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM readings WHERE enterprise_id = $1',
        [enterpriseId],
      );
      if (rows[0]!.n !== plan.meters.length * INTERVALS) {
        throw new Error(
          `${rows[0]!.n} rows in the readings read model, not ${plan.meters.length * INTERVALS}`,
        );
      }

      const queries = queryMix(plan.meters, t0, count);
      const ask = (query: SeriesQuery) =>
        unary<park.metering.v1.GetSeriesResponse>((done) =>
          running.metering.getSeries(seriesRequest(query, enterpriseId), running.operator, done),
        );
      const askSql = async (query: SeriesQuery) =>
        (await pool.query(seriesSql(query, enterpriseId))).rows;

      // Both answer the same: the service's buckets are PostgreSQL's, one for one.
      for (const query of queries.slice(0, 6)) {
        const [service, sql] = [await ask(query), await askSql(query)];
        const total = (values: string[]) => values.reduce((sum, v) => sum + Number(v), 0);
        const serviceTotal = total(service.points.map((p) => p.value!.value));
        const sqlTotal = total(sql.map((r: { value: string }) => r.value));
        if (
          service.points.length !== sql.length ||
          Math.abs(serviceTotal - sqlTotal) > 1e-6 * sqlTotal
        ) {
          throw new Error(
            `GetSeries and SQL differ for ${JSON.stringify({ ...query, meter: query.meter?.meterId })}: ` +
              `${service.points.length} points summing ${serviceTotal} vs ${sql.length} summing ${sqlTotal}`,
          );
        }
      }

      const measure = async (phase: string, call: (query: SeriesQuery) => Promise<unknown>) => {
        // Warm the connections and the plan cache before the clock, as a running service is.
        for (const query of queries.slice(0, 30)) await call(query);
        const latencies: number[] = [];
        const shown = progress(phase, count, 'requests');
        const outcome = await runOpenLoop({
          intervalMs,
          ticks: count,
          signal,
          fire: async (tick, scheduledAt) => {
            await call(queries[tick]!);
            // From when the request was due, not when it was sent: a late send is latency too.
            latencies.push(performance.now() - scheduledAt);
            shown.advance(1);
          },
        });
        shown.finish();
        return { latencies: sortAscending(latencies), ...outcome };
      };
      log(
        `${formatCount(count)} queries at ${rate}/s: a day at 15 min, a week by the hour, the ` +
          `month by the day; half of one meter, half of a commodity and role of ${plan.meters.length} meters`,
      );
      const subject = await measure('GetSeries', ask);
      const baseline = await measure('SQL', askSql);
      log(
        `GetSeries: ${formatNumber(perSecond(count, subject.elapsedMs))}/s achieved, generator lag at ` +
          `most ${formatDuration(subject.maxLagMs)}; SQL: ${formatNumber(perSecond(count, baseline.elapsedMs))}/s`,
      );

      const notes =
        `${formatCount(count)} requests each, open loop at ${rate}/s (latency from the due time), ` +
        `over ${plan.meters.length} meters x 30 days of 15-minute readings ingested through ` +
        'IngestReadings; subject: GetSeries over gRPC to metering as a child process (auth, ' +
        'validation, read model, aggregation in the park time zone); baseline: the same ' +
        'questions as one SQL statement each on the same readings table (sum per bucket in ' +
        'PostgreSQL), pg pool of 10 in the benchmark process';
      return [
        ...[50, 99].map((p) => ({
          metric: `latency p${p}`,
          unit: 'ms',
          subject: percentileOfSorted(subject.latencies, p),
          baseline: percentileOfSorted(baseline.latencies, p),
          higherIsBetter: false,
          ...(p === 50 && { notes }),
        })),
        {
          metric: 'achieved rate',
          unit: 'requests/s',
          subject: perSecond(count, subject.elapsedMs),
          baseline: perSecond(count, baseline.elapsedMs),
          higherIsBetter: true,
          notes: `requests answered per second from the first due time to the last answer (${rate}/s asked)`,
        },
      ];
    } finally {
      await pool.end().catch(() => undefined);
      await running.stop();
    }
  },
});
