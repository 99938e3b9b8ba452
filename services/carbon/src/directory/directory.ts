import type { Queryable } from '@park/eventstore';
import type { AttributeStatus, MeterFacts } from '../accounting/model';
import type { RegistryFact } from '@park/metering-events';

/**
 * This service's mirror of metering's registry (parks, enterprises, meters), kept from the
 * compacted registry topic, and its own generators. A reading can arrive before the registry
 * record it needs; the consumer then retries (RegistryNotYetKnownError is transient).
 */
export class RegistryNotYetKnownError extends Error {
  override readonly name = 'RegistryNotYetKnownError';
}

export interface ParkFacts {
  parkId: string;
  timeZone: string;
  gridRegion: string;
  sizeBand: string;
}

export interface EnterpriseFacts {
  enterpriseId: string;
  parkId: string;
  name: string;
  energyUsing: boolean;
  exporter: boolean;
}

export async function applyRegistryFact(db: Queryable, fact: RegistryFact): Promise<void> {
  switch (fact.kind) {
    case 'park':
      await db.query(
        `INSERT INTO carbon_parks (park_id, time_zone, grid_region, size_band) VALUES ($1, $2, $3, $4)
         ON CONFLICT (park_id) DO UPDATE SET time_zone = $2, grid_region = $3, size_band = $4`,
        [fact.parkId, fact.timeZone, fact.gridRegion, fact.sizeBand],
      );
      return;
    case 'enterprise':
      await db.query(
        `INSERT INTO carbon_enterprises (enterprise_id, park_id, name, energy_using, exporter)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (enterprise_id) DO UPDATE SET park_id = $2, name = $3, energy_using = $4, exporter = $5`,
        [fact.enterpriseId, fact.parkId, fact.name, fact.energyUsing, fact.exporter],
      );
      return;
    case 'meter': {
      const meter = fact.meter;
      await db.query(
        `INSERT INTO carbon_meters (meter_id, enterprise_id, commodity, role, unit, source_generator_id,
           source_entity_id, steam_enthalpy_gj_per_tonne)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (meter_id) DO UPDATE SET enterprise_id = $2, commodity = $3, role = $4, unit = $5,
           source_generator_id = $6, source_entity_id = $7, steam_enthalpy_gj_per_tonne = $8`,
        [
          meter.meterId,
          meter.enterpriseId,
          meter.commodity,
          meter.role,
          meter.unit,
          meter.sourceGeneratorId ?? null,
          meter.sourceEntityId ?? null,
          fact.steamEnthalpyGjPerTonne || null,
        ],
      );
      return;
    }
    case 'installation':
      // Carbon learns installations with their processes (RegisterProcess).
      return;
  }
}

/** A carbon_enterprises row as queried. */
interface EnterpriseRow {
  enterprise_id: string;
  park_id: string;
  name: string;
  energy_using: boolean;
  exporter: boolean;
}

function toEnterpriseFacts(row: EnterpriseRow): EnterpriseFacts {
  return {
    enterpriseId: row.enterprise_id,
    parkId: row.park_id,
    name: row.name,
    energyUsing: row.energy_using,
    exporter: row.exporter,
  };
}

export async function enterpriseFacts(
  db: Queryable,
  enterpriseId: string,
): Promise<EnterpriseFacts | undefined> {
  const { rows } = await db.query<EnterpriseRow>(
    'SELECT * FROM carbon_enterprises WHERE enterprise_id = $1',
    [enterpriseId],
  );
  const row = rows[0];
  return row && toEnterpriseFacts(row);
}

export async function parkFacts(db: Queryable, parkId: string): Promise<ParkFacts | undefined> {
  const { rows } = await db.query<{
    park_id: string;
    time_zone: string;
    grid_region: string;
    size_band: string;
  }>('SELECT * FROM carbon_parks WHERE park_id = $1', [parkId]);
  const row = rows[0];
  return (
    row && {
      parkId: row.park_id,
      timeZone: row.time_zone,
      gridRegion: row.grid_region,
      sizeBand: row.size_band,
    }
  );
}

/** The enterprise's park, or a transient error while the registry has not arrived yet. */
export async function requireEnterprisePark(
  db: Queryable,
  enterpriseId: string,
): Promise<{ enterprise: EnterpriseFacts; park: ParkFacts }> {
  const enterprise = await enterpriseFacts(db, enterpriseId);
  if (!enterprise) {
    throw new RegistryNotYetKnownError(
      `enterprise ${enterpriseId} is not in the registry mirror yet`,
    );
  }
  const park = await parkFacts(db, enterprise.parkId);
  if (!park) {
    throw new RegistryNotYetKnownError(
      `park ${enterprise.parkId} is not in the registry mirror yet`,
    );
  }
  return { enterprise, park };
}

