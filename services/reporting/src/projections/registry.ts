import type { Queryable } from '@park/eventstore';
import { decodeRegistryRecord, METERING_REGISTRY_TOPIC } from '@park/metering-events';
import type { Projection } from './projection';

/**
 * Parks, enterprises, installations and meters from metering's registry topic.
 * Shape 2: installations (the dashboard's CBAM data), each meter's unit, interval length and
 * whether it is active (data quality: expected intervals, silent meters).
 */
export const registryProjection: Projection = {
  name: 'registry',
  shape: 2,
  topics: [METERING_REGISTRY_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.parks (park_id text PRIMARY KEY, time_zone text NOT NULL,
        size_band text NOT NULL, grid_region text NOT NULL);
      CREATE TABLE ${schema}.enterprises (enterprise_id text PRIMARY KEY, park_id text NOT NULL,
        name text NOT NULL, energy_using boolean NOT NULL);
      CREATE INDEX ON ${schema}.enterprises (park_id);
      CREATE TABLE ${schema}.meters (meter_id text PRIMARY KEY, enterprise_id text NOT NULL,
        commodity text NOT NULL, role text NOT NULL, unit text NOT NULL,
        interval_minutes integer NOT NULL, active boolean NOT NULL);
      CREATE INDEX ON ${schema}.meters (enterprise_id);
      CREATE TABLE ${schema}.installations (installation_id text PRIMARY KEY,
        enterprise_id text NOT NULL, name text NOT NULL);
      CREATE INDEX ON ${schema}.installations (enterprise_id);
    `);
  },
  async apply(db, schema, message) {
    const fact = decodeRegistryRecord(message.type, message.value);
    switch (fact.kind) {
      case 'park':
        await db.query(
          `INSERT INTO ${schema}.parks VALUES ($1, $2, $3, $4)
           ON CONFLICT (park_id) DO UPDATE SET time_zone = $2, size_band = $3, grid_region = $4`,
          [fact.parkId, fact.timeZone, fact.sizeBand, fact.gridRegion],
        );
        return;
      case 'enterprise':
        await db.query(
          `INSERT INTO ${schema}.enterprises VALUES ($1, $2, $3, $4)
           ON CONFLICT (enterprise_id) DO UPDATE SET park_id = $2, name = $3, energy_using = $4`,
          [fact.enterpriseId, fact.parkId, fact.name, fact.energyUsing],
        );
        return;
      case 'meter':
        await db.query(
          `INSERT INTO ${schema}.meters VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (meter_id) DO UPDATE SET enterprise_id = $2, commodity = $3, role = $4,
             unit = $5, interval_minutes = $6, active = $7`,
          [
            fact.meter.meterId,
            fact.meter.enterpriseId,
            fact.meter.commodity,
            fact.meter.role,
            fact.meter.unit,
            fact.intervalMinutes,
            fact.active,
          ],
        );
        return;
      case 'installation':
        await db.query(
          `INSERT INTO ${schema}.installations VALUES ($1, $2, $3)
           ON CONFLICT (installation_id) DO UPDATE SET enterprise_id = $2, name = $3`,
          [fact.installationId, fact.enterpriseId, fact.name],
        );
        return;
    }
  },
};
