import {
  Dec,
  decimalText,
  localDate,
  localDateTime,
  startOfLocalDay,
  startOfLocalDayAfter,
} from '@park/domain-primitives';
import type { Queryable } from '@park/eventstore';
import type { Principal } from '@park/service-kit';
import { UnavailableError } from '@park/service-kit/errors';
import { ratio } from '../kpis/format';
import { daysOf, parsePeriod, type Granularity } from '../kpis/periods';
import type { ReportingQueries, Schemas } from '../kpis/reporting-queries';
import type {
  Balance,
  BalanceInterval,
  DayTrendPoint,
  DispatchView,
  EnterpriseView,
  Overview,
  PlannedBattery,
  PlanSummary,
  QualityRow,
  QualityView,
  Ranking,
  SessionInfo,
  SetpointRow,
} from './contract';

const QUARTER_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
/** Roles whose metered electricity makes up the park's supply in the energy balance. */
const BALANCE_ROLES = [
  'grid_import',
  'green_direct_line',
  'onsite_pv',
  'wind',
  'storage_charge',
  'storage_discharge',
];
/** Roles left out of an enterprise's series: telemetry, and sub-meters (part of another meter). */
const NOT_SERIES = ['storage_soc', 'sub_meter'];
/** Days the data-quality trend shows, ending with the chosen day. */
const QUALITY_TREND_DAYS = 14;
/** Days the overview's trend shows at most (a year: its last ones to date). */
const OVERVIEW_TREND_DAYS = 31;

/** Dispatch's topology as far as the dashboard needs it (from dispatch's GetTopology). */
export interface BatteryTopology {
  batteryId: string;
  energyKwh: number;
  socMeterId: string;
}

const num = (value: string | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);

/**
 * A query on a projection's tables. While a projection of an older shape still answers (its
 * new version is being rebuilt after an upgrade), tables or columns the dashboard reads may not
 * exist yet: that is an unavailable service for a minute, not an internal error.
 */
async function rows<T extends object>(db: Queryable, text: string, values: unknown[]) {
  try {
    return (await db.query<T>(text, values)).rows;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42P01' || code === '42703') {
      throw new UnavailableError(
        'reporting is rebuilding its projections for this release: the dashboard answers once they have caught up',
      );
    }
    throw error;
  }
}

/** The dashboard's reads, on the projections' active versions and ReportingQueries. */
export class DashboardQueries {
  constructor(
    private readonly db: Queryable,
    private readonly schemas: () => Promise<Schemas>,
    private readonly reporting: ReportingQueries,
  ) {}

  /** The registry's enterprises (one, when given), by park and id. */
  async enterprises(only?: string): Promise<SessionInfo['enterprises']> {
    const s = await this.schemas();
    const found = await rows<{
      enterprise_id: string;
      park_id: string;
      name: string;
      energy_using: boolean;
    }>(
      this.db,
      `SELECT enterprise_id, park_id, name, energy_using FROM ${s.registry}.enterprises
       WHERE $1::text IS NULL OR enterprise_id = $1 ORDER BY park_id, enterprise_id`,
      [only ?? null],
    );
    return found.map((e) => ({
      enterpriseId: e.enterprise_id,
      parkId: e.park_id,
      name: e.name,
      energyUsing: e.energy_using,
    }));
  }

  async session(principal: Principal, now: Date): Promise<Omit<SessionInfo, 'sources' | 'events'>> {
    const s = await this.schemas();
    const own = principal.role === 'enterprise' ? principal.enterpriseId : undefined;
    const enterprises = await this.enterprises(own);
    const parkViews = principal.role === 'operator' || principal.role === 'service';
    const parks = await rows<{ park_id: string; time_zone: string }>(
      this.db,
      `SELECT park_id, time_zone FROM ${s.registry}.parks
       WHERE $1::boolean OR park_id = ANY($2::text[]) ORDER BY park_id`,
      [parkViews, enterprises.map((e) => e.parkId)],
    );
    return {
      role: principal.role,
      subject: principal.subject,
      ...(own ? { enterpriseId: own } : {}),
      parks: parks.map((p) => ({
        parkId: p.park_id,
        timeZone: p.time_zone,
        today: localDate(now.getTime(), p.time_zone),
      })),
      enterprises,
      parkViews,
    };
  }

