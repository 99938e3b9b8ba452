import { Dec, decimalText } from '@park/domain-primitives';
import type { Queryable } from '@park/eventstore';
import { NotFoundError } from '@park/service-kit/errors';
import type { Kpi } from '../dashboard/contract';
import { FIGURE_COLUMNS } from '../projections/emissions';
import type { EnterpriseStatement, ParkReport, RankingLine, ReportRow } from '../statements/model';
import { shown, percent, ratio } from './format';
import { daysOf, parsePeriod, type Granularity, type Period } from './periods';

/** The GB/T 2589 equivalent-value coefficient: renewable electricity's share of energy in tce. */
const ELECTRICITY_KGCE_PER_KWH = '0.1229';
const DAY_MS = 86_400_000;

export type Scope2Method = 'market' | 'location';

export interface KpiSettings {
  scope2Method: Scope2Method;
  /** tCO2/tce for parks below 200,000 tce a year, which have no published threshold. */
  smallParkThreshold: string;
  renewableShareTarget: string;
  coverageTarget: string;
  directLine: { minSelfUse: string; minConsumerShare: string; maxFeedIn: string };
}

export const DEFAULT_KPI_SETTINGS: KpiSettings = {
  scope2Method: 'market',
  smallParkThreshold: '0.2',
  renewableShareTarget: '0.9',
  coverageTarget: '0.9',
  directLine: { minSelfUse: '0.6', minConsumerShare: '0.3', maxFeedIn: '0.2' },
};

const THRESHOLDS: Record<string, string | undefined> = {
  '200k_to_1m_tce': '0.2',
  above_1m_tce: '0.3',
};

/** A KPI against its target, as the API answers it (the dashboard's contract shares the type). */
export type KpiValue = Kpi;

export interface RankedEnterprise {
  enterpriseId: string;
  name: string;
  intensity?: string;
  renewableShare?: string;
  energyTce: string;
  co2T: string;
}

type Figures = Record<(typeof FIGURE_COLUMNS)[number], string>;

export interface Schemas {
  registry: string;
  activity: string;
  emissions: string;
  plans: string;
  allocations: string;
  setpoints: string;
}

function status(
  value: string | undefined,
  target: string,
  comparison: '<=' | '>=',
): KpiValue['status'] {
  if (value === undefined) return 'no_data';
  const v = new Dec(value);
  return (comparison === '<=' ? v.lte(target) : v.gte(target)) ? 'met' : 'not_met';
}

/** KPIs, rankings, statements and plan versus actual, read from the projections' active versions. */
export class ReportingQueries {
  constructor(
    private readonly db: Queryable,
    private readonly schemas: () => Promise<Schemas>,
    private readonly settings: KpiSettings = DEFAULT_KPI_SETTINGS,
  ) {}

  /** The Scope 2 method in the numerator of CO2 per tce, as configured. */
  get scope2Method(): Scope2Method {
    return this.settings.scope2Method;
  }

  async park(parkId: string, s?: Schemas): Promise<{ timeZone: string; sizeBand: string }> {
    const schemas = s ?? (await this.schemas());
    const { rows } = await this.db.query<{ time_zone: string; size_band: string }>(
      `SELECT time_zone, size_band FROM ${schemas.registry}.parks WHERE park_id = $1`,
      [parkId],
    );
    if (!rows[0]) throw new NotFoundError(`park ${parkId} is not known to reporting`);
    return { timeZone: rows[0].time_zone, sizeBand: rows[0].size_band };
  }

  async enterprise(enterpriseId: string, s?: Schemas): Promise<{ parkId: string; name: string }> {
    const schemas = s ?? (await this.schemas());
    const { rows } = await this.db.query<{ park_id: string; name: string }>(
      `SELECT park_id, name FROM ${schemas.registry}.enterprises WHERE enterprise_id = $1`,
      [enterpriseId],
    );
    if (!rows[0]) throw new NotFoundError(`enterprise ${enterpriseId} is not known to reporting`);
    return { parkId: rows[0].park_id, name: rows[0].name };
  }

