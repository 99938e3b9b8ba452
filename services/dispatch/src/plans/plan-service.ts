import { randomUUID } from 'node:crypto';
import {
  localDate,
  localDateTime,
  startOfLocalDayAfter,
  zonedInstant,
} from '@park/domain-primitives';
import { inTransaction, toJson, type EventStore, type Queryable } from '@park/eventstore';
import {
  ConflictError,
  NotFoundError,
  PreconditionError,
  ValidationError,
} from '@park/service-kit/errors';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { clearSkyPvForecast, noWindForecast, weekdayLoadForecast } from '../forecasts';
import { consumptionMeters, meteredSums, parkLocation } from '../metered/metered-store';
import { planDay as solvePlan, type PlanningProblem, type PlanResult } from '../planning';
import { importPriceAt, type DayType } from '../topology/topology';
import type { TopologyService } from '../topology/topology-service';

export const INTERVAL_MINUTES = 15;
const INTERVAL_MS = INTERVAL_MINUTES * 60_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export type PlanKind = 'day_ahead' | 'intraday';

/** A plan as stored and served: the solver's result with its inputs' notes. */
export interface StoredPlan {
  planId: string;
  parkId: string;
  day: string;
  kind: PlanKind;
  issuedAt: string;
  /** First planned interval of the day (intraday plans start later than 0). */
  fromInterval: number;
  notes: string[];
  importPriceCnyPerKwh: number[];
  exportPriceCnyPerKwh: number[];
  /** The inflexible load planned for, kW per interval. */
  loadKw: number[];
  result: Omit<PlanResult, 'lp'>;
}

export interface PlanRequest {
  kind?: PlanKind;
  /** First interval of the day to plan (intraday re-plans start at the interval in progress). */
  fromInterval?: number;
  /** Batteries' state of charge to start from (metered), as fractions of their energy. */
  initialSocFraction?: Record<string, number>;
  /** Factors on plants' forecasts, from their metered output against the previous plan. */
  generationScale?: Record<string, number>;
}

export interface PlanIssued {
  type: 'PlanIssued';
  plan: StoredPlan;
}

export const planStreamId = (parkId: string, day: string): string => `plan-${parkId}-${day}`;

export interface PlanServiceOptions {
  timeLimitSeconds: number;
  mipRelativeGap: number;
  lockTtlMs: number;
  curtailmentCnyPerKwh: number;
}

function dayBounds(day: string, timeZone: string): { start: number; end: number } {
  const match = DAY.exec(day);
  const start = match
    ? zonedInstant(
        { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) },
        timeZone,
      )
    : Number.NaN;
  // Date.UTC rolls "2026-13-01" over to 2027-01-01: only a day that comes back unchanged exists.
  if (!match || localDate(start, timeZone) !== day) {
    throw ValidationError.field('day', `'${day}' is not a day YYYY-MM-DD`);
  }
  return { start, end: startOfLocalDayAfter(start, 1, timeZone) };
}

function dayTypeOf(day: string, start: number, timeZone: string, holidays: string[]): DayType {
  if (holidays.includes(day)) return 'holiday';
  const local = localDateTime(start, timeZone);
  const weekday = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay();
  return weekday === 0 || weekday === 6 ? 'weekend' : 'workday';
}

/**
 * Plans a park's day (or the rest of it, intraday) from its topology, the forecasts submitted
 * or built in, and the batteries' state; one replica at a time per park (a Redis lock).
 */