  /** KPIs exactly as GetParkKpis answers them, and their values day by day. */
  async overview(
    parkId: string,
    granularity: Granularity,
    period: string,
    now: Date,
  ): Promise<Overview> {
    const {
      kpis,
      sizeBand,
      period: p,
    } = await this.reporting.parkKpis(parkId, granularity, period, now);
    const { timeZone } = await this.reporting.park(parkId);
    // The days shown: the period's days up to today, at most the last 31; a single day is shown
    // with the two weeks before it.
    const end = Math.min(p.to, Math.max(now.getTime(), p.from + 1));
    const first =
      granularity === 'day'
        ? startOfLocalDayAfter(p.from, -13, timeZone)
        : Math.max(p.from, startOfLocalDay(end - OVERVIEW_TREND_DAYS * DAY_MS, timeZone));
    const days = daysOf({ ...p, from: first }, timeZone)
      .filter((day) => day.from < end)
      .slice(-OVERVIEW_TREND_DAYS);
    const trend = await this.dailyKpis(parkId, days, now);
    return {
      parkId,
      granularity,
      period,
      sizeBand,
      scope2Method: this.reporting.scope2Method,
      kpis,
      trend,
    };
  }

  private async dailyKpis(
    parkId: string,
    days: { day: string; from: number; to: number }[],
    now: Date,
  ): Promise<DayTrendPoint[]> {
    if (days.length === 0) return [];
    const s = await this.schemas();
    const { timeZone } = await this.reporting.park(parkId, s);
    const scope2 =
      this.reporting.scope2Method === 'market' ? 'scope2_market_kgco2e' : 'scope2_location_kgco2e';
    // Park boundary figures per hour (internal transfers taken out), summed per park-local day.
    const hours = await rows<{
      hour_start: Date;
      electricity: string;
      renewable: string;
      co2: string;
      energy: string;
    }>(
      this.db,
      `SELECT h.hour_start,
         sum(h.electricity_kwh - h.internal_electricity_kwh)::text AS electricity,
         sum(h.renewable_kwh - h.internal_renewable_kwh)::text AS renewable,
         sum(h.scope1_kgco2e - h.internal_scope1_kgco2e + h.${scope2} - h.internal_${scope2})::text AS co2,
         sum(h.energy_kgce - h.internal_energy_kgce)::text AS energy
       FROM ${s.emissions}.enterprise_hours h
       JOIN ${s.registry}.enterprises e ON e.enterprise_id = h.enterprise_id
       WHERE e.park_id = $1 AND h.hour_start >= $2 AND h.hour_start < $3
       GROUP BY h.hour_start`,
      [parkId, new Date(days[0]!.from).toISOString(), new Date(days.at(-1)!.to).toISOString()],
    );
    const sums = new Map<string, { electricity: Dec; renewable: Dec; co2: Dec; energy: Dec }>();
    for (const hour of hours) {
      const day = localDate(hour.hour_start.getTime(), timeZone);
      const sum = sums.get(day) ?? {
        electricity: new Dec(0),
        renewable: new Dec(0),
        co2: new Dec(0),
        energy: new Dec(0),
      };
      sum.electricity = sum.electricity.plus(hour.electricity);
      sum.renewable = sum.renewable.plus(hour.renewable);
      sum.co2 = sum.co2.plus(hour.co2);
      sum.energy = sum.energy.plus(hour.energy);
      sums.set(day, sum);
    }
    const trend: DayTrendPoint[] = [];
    for (const day of days) {
      const sum = sums.get(day.day);
      const share = sum && ratio(decimalText(sum.renewable), decimalText(sum.electricity));
      const intensity = sum && ratio(decimalText(sum.co2), decimalText(sum.energy));
      const coverage = await this.reporting.coverage(s, parkId, Math.min(now.getTime(), day.to));
      trend.push({
        day: day.day,
        renewableShare: num(share),
        co2PerTce: num(intensity),
        coverage: num(coverage),
      });
    }
    return trend;
  }