  /** Sums of the hours of the park's enterprises (or one enterprise) in [from, to). */
  private async figures(
    s: Schemas,
    scope: { parkId?: string; enterpriseId?: string },
    from: number,
    to: number,
  ): Promise<{ all: Figures; internal: Figures }> {
    const sums = FIGURE_COLUMNS.map(
      (c) =>
        `coalesce(sum(h.${c}), 0)::text AS ${c}, coalesce(sum(h.internal_${c}), 0)::text AS internal_${c}`,
    ).join(', ');
    const { rows } = await this.db.query<Record<string, string>>(
      `SELECT ${sums} FROM ${s.emissions}.enterprise_hours h
       JOIN ${s.registry}.enterprises e ON e.enterprise_id = h.enterprise_id
       WHERE ($1::text IS NULL OR e.park_id = $1) AND ($2::text IS NULL OR h.enterprise_id = $2)
         AND h.hour_start >= $3 AND h.hour_start < $4`,
      [
        scope.parkId ?? null,
        scope.enterpriseId ?? null,
        new Date(from).toISOString(),
        new Date(to).toISOString(),
      ],
    );
    const row = rows[0]!;
    const pick = (prefix: string) =>
      Object.fromEntries(
        FIGURE_COLUMNS.map((c) => [c, decimalText(new Dec(row[`${prefix}${c}`]!))]),
      ) as Figures;
    return { all: pick(''), internal: pick('internal_') };
  }

  /** The park's boundary figures: internal transfers taken out, so their energy counts once. */
  private boundary({ all, internal }: { all: Figures; internal: Figures }): Figures {
    return Object.fromEntries(
      FIGURE_COLUMNS.map((c) => [c, decimalText(new Dec(all[c]).minus(internal[c]))]),
    ) as Figures;
  }

  private intensity(f: Figures): string | undefined {
    const scope2 =
      this.settings.scope2Method === 'market' ? f.scope2_market_kgco2e : f.scope2_location_kgco2e;
    // kgCO2 per kgce is tCO2 per tce.
    return ratio(decimalText(new Dec(f.scope1_kgco2e).plus(scope2)), f.energy_kgce);
  }

  private cleanShare(f: Figures): string | undefined {
    return ratio(
      decimalText(new Dec(f.renewable_kwh).times(ELECTRICITY_KGCE_PER_KWH)),
      f.energy_kgce,
    );
  }

  async parkKpis(
    parkId: string,
    granularity: Granularity,
    label: string,
    now: Date = new Date(),
  ): Promise<{ kpis: KpiValue[]; sizeBand: string; period: Period }> {
    const s = await this.schemas();
    const park = await this.park(parkId, s);
    const period = parsePeriod(granularity, label, park.timeZone);
    const figures = this.boundary(await this.figures(s, { parkId }, period.from, period.to));
    const yearStart = parsePeriod('year', label.slice(0, 4), park.timeZone).from;
    const ytd = this.boundary(
      await this.figures(
        s,
        { parkId },
        yearStart,
        Math.min(period.to, Math.max(now.getTime(), period.from + 1)),
      ),
    );
    const threshold = THRESHOLDS[park.sizeBand] ?? this.settings.smallParkThreshold;
    const kpis: KpiValue[] = [];
    const intensity = this.intensity(figures);
    kpis.push({
      name: 'co2_per_tce',
      label: `CO2 per tce (${this.settings.scope2Method}-based Scope 2)`,
      value: intensity,
      unit: 'tCO2/tce',
      target: threshold,
      comparison: '<=',
      status: status(intensity, threshold, '<='),
    });
    const ytdIntensity = this.intensity(ytd);
    kpis.push({
      name: 'co2_per_tce_ytd',
      label: 'CO2 per tce, year to date',
      value: ytdIntensity,
      unit: 'tCO2/tce',
      target: threshold,
      comparison: '<=',
      status: status(ytdIntensity, threshold, '<='),
    });
    kpis.push({
      name: 'clean_energy_share',
      label: 'Clean energy share of total energy (tce)',
      value: this.cleanShare(figures),
      unit: 'fraction',
      status: 'none',
    });
    const renewable = ratio(figures.renewable_kwh, figures.electricity_kwh);
    kpis.push({
      name: 'renewable_electricity_share',
      label: 'Renewable electricity share',
      value: renewable,
      unit: 'fraction',
      target: this.settings.renewableShareTarget,
      comparison: '>=',
      status: status(renewable, this.settings.renewableShareTarget, '>='),
    });
    const coverage = await this.coverage(s, parkId, Math.min(now.getTime(), period.to));
    kpis.push({
      name: 'platform_coverage',
      // Short enough for the PDF report's indicator column, which cuts longer labels.
      label: 'Platform coverage (energy-using enterprises, last 24 h)',
      value: coverage,
      unit: 'fraction',
      target: this.settings.coverageTarget,
      comparison: '>=',
      status: status(coverage, this.settings.coverageTarget, '>='),
    });
    kpis.push(...(await this.directLineKpis(s, parkId, period)));
    return { kpis, sizeBand: park.sizeBand, period };
  }

