import { Dec, decimalText } from '@park/domain-primitives';
import type { Queryable } from '@park/eventstore';
import { cfeScore, renewableShare, sumFigures } from '../accounting';
import type { FactorRef, PostingFigures } from '../accounting/model';
import type { LedgerLineKind } from './ledger';

/** Sums of ledger_lines columns as the figures they are (numeric sums are exact). */
const FIGURE_SUMS = `
  coalesce(sum(energy_kgce), 0)::text AS energy_kgce,
  coalesce(sum(electricity_kwh), 0)::text AS electricity_kwh,
  coalesce(sum(grid_kwh), 0)::text AS grid_kwh,
  coalesce(sum(renewable_kwh), 0)::text AS renewable_kwh,
  coalesce(sum(carbon_free_kwh), 0)::text AS carbon_free_kwh,
  coalesce(sum(scope1_kgco2e), 0)::text AS scope1_kgco2e,
  coalesce(sum(scope2_location_kgco2e), 0)::text AS scope2_location_kgco2e,
  coalesce(sum(scope2_market_kgco2e), 0)::text AS scope2_market_kgco2e`;

interface FigureRow {
  energy_kgce: string;
  electricity_kwh: string;
  grid_kwh: string;
  renewable_kwh: string;
  carbon_free_kwh: string;
  scope1_kgco2e: string;
  scope2_location_kgco2e: string;
  scope2_market_kgco2e: string;
}

function figuresOf(row: FigureRow): PostingFigures {
  const canonical = (text: string) => decimalText(new Dec(text));
  return {
    energyKgce: canonical(row.energy_kgce),
    electricityKwh: canonical(row.electricity_kwh),
    gridKwh: canonical(row.grid_kwh),
    renewableKwh: canonical(row.renewable_kwh),
    carbonFreeKwh: canonical(row.carbon_free_kwh),
    scope1KgCo2e: canonical(row.scope1_kgco2e),
    scope2LocationKgCo2e: canonical(row.scope2_location_kgco2e),
    scope2MarketKgCo2e: canonical(row.scope2_market_kgco2e),
  };
}

export interface Period {
  /** ISO instants, [from, to). */
  from: string;
  to: string;
}

export interface CommodityEnergy {
  commodity: string;
  unit: string;
  quantity: string;
  energyKgce: string;
}

export interface EnterpriseFootprint {
  enterpriseId: string;
  period: Period;
  /** The period's own lines: for a closed month, the figures as closed. */
  figures: PostingFigures;
  energy: CommodityEnergy[];
  scope1ByFuel: { fuel: string; kgCo2e: string }[];
  energyTce: string;
  certificateKwh: string;
  scope1KgCo2e: string;
  scope2LocationKgCo2e: string;
  /** After certificate coverage. */
  scope2MarketKgCo2e: string;
  renewableShare?: string;
  cfeScore?: string;
  priorPeriodAdjustments: PostingFigures;
  closed: boolean;
}