  /** The park's metered electricity supply per interval of a day, with the plan's import and load. */
  async balance(parkId: string, day: string): Promise<Balance> {
    const s = await this.schemas();
    const { timeZone } = await this.reporting.park(parkId, s);
    const period = parsePeriod('day', day, timeZone, 'day');
    const metered = await rows<{ interval_start: Date; role: string; kwh: string }>(
      this.db,
      `SELECT x.interval_start, x.role, sum(x.kwh)::text AS kwh
       FROM ${s.activity}.electricity x JOIN ${s.registry}.enterprises e ON e.enterprise_id = x.enterprise_id
       WHERE e.park_id = $1 AND x.interval_start >= $2 AND x.interval_start < $3 AND x.role = ANY($4)
       GROUP BY x.interval_start, x.role`,
      [
        parkId,
        new Date(period.from).toISOString(),
        new Date(period.to).toISOString(),
        BALANCE_ROLES,
      ],
    );
    const byStart = new Map<number, Map<string, string>>();
    for (const row of metered) {
      const at = row.interval_start.getTime();
      const roles = byStart.get(at) ?? new Map<string, string>();
      roles.set(row.role, row.kwh);
      byStart.set(at, roles);
    }
    const plan = await this.dayPlan(s, parkId, day);
    const planned = new Map(plan?.intervals.map((i) => [Date.parse(i.start), i]) ?? []);
    // kWh in 15 minutes is an average power of 4 x kWh kW.
    const kw = (kwh: Dec | string | undefined) =>
      kwh === undefined ? null : Number(new Dec(kwh).times(4));
    const intervals: BalanceInterval[] = [];
    for (let at = period.from; at < period.to; at += QUARTER_MS) {
      const roles = byStart.get(at);
      const charge = roles?.get('storage_charge');
      const discharge = roles?.get('storage_discharge');
      const interval = planned.get(at);
      intervals.push({
        start: new Date(at).toISOString(),
        gridImportKw: kw(roles?.get('grid_import')),
        directLineKw: kw(roles?.get('green_direct_line')),
        pvKw: kw(roles?.get('onsite_pv')),
        windKw: kw(roles?.get('wind')),
        storageKw:
          charge === undefined && discharge === undefined
            ? null
            : kw(new Dec(discharge ?? 0).minus(charge ?? 0)),
        plannedImportKw: interval ? interval.importKw : null,
        plannedLoadKw: interval ? (interval.loadKw ?? null) : null,
      });
    }
    return { parkId, day, ...(plan ? { planId: plan.plan_id } : {}), intervals };
  }

  private async dayPlan(s: Schemas, parkId: string, day: string) {
    const [plan] = await rows<{ plan_id: string; intervals: StoredInterval[] }>(
      this.db,
      `SELECT plan_id, intervals FROM ${s.plans}.plans WHERE park_id = $1 AND day = $2`,
      [parkId, day],
    );
    return plan;
  }

  async ranking(
    parkId: string,
    month: string,
    order: 'intensity' | 'renewable_share',
  ): Promise<Ranking> {
    const entries = await this.reporting.ranking(parkId, month, order);
    return {
      parkId,
      month,
      order,
      entries: entries.map((entry, i) => ({ rank: i + 1, ...entry })),
    };
  }