export class PlanService {
  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly topologies: TopologyService,
    private readonly options: PlanServiceOptions,
  ) {}

  async plan(
    parkId: string,
    day: string,
    request: PlanRequest = {},
    now: Date = new Date(),
  ): Promise<StoredPlan> {
    const lockKey = `dispatch:planning:${parkId}`;
    const token = randomUUID();
    const taken = await this.redis.set(lockKey, token, 'PX', this.options.lockTtlMs, 'NX');
    if (taken !== 'OK') {
      throw new ConflictError(
        `park ${parkId} is being planned by another request; try again shortly`,
      );
    }
    try {
      return await this.planLocked(parkId, day, request, now);
    } finally {
      // Only our own lock: it may have expired and been taken by another replica meanwhile.
      await this.redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        lockKey,
        token,
      );
    }
  }

  private async planLocked(
    parkId: string,
    day: string,
    request: PlanRequest,
    now: Date,
  ): Promise<StoredPlan> {
    const { topology, version } = await this.topologies.topology(parkId);
    if (version === 0) throw new NotFoundError(`park ${parkId} has no dispatch topology`);
    if (!topology.grid) {
      throw new PreconditionError(
        `park ${parkId} has no grid connection and tariff (ConfigureGrid)`,
      );
    }
    const grid = topology.grid;
    const timeZone = topology.timeZone;
    const { start: dayStart, end: dayEnd } = dayBounds(day, timeZone);
    const dayIntervals = Math.round((dayEnd - dayStart) / INTERVAL_MS);
    const fromInterval = request.fromInterval ?? 0;
    if (fromInterval < 0 || fromInterval >= dayIntervals) {
      throw ValidationError.field('from_interval', `must be from 0 to ${dayIntervals - 1}`);
    }
    const start = dayStart + fromInterval * INTERVAL_MS;
    const intervals = dayIntervals - fromInterval;
    const notes: string[] = [];

    const dayType = dayTypeOf(day, dayStart, timeZone, grid.tariff.holidays);
    const importPrice = Array.from({ length: intervals }, (_, i) => {
      const local = localDateTime(start + i * INTERVAL_MS, timeZone);
      return Number(importPriceAt(grid, dayType, local.hour * 60 + local.minute));
    });
    const exportPrice = Array<number>(intervals).fill(Number(grid.tariff.feedInCnyPerKwh));

    const load = await this.loadForecast(parkId, timeZone, dayStart, start, intervals, notes);
    const generators = [];
    for (const plant of Object.values(topology.plants).sort((a, b) =>
      a.plantId.localeCompare(b.plantId),
    )) {
      const submitted = await this.submitted(parkId, plant.plantId, start, intervals);
      if (submitted) {
        generators.push({ assetId: plant.plantId, kind: plant.kind, availableKw: submitted });
      } else if (plant.kind === 'pv') {
        generators.push({
          assetId: plant.plantId,
          kind: plant.kind,
          availableKw: clearSkyPvForecast({
            latitude: Number(plant.latitude),
            longitude: Number(plant.longitude),
            capacityKw: Number(plant.capacityKw),
            derate: Number(plant.derate),
            start: new Date(start).toISOString(),
            intervals,
            intervalMinutes: INTERVAL_MINUTES,
          }),
        });
        notes.push(`${plant.plantId}: clear-sky PV model (no forecast submitted)`);
      } else {
        const none = noWindForecast(intervals);
        generators.push({ assetId: plant.plantId, kind: plant.kind, availableKw: none.kw });
        notes.push(`${plant.plantId}: ${none.note}`);
      }
      const scale = request.generationScale?.[plant.plantId];
      if (scale !== undefined && scale !== 1) {
        const last = generators[generators.length - 1]!;
        last.availableKw = last.availableKw.map((kw) => kw * scale);
        notes.push(
          `${plant.plantId}: forecast scaled by ${scale.toFixed(3)} to its metered output`,
        );
      }
    }

    const batteries = [];
    for (const battery of Object.values(topology.batteries).sort((a, b) =>
      a.batteryId.localeCompare(b.batteryId),
    )) {
      const min = Number(battery.socMinFraction);
      const max = Number(battery.socMaxFraction);
      let initial = request.initialSocFraction?.[battery.batteryId];
      if (initial === undefined) {
        const live = await this.redis.hget('dispatch:soc', battery.batteryId);
        if (live !== null) initial = Number(live);
      }
      if (initial === undefined) {
        initial = (min + max) / 2;
        notes.push(`${battery.batteryId}: no metered state of charge, planned from ${initial}`);
      }
      initial = Math.min(max, Math.max(min, initial));
      batteries.push({
        assetId: battery.batteryId,
        energyKwh: Number(battery.energyKwh),
        maxChargeKw: Number(battery.maxChargeKw),
        maxDischargeKw: Number(battery.maxDischargeKw),
        chargeEfficiency: Number(battery.chargeEfficiency),
        dischargeEfficiency: Number(battery.dischargeEfficiency),
        socMinFraction: min,
        socMaxFraction: max,
        initialSocFraction: initial,
        endSocMinFraction: initial,
        degradationCnyPerMwh: Number(battery.degradationCnyPerMwh),
      });
    }

    const flexibleLoads = Object.values(topology.flexibleLoads)
      .sort((a, b) => a.loadId.localeCompare(b.loadId))
      .flatMap((flexible) => {
        const windowStart =
          Math.floor(flexible.windowStartMinute / INTERVAL_MINUTES) - fromInterval;
        const windowEnd = Math.ceil(flexible.windowEndMinute / INTERVAL_MINUTES) - fromInterval;
        if (windowEnd <= 0) return [];
        return [
          {
            loadId: flexible.loadId,
            energyKwh: Number(flexible.energyKwh),
            windowStart: Math.max(0, windowStart),
            windowEnd: Math.min(intervals, windowEnd),
            maxKw: Number(flexible.maxKw),
          },
        ];
      });

    const problem: PlanningProblem = {
      start: new Date(start).toISOString(),
      intervalHours: INTERVAL_MINUTES / 60,
      importPriceCnyPerKwh: importPrice,
      exportPriceCnyPerKwh: exportPrice,
      carbonPriceCnyPerTonne: Number(grid.carbon.cnyPerTonne),
      gridFactorKgPerKwh: Array<number>(intervals).fill(Number(grid.carbon.gridFactorKgPerKwh)),
      importLimitKw: Number(grid.importLimitKw),
      exportLimitKw: Number(grid.exportLimitKw),
      loadKw: load,
      generators,
      batteries,
      flexibleLoads,
      curtailmentCnyPerKwh: this.options.curtailmentCnyPerKwh,
      allowCurtailment: true,
      timeLimitSeconds: this.options.timeLimitSeconds,
      mipRelativeGap: this.options.mipRelativeGap,
    };
    const { lp: _lp, ...result } = await solvePlan(problem);
    const plan: StoredPlan = {
      planId: randomUUID(),
      parkId,
      day,
      kind: request.kind ?? 'day_ahead',
      issuedAt: now.toISOString(),
      fromInterval,
      notes,
      importPriceCnyPerKwh: importPrice,
      exportPriceCnyPerKwh: exportPrice,
      loadKw: load,
      result,
    };
    await inTransaction(this.pool, async (tx) => {
      const event: PlanIssued = { type: 'PlanIssued', plan };
      await this.store.append(
        planStreamId(parkId, day),
        [{ type: event.type, data: toJson(event), metadata: {} }],
        'any',
        {
          client: tx,
        },
      );
      await tx.query(
        `INSERT INTO plans (plan_id, park_id, day, kind, issued_at, content) VALUES ($1, $2, $3, $4, $5, $6)`,
        [plan.planId, parkId, day, plan.kind, plan.issuedAt, JSON.stringify(plan)],
      );
    });
    return plan;
  }

  /** The park's inflexible load: a submitted forecast, else the same weekday's metered profile. */
  private async loadForecast(
    parkId: string,
    timeZone: string,
    dayStart: number,
    start: number,
    intervals: number,
    notes: string[],
  ): Promise<number[]> {
    const submitted = await this.submitted(parkId, 'load', start, intervals);
    if (submitted) return submitted;
    const meters = await consumptionMeters(this.pool);
    const historyFrom = new Date(dayStart - 28 * 86_400_000).toISOString();
    const sums = await meteredSums(
      this.pool,
      meters,
      historyFrom,
      new Date(dayStart).toISOString(),
    );
    const forecast = weekdayLoadForecast({
      history: [...sums].map(([intervalStart, kwh]) => ({ intervalStart, kwh })),
      targetDayStart: new Date(dayStart).toISOString(),
      timeZone,
      intervals: Math.round((startOfLocalDayAfter(dayStart, 1, timeZone) - dayStart) / INTERVAL_MS),
      intervalMinutes: INTERVAL_MINUTES,
      weeks: 4,
    });
    notes.push(
      forecast.weeksUsed === 0
        ? 'load: no metered history and no forecast submitted: load counted as zero'
        : `load: same weekday's metered profile over ${forecast.weeksUsed} week(s)`,
    );
    const offset = Math.round((start - dayStart) / INTERVAL_MS);
    return forecast.kw.slice(offset, offset + intervals);
  }

  private async submitted(
    parkId: string,
    assetId: string,
    start: number,
    intervals: number,
  ): Promise<number[] | undefined> {
    const { rows } = await this.pool.query<{ interval_start: Date; kw: number }>(
      `SELECT interval_start, kw FROM forecasts
       WHERE park_id = $1 AND asset_id = $2 AND interval_start >= $3 AND interval_start < $4
       ORDER BY interval_start`,
      [
        parkId,
        assetId,
        new Date(start).toISOString(),
        new Date(start + intervals * INTERVAL_MS).toISOString(),
      ],
    );
    if (rows.length !== intervals) return undefined;
    return rows.map((row) => row.kw);
  }

  async submitForecast(
    parkId: string,
    assetId: string,
    start: Date,
    intervalMinutes: number,
    valuesKw: number[],
    now: Date = new Date(),
  ): Promise<number> {
    if (intervalMinutes !== INTERVAL_MINUTES) {
      throw ValidationError.field('interval_minutes', `must be ${INTERVAL_MINUTES}`);
    }
    if (start.getTime() % INTERVAL_MS !== 0) {
      throw ValidationError.field('start', 'must be aligned to a 15-minute boundary');
    }
    if (valuesKw.length === 0 || valuesKw.length > 96 * 14) {
      throw ValidationError.field('values_kw', 'must hold 1 to 1,344 values (14 days)');
    }
    const bad = valuesKw.findIndex((value) => !Number.isFinite(value) || value < 0);
    if (bad >= 0) throw ValidationError.field(`values_kw[${bad}]`, 'must be a non-negative number');
    const { topology, version } = await this.topologies.topology(parkId);
    // A forecast for a park nobody defined would be stored and never used.
    if (version === 0) throw new NotFoundError(`park ${parkId} has no dispatch topology`);
    if (assetId !== 'load' && !Object.hasOwn(topology.plants, assetId)) {
      throw new NotFoundError(`asset ${assetId} is not a plant of park ${parkId} (or "load")`);
    }
    await this.pool.query(
      `INSERT INTO forecasts (park_id, asset_id, interval_start, kw, submitted_at)
       SELECT $1, $2, $3::timestamptz + (i - 1) * interval '15 minutes', v, $5
       FROM unnest($4::double precision[]) WITH ORDINALITY AS f(v, i)
       ON CONFLICT (park_id, asset_id, interval_start) DO UPDATE SET kw = EXCLUDED.kw, submitted_at = EXCLUDED.submitted_at`,
      [parkId, assetId, start.toISOString(), valuesKw, now.toISOString()],
    );
    return valuesKw.length;
  }

  async latest(parkId: string, day?: string, planId?: string): Promise<StoredPlan | undefined> {
    const { rows } = await this.pool.query<{ content: StoredPlan }>(
      planId
        ? 'SELECT content FROM plans WHERE plan_id = $1'
        : 'SELECT content FROM plans WHERE park_id = $1 AND day = $2 ORDER BY issued_at DESC LIMIT 1',
      planId ? [planId] : [parkId, day],
    );
    return rows[0]?.content;
  }

  /** The park's location for its plants' defaults (from metering's registry). */
  location(parkId: string) {
    return parkLocation(this.pool as Queryable, parkId);
  }
}