  /** Energy-using enterprises with a meter that reported an interval ending in (asOf - 24 h, asOf]. */
  async coverage(s: Schemas, parkId: string, asOf: number): Promise<string | undefined> {
    const { rows } = await this.db.query<{ total: number; reporting: number }>(
      `SELECT count(*)::int AS total,
         count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ${s.activity}.meter_days d
           WHERE d.enterprise_id = e.enterprise_id
             AND d.day BETWEEN ($2::timestamptz AT TIME ZONE 'UTC')::date - 1 AND ($3::timestamptz AT TIME ZONE 'UTC')::date
             AND d.last_end > $2 AND d.first_end <= $3))::int AS reporting
       FROM ${s.registry}.enterprises e WHERE e.park_id = $1 AND e.energy_using`,
      [parkId, new Date(asOf - DAY_MS).toISOString(), new Date(asOf).toISOString()],
    );
    const { total, reporting } = rows[0]!;
    return total === 0 ? undefined : decimalText(new Dec(reporting).div(total));
  }

  private async directLineKpis(s: Schemas, parkId: string, period: Period): Promise<KpiValue[]> {
    const range = [parkId, new Date(period.from).toISOString(), new Date(period.to).toISOString()];
    const { rows: lines } = await this.db.query<{
      line_id: string;
      metered: string;
      exported: string;
      allocated: string;
    }>(
      `SELECT l.line_id, sum(l.metered_kwh)::text AS metered, sum(l.exported_kwh)::text AS exported,
         coalesce((SELECT sum(a.allocated_kwh) FROM ${s.allocations}.line_allocations a
           WHERE a.line_id = l.line_id AND a.interval_start >= $2 AND a.interval_start < $3), 0)::text AS allocated
       FROM ${s.allocations}.line_intervals l
       WHERE l.park_id = $1 AND l.interval_start >= $2 AND l.interval_start < $3
       GROUP BY l.line_id ORDER BY l.line_id`,
      range,
    );
    const kpis: KpiValue[] = [];
    const { minSelfUse, minConsumerShare, maxFeedIn } = this.settings.directLine;
    for (const line of lines) {
      const selfUse = ratio(line.allocated, line.metered);
      kpis.push({
        name: `direct_line_self_use:${line.line_id}`,
        label: `Direct line ${line.line_id}: self-use share of its energy`,
        value: selfUse,
        unit: 'fraction',
        target: minSelfUse,
        comparison: '>=',
        status: status(selfUse, minSelfUse, '>='),
      });
      const feedIn = ratio(line.exported, line.metered);
      kpis.push({
        name: `direct_line_feed_in:${line.line_id}`,
        label: `Direct line ${line.line_id}: feed-in share`,
        value: feedIn,
        unit: 'fraction',
        target: maxFeedIn,
        comparison: '<=',
        status: status(feedIn, maxFeedIn, '<='),
      });
      const { rows: consumers } = await this.db.query<{ enterprise_id: string; allocated: string }>(
        `SELECT enterprise_id, sum(allocated_kwh)::text AS allocated FROM ${s.allocations}.line_allocations
         WHERE line_id = $1 AND interval_start >= $2 AND interval_start < $3
         GROUP BY enterprise_id ORDER BY enterprise_id`,
        [line.line_id, range[1], range[2]],
      );
      for (const consumer of consumers) {
        const own = await this.figures(
          s,
          { enterpriseId: consumer.enterprise_id },
          period.from,
          period.to,
        );
        const share = ratio(consumer.allocated, own.all.electricity_kwh);
        kpis.push({
          name: `direct_line_consumer_share:${line.line_id}:${consumer.enterprise_id}`,
          label: `Direct line ${line.line_id}: share of ${consumer.enterprise_id}'s consumption`,
          value: share,
          unit: 'fraction',
          target: minConsumerShare,
          comparison: '>=',
          status: status(share, minConsumerShare, '>='),
        });
      }
    }
    return kpis;
  }