  /** An enterprise's month: its statement, series by commodity, footprint and hourly CFE score. */
  async enterprise(enterpriseId: string, month: string): Promise<EnterpriseView> {
    const s = await this.schemas();
    const enterprise = await this.reporting.enterprise(enterpriseId, s);
    const { timeZone } = await this.reporting.park(enterprise.parkId, s);
    const period = parsePeriod('month', month, timeZone, 'month');
    const days = daysOf(period, timeZone).map((d) => d.day);
    const dayIndex = new Map(days.map((day, i) => [day, i]));
    const range = [
      enterpriseId,
      new Date(period.from).toISOString(),
      new Date(period.to).toISOString(),
    ];
    const statement = await this.reporting.enterpriseStatement(enterpriseId, month);

    const commodityHours = await rows<{
      hour_start: Date;
      commodity: string;
      role: string;
      unit: string;
      quantity: string;
    }>(
      this.db,
      `SELECT hour_start, commodity, role, unit, quantity::text AS quantity
       FROM ${s.activity}.commodity_hours
       WHERE enterprise_id = $1 AND hour_start >= $2 AND hour_start < $3 AND NOT (role = ANY($4))
       ORDER BY commodity, role, unit`,
      [...range, NOT_SERIES],
    );
    const series = new Map<
      string,
      { commodity: string; role: string; unit: string; sums: (Dec | null)[] }
    >();
    for (const row of commodityHours) {
      const key = `${row.commodity}|${row.role}|${row.unit}`;
      const entry = series.get(key) ?? {
        commodity: row.commodity,
        role: row.role,
        unit: row.unit,
        sums: days.map(() => null),
      };
      const i = dayIndex.get(localDate(row.hour_start.getTime(), timeZone))!;
      entry.sums[i] = (entry.sums[i] ?? new Dec(0)).plus(row.quantity);
      series.set(key, entry);
    }

    const hours = await rows<{
      hour_start: Date;
      electricity: string;
      carbon_free: string;
      scope1: string;
      location: string;
      market: string;
    }>(
      this.db,
      `SELECT hour_start, electricity_kwh::text AS electricity, carbon_free_kwh::text AS carbon_free,
         scope1_kgco2e::text AS scope1, scope2_location_kgco2e::text AS location,
         scope2_market_kgco2e::text AS market
       FROM ${s.emissions}.enterprise_hours
       WHERE enterprise_id = $1 AND hour_start >= $2 AND hour_start < $3`,
      range,
    );
    const perDay = (pick: (row: (typeof hours)[number]) => string) => {
      const sums: (Dec | null)[] = days.map(() => null);
      for (const row of hours) {
        const i = dayIndex.get(localDate(row.hour_start.getTime(), timeZone))!;
        sums[i] = (sums[i] ?? new Dec(0)).plus(pick(row));
      }
      // kgCO2e to tCO2e.
      return sums.map((sum) => (sum === null ? null : Number(sum.div(1000))));
    };
    const total = (pick: (row: (typeof hours)[number]) => string) =>
      decimalText(hours.reduce((sum, row) => sum.plus(pick(row)), new Dec(0)).div(1000));
    const heat: (number | null)[][] = days.map(() => Array.from({ length: 24 }, () => null));
    for (const row of hours) {
      // The same rule as the statement's score: carbon-free supply counts up to the consumption.
      const electricity = Dec.max(row.electricity, 0);
      if (!electricity.gt(0)) continue;
      const at = row.hour_start.getTime();
      const i = dayIndex.get(localDate(at, timeZone))!;
      const matched = Dec.min(Dec.max(row.carbon_free, 0), electricity);
      heat[i]![localDateTime(at, timeZone).hour] = Number(matched.div(electricity));
    }
    const installations = await rows<{ installation_id: string; name: string }>(
      this.db,
      `SELECT installation_id, name FROM ${s.registry}.installations WHERE enterprise_id = $1 ORDER BY installation_id`,
      [enterpriseId],
    );
    return {
      enterpriseId,
      name: enterprise.name,
      parkId: enterprise.parkId,
      month,
      timeZone,
      days,
      statement: statement.rows.map(({ label, value, unit }) => ({ label, value, unit })),
      series: [...series.values()].map(({ commodity, role, unit, sums }) => ({
        commodity,
        role,
        unit,
        values: sums.map((sum) => (sum === null ? null : Number(sum))),
      })),
      footprint: {
        scope1: perDay((row) => row.scope1),
        scope2Location: perDay((row) => row.location),
        scope2Market: perDay((row) => row.market),
        totals: {
          scope1: total((row) => row.scope1),
          scope2Location: total((row) => row.location),
          scope2Market: total((row) => row.market),
        },
      },
      heat,
      installations: installations.map((i) => ({
        installationId: i.installation_id,
        name: i.name,
      })),
    };
  }