export async function enterpriseFootprint(
  db: Queryable,
  enterpriseId: string,
  period: Period,
): Promise<EnterpriseFootprint> {
  const { rows } = await db.query<
    FigureRow & {
      prior_period: boolean;
      kind: LedgerLineKind;
      category: string;
      commodity: string | null;
      unit: string;
      quantity: string;
    }
  >(
    `SELECT prior_period, kind, category, commodity, unit, coalesce(sum(quantity), 0)::text AS quantity,
       ${FIGURE_SUMS}
     FROM ledger_lines WHERE enterprise_id = $1 AND interval_start >= $2 AND interval_start < $3
     GROUP BY prior_period, kind, category, commodity, unit`,
    [enterpriseId, period.from, period.to],
  );
  const own = rows.filter((row) => !row.prior_period);
  const figures = sumFigures(own.map(figuresOf));
  const priorPeriodAdjustments = sumFigures(rows.filter((row) => row.prior_period).map(figuresOf));
  const coverage = own.filter((row) => row.kind === 'certificate_coverage');
  const metered = own.filter((row) => row.kind !== 'certificate_coverage');
  const certificateKwh = decimalText(
    coverage.reduce((sum, row) => sum.plus(row.renewable_kwh), new Dec(0)),
  );
  const meteredFigures = sumFigures(metered.map(figuresOf));

  const energy = new Map<string, CommodityEnergy>();
  const fuels = new Map<string, Dec>();
  for (const row of metered) {
    const key = `${row.commodity}|${row.unit}`;
    const entry = energy.get(key) ?? {
      commodity: row.commodity ?? '',
      unit: row.unit,
      quantity: '0',
      energyKgce: '0',
    };
    entry.quantity = decimalText(new Dec(entry.quantity).plus(row.quantity));
    entry.energyKgce = decimalText(new Dec(entry.energyKgce).plus(row.energy_kgce));
    energy.set(key, entry);
    if (!new Dec(row.scope1_kgco2e).isZero()) {
      fuels.set(row.category, (fuels.get(row.category) ?? new Dec(0)).plus(row.scope1_kgco2e));
    }
  }

  const { rows: hours } = await db.query<{ electricity_kwh: string; carbon_free_kwh: string }>(
    `SELECT sum(electricity_kwh)::text AS electricity_kwh, sum(carbon_free_kwh)::text AS carbon_free_kwh
     FROM ledger_lines
     WHERE enterprise_id = $1 AND interval_start >= $2 AND interval_start < $3
       AND kind <> 'certificate_coverage'
     GROUP BY hour_start`,
    [enterpriseId, period.from, period.to],
  );
  const { rows: closedRows } = await db.query<{ open: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM generate_series(date_trunc('month', $2::timestamptz AT TIME ZONE p.time_zone),
                                     ($3::timestamptz - interval '1 microsecond') AT TIME ZONE p.time_zone,
                                     interval '1 month') AS m(month)
       WHERE NOT EXISTS (SELECT 1 FROM closed_periods c WHERE c.park_id = p.park_id AND c.month = m.month::date)
     ) AS open
     FROM carbon_enterprises e JOIN carbon_parks p ON p.park_id = e.park_id WHERE e.enterprise_id = $1`,
    [enterpriseId, period.from, period.to],
  );

  return {
    enterpriseId,
    period,
    figures,
    energy: [...energy.values()].sort((a, b) => a.commodity.localeCompare(b.commodity)),
    scope1ByFuel: [...fuels].map(([fuel, kg]) => ({ fuel, kgCo2e: decimalText(kg) })),
    energyTce: decimalText(new Dec(figures.energyKgce).div(1000)),
    certificateKwh,
    scope1KgCo2e: figures.scope1KgCo2e,
    scope2LocationKgCo2e: figures.scope2LocationKgCo2e,
    scope2MarketKgCo2e: figures.scope2MarketKgCo2e,
    renewableShare: renewableShare(
      meteredFigures.electricityKwh,
      meteredFigures.renewableKwh,
      certificateKwh,
    ),
    cfeScore: cfeScore(
      hours.map((hour) => ({
        electricityKwh: hour.electricity_kwh,
        carbonFreeKwh: hour.carbon_free_kwh,
      })),
    ),
    priorPeriodAdjustments,
    closed: closedRows[0] ? !closedRows[0].open : false,
  };
}

export interface ParkBalance {
  parkId: string;
  period: Period;
  scope1KgCo2e: string;
  scope2LocationKgCo2e: string;
  scope2MarketKgCo2e: string;
  energyTce: string;
  tco2PerTceMarket?: string;
  tco2PerTceLocation?: string;
  renewableShare?: string;
  internalTransfers: PostingFigures;
  enterprises: number;
}

/**
 * The park's balance: Scope 1 of every park entity plus what crosses the park boundary. Lines
 * of internal-transfer meters (energy one park entity supplied to another) are left out of
 * Scope 2 and energy: the supplier's fuel already counts, so the energy is counted once.
 */
export async function parkBalance(
  db: Queryable,
  parkId: string,
  period: Period,
): Promise<ParkBalance> {
  const { rows } = await db.query<FigureRow & { internal: boolean; coverage: boolean }>(
    `SELECT internal_supplier_id IS NOT NULL AS internal, kind = 'certificate_coverage' AS coverage,
       ${FIGURE_SUMS}
     FROM ledger_lines WHERE park_id = $1 AND interval_start >= $2 AND interval_start < $3
     GROUP BY 1, 2`,
    [parkId, period.from, period.to],
  );
  const boundary = rows.filter((row) => !row.internal);
  const internal = sumFigures(rows.filter((row) => row.internal).map(figuresOf));
  const all = sumFigures(rows.map(figuresOf));
  const crossing = sumFigures(boundary.map(figuresOf));
  const certificateKwh = boundary
    .filter((row) => row.coverage)
    .reduce((sum, row) => sum.plus(row.renewable_kwh), new Dec(0));
  const metered = sumFigures(boundary.filter((row) => !row.coverage).map(figuresOf));
  const { rows: counted } = await db.query<{ enterprises: number }>(
    `SELECT count(DISTINCT enterprise_id)::int AS enterprises FROM ledger_lines
     WHERE park_id = $1 AND interval_start >= $2 AND interval_start < $3`,
    [parkId, period.from, period.to],
  );
  const energy = new Dec(crossing.energyKgce);
  const perTce = (kg: string): string | undefined =>
    energy.gt(0) ? decimalText(new Dec(all.scope1KgCo2e).plus(kg).div(energy)) : undefined;
  return {
    parkId,
    period,
    scope1KgCo2e: all.scope1KgCo2e,
    scope2LocationKgCo2e: crossing.scope2LocationKgCo2e,
    scope2MarketKgCo2e: crossing.scope2MarketKgCo2e,
    energyTce: decimalText(energy.div(1000)),
    tco2PerTceMarket: perTce(crossing.scope2MarketKgCo2e),
    tco2PerTceLocation: perTce(crossing.scope2LocationKgCo2e),
    renewableShare: renewableShare(
      metered.electricityKwh,
      metered.renewableKwh,
      decimalText(certificateKwh),
    ),
    internalTransfers: internal,
    enterprises: counted[0]?.enterprises ?? 0,
  };
}

export interface LedgerEntryRow {
  entryId: string;
  kind: LedgerLineKind;
  cause: string;
  priorPeriod: boolean;
  meterId?: string;
  intervalStart: string;
  category: string;
  quantity: string;
  unit: string;
  quality?: string;
  figures: PostingFigures;
  factors: FactorRef[];
  source: string;
  recordedAt: string;
  certificateSerials: string[];
}

/** A page of an enterprise's ledger lines in interval order, each traceable to its source. */
export async function ledgerEntries(
  db: Queryable,
  query: {
    enterpriseId: string;
    period: Period;
    meterId?: string;
    /** Only lines of this kind. */
    kind?: LedgerLineKind;
    pageSize: number;
    after?: string;
  },
): Promise<{ entries: LedgerEntryRow[]; next?: string }> {
  const after = query.after
    ? (JSON.parse(Buffer.from(query.after, 'base64url').toString()) as [
        string,
        string,
        number,
        number,
      ])
    : undefined;
  const { rows } = await db.query<
    FigureRow & {
      stream_id: string;
      stream_version: string;
      line_index: number;
      kind: LedgerLineKind;
      cause: string;
      prior_period: boolean;
      meter_id: string | null;
      interval_start: Date;
      category: string;
      quantity: string;
      unit: string;
      quality: string | null;
      factors: FactorRef[];
      source: string;
      recorded_at: Date;
      certificate_serials: string[] | null;
    }
  >(
    `SELECT stream_id, stream_version, line_index, kind, cause, prior_period, meter_id, interval_start,
       category, quantity::text, unit, quality, factors, source, recorded_at, certificate_serials,
       energy_kgce::text, electricity_kwh::text, grid_kwh::text, renewable_kwh::text,
       carbon_free_kwh::text, scope1_kgco2e::text, scope2_location_kgco2e::text,
       scope2_market_kgco2e::text
     FROM ledger_lines
     WHERE enterprise_id = $1 AND interval_start >= $2 AND interval_start < $3
       AND ($4::text IS NULL OR meter_id = $4)
       AND ($10::text IS NULL OR kind = $10)
       AND ($5::timestamptz IS NULL
            OR (interval_start, stream_id, stream_version, line_index) > ($5, $6, $7, $8))
     ORDER BY interval_start, stream_id, stream_version, line_index
     LIMIT $9`,
    [
      query.enterpriseId,
      query.period.from,
      query.period.to,
      query.meterId ?? null,
      after?.[0] ?? null,
      after?.[1] ?? '',
      after?.[2] ?? 0,
      after?.[3] ?? 0,
      query.pageSize + 1,
      query.kind ?? null,
    ],
  );
  const page = rows.slice(0, query.pageSize);
  const last = page[page.length - 1];
  return {
    entries: page.map((row) => ({
      entryId: `${row.stream_id}/${row.stream_version}/${row.line_index}`,
      kind: row.kind,
      cause: row.cause,
      priorPeriod: row.prior_period,
      meterId: row.meter_id ?? undefined,
      intervalStart: row.interval_start.toISOString(),
      category: row.category,
      quantity: decimalText(new Dec(row.quantity)),
      unit: row.unit,
      quality: row.quality ?? undefined,
      figures: figuresOf(row),
      factors: row.factors,
      source: row.source,
      recordedAt: row.recorded_at.toISOString(),
      certificateSerials: row.certificate_serials ?? [],
    })),
    next:
      rows.length > query.pageSize && last
        ? Buffer.from(
            JSON.stringify([
              last.interval_start.toISOString(),
              last.stream_id,
              Number(last.stream_version),
              last.line_index,
            ]),
          ).toString('base64url')
        : undefined,
  };
}