/**
 * requireEnterprisePark for several enterprises in one query: each one's enterprise and park,
 * or the same RegistryNotYetKnownError for the first (in the order given) not mirrored yet.
 */
export async function requireEnterpriseParks(
  db: Queryable,
  enterpriseIds: readonly string[],
): Promise<Map<string, { enterprise: EnterpriseFacts; park: ParkFacts }>> {
  const found = new Map<string, { enterprise: EnterpriseFacts; park?: ParkFacts }>();
  if (enterpriseIds.length > 0) {
    const { rows } = await db.query<
      EnterpriseRow & {
        time_zone: string | null;
        grid_region: string | null;
        size_band: string | null;
      }
    >(
      `SELECT e.enterprise_id, e.park_id, e.name, e.energy_using, e.exporter, p.time_zone,
         p.grid_region, p.size_band
       FROM carbon_enterprises e LEFT JOIN carbon_parks p ON p.park_id = e.park_id
       WHERE e.enterprise_id = ANY($1::text[])`,
      [[...new Set(enterpriseIds)]],
    );
    for (const row of rows) {
      found.set(row.enterprise_id, {
        enterprise: toEnterpriseFacts(row),
        ...(row.time_zone === null
          ? {}
          : {
              park: {
                parkId: row.park_id,
                timeZone: row.time_zone,
                gridRegion: row.grid_region!,
                sizeBand: row.size_band!,
              },
            }),
      });
    }
  }
  const parks = new Map<string, { enterprise: EnterpriseFacts; park: ParkFacts }>();
  for (const enterpriseId of enterpriseIds) {
    const facts = found.get(enterpriseId);
    if (!facts) {
      throw new RegistryNotYetKnownError(
        `enterprise ${enterpriseId} is not in the registry mirror yet`,
      );
    }
    if (!facts.park) {
      throw new RegistryNotYetKnownError(
        `park ${facts.enterprise.parkId} is not in the registry mirror yet`,
      );
    }
    parks.set(enterpriseId, { enterprise: facts.enterprise, park: facts.park });
  }
  return parks;
}

export async function meterById(db: Queryable, meterId: string): Promise<MeterFacts | undefined> {
  const { rows } = await db.query<{
    meter_id: string;
    enterprise_id: string;
    commodity: MeterFacts['commodity'];
    role: MeterFacts['role'];
    unit: MeterFacts['unit'];
    source_generator_id: string | null;
    source_entity_id: string | null;
    enthalpy: string | null;
  }>(
    `SELECT meter_id, enterprise_id, commodity, role, unit, source_generator_id, source_entity_id,
       steam_enthalpy_gj_per_tonne::text AS enthalpy FROM carbon_meters WHERE meter_id = $1`,
    [meterId],
  );
  const row = rows[0];
  return (
    row && {
      meterId: row.meter_id,
      enterpriseId: row.enterprise_id,
      commodity: row.commodity,
      role: row.role,
      unit: row.unit,
      sourceGeneratorId: row.source_generator_id ?? undefined,
      sourceEntityId: row.source_entity_id ?? undefined,
      steamEnthalpyGjPerTonne: row.enthalpy ?? undefined,
    }
  );
}

/** The enterprise's direct-line meter fed by a generator, if the registry has one. */
export async function directLineMeter(
  db: Queryable,
  enterpriseId: string,
  generatorId: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ meter_id: string }>(
    `SELECT meter_id FROM carbon_meters
     WHERE enterprise_id = $1 AND role = 'green_direct_line' AND source_generator_id = $2
     ORDER BY meter_id LIMIT 1`,
    [enterpriseId, generatorId],
  );
  return rows[0]?.meter_id;
}

export async function generatorStatuses(
  db: Queryable,
  generatorIds: readonly string[],
): Promise<Map<string, AttributeStatus>> {
  if (generatorIds.length === 0) return new Map();
  const { rows } = await db.query<{ generator_id: string; attribute_status: AttributeStatus }>(
    'SELECT generator_id, attribute_status FROM carbon_generators WHERE generator_id = ANY($1::text[])',
    [[...new Set(generatorIds)]],
  );
  return new Map(rows.map((row) => [row.generator_id, row.attribute_status]));
}