  /** The installations of an enterprise, for its CBAM data. */
  async installations(enterpriseId: string): Promise<{ installationId: string; name: string }[]> {
    const s = await this.schemas();
    await this.reporting.enterprise(enterpriseId, s);
    const found = await rows<{ installation_id: string; name: string }>(
      this.db,
      `SELECT installation_id, name FROM ${s.registry}.installations WHERE enterprise_id = $1 ORDER BY installation_id`,
      [enterpriseId],
    );
    return found.map((i) => ({ installationId: i.installation_id, name: i.name }));
  }

  /**
   * The day's plan in force beside what was metered: grid import, load, the batteries' planned
   * power and SOC, the setpoints issued for it, metered SOC where dispatch's topology names the
   * batteries' SOC meters; every plan issued for the day with its violations.
   */
  async dispatch(
    parkId: string,
    day: string,
    topology: { batteries: BatteryTopology[] } | { unavailable: string },
  ): Promise<DispatchView> {
    const s = await this.schemas();
    const { timeZone } = await this.reporting.park(parkId, s);
    const period = parsePeriod('day', day, timeZone, 'day');
    const plan = await this.dayPlan(s, parkId, day);
    const starts: number[] = plan
      ? plan.intervals.map((i) => Date.parse(i.start))
      : Array.from(
          { length: Math.round((period.to - period.from) / QUARTER_MS) },
          (_, i) => period.from + i * QUARTER_MS,
        );
    const index = new Map(starts.map((at, i) => [at, i]));
    const range = [new Date(period.from).toISOString(), new Date(period.to).toISOString()];

    const imports = await rows<{ interval_start: Date; kwh: string }>(
      this.db,
      `SELECT x.interval_start, sum(x.kwh)::text AS kwh
       FROM ${s.activity}.electricity x JOIN ${s.registry}.enterprises e ON e.enterprise_id = x.enterprise_id
       WHERE e.park_id = $1 AND x.role = 'grid_import' AND x.interval_start >= $2 AND x.interval_start < $3
       GROUP BY x.interval_start`,
      [parkId, ...range],
    );
    const actualImportKw: (number | null)[] = starts.map(() => null);
    for (const row of imports) {
      const i = index.get(row.interval_start.getTime());
      if (i !== undefined) actualImportKw[i] = Number(new Dec(row.kwh).times(4));
    }

    const known = 'batteries' in topology ? topology.batteries : [];
    const batteryIds = new Set<string>(known.map((b) => b.batteryId));
    for (const interval of plan?.intervals ?? [])
      for (const step of interval.batteries ?? []) batteryIds.add(step.batteryId);

    const setpoints = await this.setpoints(s, parkId, day);
    const socMeters = known.map((b) => b.socMeterId).filter(Boolean);
    const soc = await rows<{ meter_id: string; interval_start: Date; percent: string }>(
      this.db,
      `SELECT meter_id, interval_start, percent::text AS percent FROM ${s.activity}.soc
       WHERE meter_id = ANY($1) AND interval_start >= $2 AND interval_start < $3`,
      [socMeters, ...range],
    );
    const batteries: PlannedBattery[] = [...batteryIds].sort().map((batteryId) => {
      const def = known.find((b) => b.batteryId === batteryId);
      const step = (i: number) =>
        plan?.intervals[i]?.batteries?.find((b) => b.batteryId === batteryId);
      const socKwh = starts.map((_, i) => step(i)?.socKwh ?? null);
      const metered: (number | null)[] = starts.map(() => null);
      for (const row of soc) {
        const i = index.get(row.interval_start.getTime());
        if (row.meter_id === def?.socMeterId && i !== undefined) metered[i] = Number(row.percent);
      }
      const inForce = starts.map((at) => {
        // The latest-issued setpoint of the asset valid at the interval's start.
        const valid = setpoints.filter(
          (sp) =>
            sp.assetId === batteryId &&
            Date.parse(sp.validFrom) <= at &&
            at < Date.parse(sp.validUntil),
        );
        return valid.at(-1)?.powerKw ?? null;
      });
      return {
        batteryId,
        powerKw: starts.map((_, i) => {
          const b = step(i);
          return b ? b.dischargeKw - b.chargeKw : null;
        }),
        socKwh,
        socPercent: socKwh.map((kwh) =>
          kwh === null || !def?.energyKwh ? null : (kwh / def.energyKwh) * 100,
        ),
        meteredSocPercent: metered,
        setpointKw: inForce,
        ...(def ? { energyKwh: def.energyKwh, socMeterId: def.socMeterId } : {}),
      };
    });

    const issued = await rows<{
      plan_id: string;
      kind: string;
      status: string;
      issued_at: Date;
      first_start: Date | null;
      notes: string[];
      safe_mode: string[];
      violations: PlanSummary['violations'];
    }>(
      this.db,
      `SELECT plan_id, kind, status, issued_at, first_start, notes, safe_mode, violations
       FROM ${s.plans}.issued WHERE park_id = $1 AND day = $2 ORDER BY issued_at, plan_id`,
      [parkId, day],
    );
    return {
      parkId,
      day,
      starts: starts.map((at) => new Date(at).toISOString()),
      plannedImportKw: starts.map((_, i) => plan?.intervals[i]?.importKw ?? null),
      actualImportKw,
      plannedLoadKw: starts.map((_, i) => plan?.intervals[i]?.loadKw ?? null),
      batteries,
      plans: issued.map((p) => ({
        planId: p.plan_id,
        kind: p.kind,
        status: p.status,
        issuedAt: p.issued_at.toISOString(),
        ...(p.first_start ? { firstStart: p.first_start.toISOString() } : {}),
        notes: p.notes,
        assetsInSafeMode: p.safe_mode,
        violations: p.violations.map((v) => ({
          name: v.name,
          constraint: v.constraint,
          ...(v.start ? { start: v.start } : {}),
          assetId: v.assetId,
          sizeKwh: v.sizeKwh,
        })),
      })),
      setpoints,
      topology: 'batteries' in topology,
      ...('unavailable' in topology ? { topologyNote: topology.unavailable } : {}),
    };
  }