  /** Enterprises of the park for a month: intensity, renewable share, energy. */
  async ranking(
    parkId: string,
    month: string,
    order: 'intensity' | 'renewable_share',
  ): Promise<
    {
      enterpriseId: string;
      name: string;
      intensity?: string;
      renewableShare?: string;
      energyTce: string;
      co2T: string;
    }[]
  > {
    const s = await this.schemas();
    const park = await this.park(parkId, s);
    const period = parsePeriod('month', month, park.timeZone, 'month');
    const { rows } = await this.db.query<{ enterprise_id: string; name: string }>(
      `SELECT enterprise_id, name FROM ${s.registry}.enterprises WHERE park_id = $1 AND energy_using ORDER BY enterprise_id`,
      [parkId],
    );
    const entries = [];
    for (const row of rows) {
      const { all } = await this.figures(
        s,
        { enterpriseId: row.enterprise_id },
        period.from,
        period.to,
      );
      const scope2 =
        this.settings.scope2Method === 'market'
          ? all.scope2_market_kgco2e
          : all.scope2_location_kgco2e;
      entries.push({
        enterpriseId: row.enterprise_id,
        name: row.name,
        intensity: this.intensity(all),
        renewableShare: ratio(all.renewable_kwh, all.electricity_kwh),
        energyTce: decimalText(new Dec(all.energy_kgce).div(1000)),
        co2T: decimalText(new Dec(all.scope1_kgco2e).plus(scope2).div(1000)),
      });
    }
    // Enterprises without data rank last; ties by id, so the order is stable.
    const key = (e: RankedEnterprise) => (order === 'intensity' ? e.intensity : e.renewableShare);
    return entries.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === undefined || y === undefined)
        return x === y ? a.enterpriseId.localeCompare(b.enterpriseId) : x === undefined ? 1 : -1;
      const c = new Dec(x).cmp(y) * (order === 'intensity' ? 1 : -1);
      return c !== 0 ? c : a.enterpriseId.localeCompare(b.enterpriseId);
    });
  }

  private async daily(
    s: Schemas,
    scope: { parkId?: string; enterpriseId?: string },
    period: Period,
    timeZone: string,
  ) {
    const days = [];
    for (const day of daysOf(period, timeZone)) {
      const f = await this.figures(s, scope, day.from, day.to);
      const figures = scope.parkId ? this.boundary(f) : f.all;
      const share = ratio(figures.renewable_kwh, figures.electricity_kwh);
      days.push({
        day: day.day,
        renewableShare: share === undefined ? null : Number(share),
        exact: share,
      });
    }
    return days;
  }

  private async cfe(s: Schemas, enterpriseId: string, period: Period): Promise<string | undefined> {
    const { rows } = await this.db.query<{ electricity: string; carbon_free: string }>(
      `SELECT electricity_kwh::text AS electricity, carbon_free_kwh::text AS carbon_free
       FROM ${s.emissions}.enterprise_hours WHERE enterprise_id = $1 AND hour_start >= $2 AND hour_start < $3`,
      [enterpriseId, new Date(period.from).toISOString(), new Date(period.to).toISOString()],
    );
    let matched = new Dec(0);
    let consumed = new Dec(0);
    for (const row of rows) {
      const electricity = Dec.max(row.electricity, 0);
      matched = matched.plus(Dec.min(Dec.max(row.carbon_free, 0), electricity));
      consumed = consumed.plus(electricity);
    }
    return consumed.gt(0) ? decimalText(matched.div(consumed)) : undefined;
  }

  /** An enterprise's monthly energy-carbon statement, values formatted for display. */
  async enterpriseStatement(enterpriseId: string, month: string): Promise<EnterpriseStatement> {
    const s = await this.schemas();
    const enterprise = await this.enterprise(enterpriseId, s);
    const park = await this.park(enterprise.parkId, s);
    const period = parsePeriod('month', month, park.timeZone, 'month');
    const { all } = await this.figures(s, { enterpriseId }, period.from, period.to);
    const t = (kg: string) => decimalText(new Dec(kg).div(1000));
    const rows: ReportRow[] = [
      { label: 'Electricity consumed', value: shown(all.electricity_kwh, 3), unit: 'kWh' },
      {
        label: 'Comprehensive energy consumption',
        value: shown(t(all.energy_kgce), 6),
        unit: 'tce',
      },
      { label: 'Scope 1 emissions', value: shown(t(all.scope1_kgco2e), 6), unit: 'tCO2e' },
      {
        label: 'Scope 2 emissions (location-based)',
        value: shown(t(all.scope2_location_kgco2e), 6),
        unit: 'tCO2e',
      },
      {
        label: 'Scope 2 emissions (market-based)',
        value: shown(t(all.scope2_market_kgco2e), 6),
        unit: 'tCO2e',
      },
      { label: 'CO2 per tce', value: shown(this.intensity(all), 6), unit: 'tCO2/tce' },
      {
        label: 'Renewable electricity share',
        value: percent(ratio(all.renewable_kwh, all.electricity_kwh)),
        unit: '%',
      },
      {
        label: 'Hourly carbon-free energy score',
        value: percent(await this.cfe(s, enterpriseId, period)),
        unit: '%',
      },
    ];
    const daily = await this.daily(s, { enterpriseId }, period, park.timeZone);
    return {
      kind: 'enterprise_statement',
      title: '企业月度能源与碳排放报表 / Enterprise monthly energy and carbon statement',
      parkName: enterprise.parkId,
      enterpriseId,
      enterpriseName: enterprise.name,
      month,
      timeZone: park.timeZone,
      rows,
      daily: daily.map(({ day, renewableShare }) => ({ day, renewableShare })),
      notes: [
        `Scope 2 in CO2 per tce: ${this.settings.scope2Method}-based. Figures are rounded half-even for display.`,
      ],
      asOf: new Date(period.to).toISOString(),
    };
  }

  /** The park's monthly report: KPIs against targets, the ranking and the daily renewable share. */
  async parkReport(parkId: string, month: string, now: Date = new Date()): Promise<ParkReport> {
    const s = await this.schemas();
    const park = await this.park(parkId, s);
    const { kpis, period } = await this.parkKpis(parkId, 'month', month, now);
    const rows: ReportRow[] = kpis.map((kpi) => ({
      label: kpi.label,
      value: kpi.unit === 'fraction' ? percent(kpi.value) : shown(kpi.value, 6),
      unit: kpi.unit === 'fraction' ? '%' : kpi.unit,
      target:
        kpi.target === undefined
          ? ''
          : `${kpi.comparison} ${kpi.unit === 'fraction' ? percent(kpi.target, 0) : kpi.target}`,
      status: kpi.status === 'none' ? '' : kpi.status.replace('_', ' '),
    }));
    const ranking: RankingLine[] = (await this.ranking(parkId, month, 'intensity')).map(
      (entry, i) => ({
        rank: i + 1,
        enterpriseName: entry.name,
        energyTce: shown(entry.energyTce, 6),
        co2T: shown(entry.co2T, 6),
        intensity: shown(entry.intensity, 6),
        renewableSharePercent: percent(entry.renewableShare),
      }),
    );
    const daily = await this.daily(s, { parkId }, period, park.timeZone);
    return {
      kind: 'park_report',
      title: '园区月度零碳运行报告 / Park monthly zero-carbon report',
      parkId,
      parkName: parkId,
      month,
      timeZone: park.timeZone,
      rows,
      ranking,
      daily: daily.map(({ day, renewableShare }) => ({ day, renewableShare })),
      notes: [
        `Size band: ${park.sizeBand}. Internal transfers between park entities are counted once.`,
      ],
      asOf: new Date(period.to).toISOString(),
    };
  }

  /** Dispatch's plan for a day beside what was metered and accounted, per interval. */
  async planVsActual(parkId: string, day: string) {
    const s = await this.schemas();
    const park = await this.park(parkId, s);
    const period = parsePeriod('day', day, park.timeZone, 'day');
    const { rows } = await this.db.query<{
      plan_id: string;
      intervals: { start: string; importKw: number; emissionsKg: number; renewableShare: number }[];
    }>(`SELECT plan_id, intervals FROM ${s.plans}.plans WHERE park_id = $1 AND day = $2`, [
      parkId,
      day,
    ]);
    const plan = rows[0];
    if (!plan) throw new NotFoundError(`no plan of park ${parkId} for ${day}`);
    const { rows: metered } = await this.db.query<{
      interval_start: Date;
      grid: string;
      renewable: string;
      total: string;
    }>(
      `SELECT x.interval_start,
         sum(x.kwh) FILTER (WHERE x.role = 'grid_import')::text AS grid,
         coalesce(sum(x.kwh) FILTER (WHERE x.role IN ('green_direct_line', 'onsite_pv', 'wind')), 0)::text AS renewable,
         sum(x.kwh) FILTER (WHERE x.role IN ('grid_import', 'green_direct_line', 'onsite_pv', 'wind'))::text AS total
       FROM ${s.activity}.electricity x JOIN ${s.registry}.enterprises e ON e.enterprise_id = x.enterprise_id
       WHERE e.park_id = $1 AND x.interval_start >= $2 AND x.interval_start < $3
       GROUP BY x.interval_start`,
      [parkId, new Date(period.from).toISOString(), new Date(period.to).toISOString()],
    );
    const byStart = new Map(metered.map((row) => [row.interval_start.toISOString(), row]));
    // Accounted location-based emissions per hour, shared out over the hour's intervals by their
    // metered grid import.
    const { rows: hours } = await this.db.query<{ hour_start: Date; kg: string }>(
      `SELECT h.hour_start, sum(h.scope2_location_kgco2e - h.internal_scope2_location_kgco2e)::text AS kg
       FROM ${s.emissions}.enterprise_hours h JOIN ${s.registry}.enterprises e ON e.enterprise_id = h.enterprise_id
       WHERE e.park_id = $1 AND h.hour_start >= $2 AND h.hour_start < $3 GROUP BY h.hour_start`,
      [parkId, new Date(period.from).toISOString(), new Date(period.to).toISOString()],
    );
    const hourKg = new Map(hours.map((row) => [row.hour_start.getTime(), row.kg]));
    const hourOf = (ms: number) => ms - (ms % 3_600_000);
    const hourImport = new Map<number, Dec>();
    for (const row of metered) {
      if (row.grid === null) continue;
      const h = hourOf(row.interval_start.getTime());
      hourImport.set(h, (hourImport.get(h) ?? new Dec(0)).plus(row.grid));
    }
    return {
      planId: plan.plan_id,
      intervals: plan.intervals.map((interval) => {
        const actual = byStart.get(new Date(interval.start).toISOString());
        const h = hourOf(Date.parse(interval.start));
        const kg = hourKg.get(h);
        const total = hourImport.get(h);
        return {
          start: interval.start,
          plannedImportKwh: interval.importKw / 4,
          plannedEmissionsKg: interval.emissionsKg,
          plannedRenewableShare: interval.renewableShare,
          actualImportKwh: actual?.grid ?? undefined,
          actualEmissionsKg:
            actual?.grid && kg !== undefined && total?.gt(0)
              ? decimalText(new Dec(kg).times(actual.grid).div(total))
              : undefined,
          actualRenewableShare: actual?.total ? ratio(actual.renewable, actual.total) : undefined,
        };
      }),
    };
  }
}
