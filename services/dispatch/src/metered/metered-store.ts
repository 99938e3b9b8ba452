import type { Queryable } from '@park/eventstore';
import type { MeterFacts, RegistryFact } from '@park/metering-events';

/**
 * Dispatch's mirror of metering: parks (time zone, coordinates for the PV model), meters, and
 * the interval values of the electricity and storage meters it plans and allocates with.
 */
export async function applyRegistryFact(db: Queryable, fact: RegistryFact): Promise<void> {
  if (fact.kind === 'park') {
    await db.query(
      `INSERT INTO dispatch_parks (park_id, time_zone, latitude, longitude) VALUES ($1, $2, $3, $4)
       ON CONFLICT (park_id) DO UPDATE SET time_zone = $2, latitude = $3, longitude = $4`,
      [fact.parkId, fact.timeZone, fact.latitude, fact.longitude],
    );
  } else if (fact.kind === 'meter') {
    const m = fact.meter;
    await db.query(
      `INSERT INTO dispatch_meters (meter_id, enterprise_id, commodity, role, unit) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (meter_id) DO UPDATE SET enterprise_id = $2, commodity = $3, role = $4, unit = $5`,
      [m.meterId, m.enterpriseId, m.commodity, m.role, m.unit],
    );
  }
}

/** Electricity in kWh (MWh meters scaled) and storage SOC in percent; other commodities are not kept. */
export function followed(meter: MeterFacts): { scale: string } | undefined {
  if (meter.commodity !== 'electricity') return undefined;
  if (meter.unit === 'kWh' || meter.unit === '%') return { scale: '1' };
  if (meter.unit === 'MWh') return { scale: '1000' };
  return undefined;
}

/** Stores values (a correction replaces the value); answers the intervals whose value changed. */
export async function recordValues(
  db: Queryable,
  meter: MeterFacts,
  values: { intervalStart: string; value: string }[],
): Promise<string[]> {
  const follow = followed(meter);
  if (!follow || values.length === 0) return [];
  const { rows } = await db.query<{ interval_start: Date }>(
    `INSERT INTO metered_values (meter_id, interval_start, value)
     SELECT $1, v.interval_start, v.value * $4::numeric
     FROM unnest($2::timestamptz[], $3::numeric[]) AS v(interval_start, value)
     ON CONFLICT (meter_id, interval_start) DO UPDATE SET value = EXCLUDED.value
       WHERE metered_values.value IS DISTINCT FROM EXCLUDED.value
     RETURNING interval_start`,
    [
      meter.meterId,
      values.map((value) => value.intervalStart),
      values.map((value) => value.value),
      follow.scale,
    ],
  );
  return rows.map((row) => row.interval_start.toISOString());
}

/** Sums of meters' values per interval start (ISO), over [from, to). */
export async function meteredSums(
  db: Queryable,
  meterIds: readonly string[],
  from: string,
  to: string,
): Promise<Map<string, number>> {
  const { rows } = await db.query<{ interval_start: Date; kwh: string }>(
    `SELECT interval_start, sum(value)::text AS kwh FROM metered_values
     WHERE meter_id = ANY($1::text[]) AND interval_start >= $2 AND interval_start < $3
     GROUP BY interval_start`,
    [meterIds, from, to],
  );
  return new Map(rows.map((row) => [row.interval_start.toISOString(), Number(row.kwh)]));
}

/** The park's consumption meters: what enterprises draw from the grid and direct lines. */
export async function consumptionMeters(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ meter_id: string }>(
    `SELECT meter_id FROM dispatch_meters
     WHERE commodity = 'electricity' AND role IN ('grid_import', 'green_direct_line') ORDER BY meter_id`,
  );
  return rows.map((row) => row.meter_id);
}

export async function parkLocation(
  db: Queryable,
  parkId: string,
): Promise<{ timeZone: string; latitude: number; longitude: number } | undefined> {
  const { rows } = await db.query<{ time_zone: string; latitude: string; longitude: string }>(
    'SELECT time_zone, latitude::text, longitude::text FROM dispatch_parks WHERE park_id = $1',
    [parkId],
  );
  const row = rows[0];
  return (
    row && {
      timeZone: row.time_zone,
      latitude: Number(row.latitude),
      longitude: Number(row.longitude),
    }
  );
}