  /** Setpoints of the plans issued for a park's day, with their status read from both topics. */
  private async setpoints(s: Schemas, parkId: string, day: string): Promise<SetpointRow[]> {
    const found = await rows<{
      setpoint_id: string;
      asset_id: string;
      plan_id: string;
      power_kw: number;
      valid_from: Date;
      valid_until: Date;
      expired_at: Date | null;
      safe_mode: string | null;
      acknowledged_at: Date | null;
      superseded: boolean;
    }>(
      this.db,
      `SELECT sp.setpoint_id, sp.asset_id, sp.plan_id, sp.power_kw, sp.valid_from, sp.valid_until,
         sp.expired_at, sp.safe_mode, a.acknowledged_at,
         EXISTS (SELECT 1 FROM ${s.setpoints}.setpoints later WHERE later.asset_id = sp.asset_id
           AND later.valid_from > sp.valid_from) AS superseded
       FROM ${s.setpoints}.setpoints sp
       JOIN ${s.plans}.issued p ON p.plan_id = sp.plan_id
       LEFT JOIN ${s.setpoints}.acknowledgements a ON a.setpoint_id = sp.setpoint_id
       WHERE p.park_id = $1 AND p.day = $2
       ORDER BY sp.valid_from, sp.asset_id, sp.setpoint_id`,
      [parkId, day],
    );
    return found.map((row) => ({
      setpointId: row.setpoint_id,
      assetId: row.asset_id,
      planId: row.plan_id,
      powerKw: row.power_kw,
      validFrom: row.valid_from.toISOString(),
      validUntil: row.valid_until.toISOString(),
      status: row.expired_at
        ? 'expired'
        : row.acknowledged_at
          ? 'acknowledged'
          : row.superseded
            ? 'superseded'
            : 'issued',
      ...(row.acknowledged_at ? { acknowledgedAt: row.acknowledged_at.toISOString() } : {}),
      ...(row.safe_mode ? { safeMode: row.safe_mode } : {}),
    }));
  }

  /**
   * Data quality of a park's day as of min(now, the day's end). A meter is expected to report
   * every interval from its first reported one on (a meter that never reported is listed as
   * silent instead); an interval counts once, with the quality it has now (an estimate later
   * replaced by a measured value counts as measured). Missing = expected - received.
   */
  async quality(parkId: string, day: string, now: Date): Promise<QualityView> {
    const s = await this.schemas();
    const { timeZone } = await this.reporting.park(parkId, s);
    const period = parsePeriod('day', day, timeZone, 'day');
    const asOf = Math.min(now.getTime(), period.to);
    const trendDays = daysOf(
      { ...period, from: period.from - (QUALITY_TREND_DAYS - 1) * DAY_MS },
      timeZone,
    ).slice(-QUALITY_TREND_DAYS);
    const from = trendDays[0]!.from;

    const enterprises = await rows<{ enterprise_id: string; name: string }>(
      this.db,
      `SELECT enterprise_id, name FROM ${s.registry}.enterprises WHERE park_id = $1 ORDER BY enterprise_id`,
      [parkId],
    );
    const meters = await rows<{
      meter_id: string;
      enterprise_id: string;
      commodity: string;
      role: string;
      interval_minutes: number;
      first_end: Date | null;
      last_end: Date | null;
      recent: boolean;
    }>(
      this.db,
      `SELECT m.meter_id, m.enterprise_id, m.commodity, m.role, m.interval_minutes,
         min(d.first_end) AS first_end,
         max(d.last_end) FILTER (WHERE d.first_end <= $2) AS last_end,
         coalesce(bool_or(d.last_end > $3 AND d.first_end <= $2), false) AS recent
       FROM ${s.registry}.meters m
       JOIN ${s.registry}.enterprises e ON e.enterprise_id = m.enterprise_id
       LEFT JOIN ${s.activity}.meter_days d ON d.meter_id = m.meter_id
       WHERE e.park_id = $1 AND m.active
       GROUP BY m.meter_id, m.enterprise_id, m.commodity, m.role, m.interval_minutes
       ORDER BY m.enterprise_id, m.meter_id`,
      [parkId, new Date(asOf).toISOString(), new Date(asOf - DAY_MS).toISOString()],
    );
    const received = await rows<{
      enterprise_id: string;
      hour_start: Date;
      measured: number;
      estimated: number;
      edited: number;
    }>(
      this.db,
      `SELECT h.enterprise_id, h.hour_start, sum(h.measured)::int AS measured,
         sum(h.estimated)::int AS estimated, sum(h.edited)::int AS edited
       FROM ${s.activity}.commodity_hours h
       JOIN ${s.registry}.enterprises e ON e.enterprise_id = h.enterprise_id
       WHERE e.park_id = $1 AND h.hour_start >= $2 AND h.hour_start < $3
       GROUP BY h.enterprise_id, h.hour_start`,
      [parkId, new Date(from).toISOString(), new Date(asOf).toISOString()],
    );

    /** Intervals of a meter that start in [a, b) and have ended by asOf, from its first one on. */
    const expectedOf = (meter: (typeof meters)[number], a: number, b: number) => {
      if (!meter.first_end) return 0;
      const length = meter.interval_minutes * 60_000;
      // The activity projection records an interval's end as its start + 15 minutes.
      const firstStart = meter.first_end.getTime() - QUARTER_MS;
      const start = Math.max(a, firstStart);
      const aligned = Math.ceil((start - firstStart) / length) * length + firstStart;
      const end = Math.min(b, asOf - length + 1);
      return end > aligned ? Math.ceil((end - aligned) / length) : 0;
    };
    const metersOf = groupBy(meters, (m) => m.enterprise_id);
    const receivedOf = groupBy(received, (r) => r.enterprise_id);
    const tally = (a: number, b: number, enterpriseId: string, name: string): QualityRow => {
      const row = {
        enterpriseId,
        name,
        expected: 0,
        measured: 0,
        estimated: 0,
        edited: 0,
        missing: 0,
      };
      for (const meter of metersOf.get(enterpriseId) ?? []) row.expected += expectedOf(meter, a, b);
      for (const hour of receivedOf.get(enterpriseId) ?? []) {
        const at = hour.hour_start.getTime();
        if (at < a || at >= b) continue;
        row.measured += hour.measured;
        row.estimated += hour.estimated;
        row.edited += hour.edited;
      }
      row.missing = Math.max(0, row.expected - row.measured - row.estimated - row.edited);
      return row;
    };
    const sum = (parts: QualityRow[], name: string): QualityRow => {
      const total = {
        enterpriseId: '',
        name,
        expected: 0,
        measured: 0,
        estimated: 0,
        edited: 0,
        missing: 0,
      };
      for (const part of parts) {
        total.expected += part.expected;
        total.measured += part.measured;
        total.estimated += part.estimated;
        total.edited += part.edited;
        total.missing += part.missing;
      }
      return total;
    };
    const rowsOfDay = enterprises.map((e) =>
      tally(period.from, period.to, e.enterprise_id, e.name),
    );

    const gaps = await rows<{
      meter_id: string;
      enterprise_id: string;
      gap_start: Date;
      gap_end: Date;
      missing_intervals: number;
      filled: number;
    }>(
      this.db,
      `SELECT g.meter_id, g.enterprise_id, g.gap_start, g.gap_end, g.missing_intervals, g.filled
       FROM ${s.activity}.gaps g JOIN ${s.registry}.enterprises e ON e.enterprise_id = g.enterprise_id
       WHERE e.park_id = $1 AND g.filled < g.missing_intervals AND g.gap_start < $2
       ORDER BY g.gap_start DESC, g.meter_id LIMIT 200`,
      [parkId, new Date(asOf).toISOString()],
    );
    return {
      parkId,
      day,
      asOf: new Date(asOf).toISOString(),
      totals: sum(rowsOfDay, 'Park'),
      enterprises: rowsOfDay,
      trend: trendDays.map((d) => {
        const t = sum(
          enterprises.map((e) => tally(d.from, d.to, e.enterprise_id, e.name)),
          'Park',
        );
        return {
          day: d.day,
          estimatedShare: t.expected > 0 ? t.estimated / t.expected : null,
          missingShare: t.expected > 0 ? t.missing / t.expected : null,
        };
      }),
      gaps: gaps.map((g) => ({
        meterId: g.meter_id,
        enterpriseId: g.enterprise_id,
        start: g.gap_start.toISOString(),
        end: g.gap_end.toISOString(),
        missingIntervals: g.missing_intervals,
        arrived: g.filled,
      })),
      silent: meters
        .filter((m) => !m.recent)
        .map((m) => ({
          meterId: m.meter_id,
          enterpriseId: m.enterprise_id,
          commodity: m.commodity,
          role: m.role,
          ...(m.last_end ? { lastEnd: m.last_end.toISOString() } : {}),
        })),
    };
  }
}

/** An interval of a plan as the plans projection keeps it. */
interface StoredInterval {
  start: string;
  importKw: number;
  exportKw?: number;
  loadKw?: number;
  emissionsKg: number;
  renewableShare: number;
  batteries?: { batteryId: string; chargeKw: number; dischargeKw: number; socKwh: number }[];
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
