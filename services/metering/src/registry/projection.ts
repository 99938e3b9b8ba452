import type { Queryable, ProjectableEvent } from '@park/eventstore';
import type { MeterRegistration } from './meter-registration';

/**
 * Registry read models (parks, enterprises, installations, meters). Each upsert only moves a
 * row forward (stream_version), so replays and rebuilds are idempotent. Returns whether the
 * event was a registry event.
 */
export async function projectRegistryEvent(
  db: Queryable,
  event: ProjectableEvent,
): Promise<boolean> {
  const d = event.data as Record<string, unknown>;
  const version = event.streamVersion;
  switch (event.type) {
    case 'ParkConfigured':
      await db.query(
        `INSERT INTO parks (park_id, name, time_zone, latitude, longitude, grid_region, size_band, stream_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (park_id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone,
           latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
           grid_region = EXCLUDED.grid_region, size_band = EXCLUDED.size_band,
           stream_version = EXCLUDED.stream_version
         WHERE parks.stream_version < EXCLUDED.stream_version`,
        [d.parkId, d.name, d.timeZone, d.latitude, d.longitude, d.gridRegion, d.sizeBand, version],
      );
      return true;
    case 'EnterpriseRegistered':
      await db.query(
        `INSERT INTO enterprises (enterprise_id, park_id, name, credit_code, industry_code, exporter,
           energy_using, key_energy_consuming_unit, stream_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (enterprise_id) DO NOTHING`,
        [
          d.enterpriseId,
          d.parkId,
          d.name,
          d.creditCode,
          d.industryCode,
          d.exporter,
          d.energyUsing,
          d.keyEnergyConsumingUnit,
          version,
        ],
      );
      return true;
    case 'EnterpriseUpdated': {
      const c = (d.changes ?? {}) as Record<string, unknown>;
      await db.query(
        `UPDATE enterprises SET
           name = coalesce($2, name), credit_code = coalesce($3, credit_code),
           industry_code = coalesce($4, industry_code), exporter = coalesce($5, exporter),
           energy_using = coalesce($6, energy_using),
           key_energy_consuming_unit = coalesce($7, key_energy_consuming_unit),
           stream_version = $8
         WHERE enterprise_id = $1 AND stream_version < $8`,
        [
          d.enterpriseId,
          c.name ?? null,
          c.creditCode ?? null,
          c.industryCode ?? null,
          c.exporter ?? null,
          c.energyUsing ?? null,
          c.keyEnergyConsumingUnit ?? null,
          version,
        ],
      );
      return true;
    }
    case 'InstallationRegistered':
      await db.query(
        `INSERT INTO installations (installation_id, enterprise_id, park_id, name, meter_ids, stream_version)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (installation_id) DO NOTHING`,
        [d.installationId, d.enterpriseId, d.parkId, d.name, d.meterIds, version],
      );
      return true;
    case 'MeterRegistered': {
      const r = d as unknown as MeterRegistration;
      await db.query(
        `INSERT INTO meters (meter_id, park_id, enterprise_id, installation_id, time_zone, commodity,
           role, unit, register_type, register_maximum, multiplier, rated_power_kw, interval_minutes,
           source_generator_id, source_entity_id, enthalpy_gj_per_tonne, status, stream_version,
           serial_number, registered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'active', $17,
           $18, coalesce((SELECT recorded_at FROM events WHERE stream_id = $19 AND stream_version = $17), now()))
         ON CONFLICT (meter_id) DO NOTHING`,
        [
          r.meterId,
          r.parkId,
          r.enterpriseId,
          r.installationId ?? null,
          r.timeZone,
          r.commodity,
          r.role,
          r.unit,
          r.registerType,
          r.registerMaximum ?? null,
          r.multiplier,
          r.ratedPowerKw ?? null,
          r.intervalMinutes,
          r.sourceGeneratorId ?? null,
          r.sourceEntityId ?? null,
          r.enthalpyGjPerTonne ?? null,
          version,
          r.serialNumber ?? null,
          // The MeterRegistered event's time in the log (appended in this transaction when inline).
          event.streamId,
        ],
      );
      return true;
    }
    case 'MeterReplaced':
      await db.query(
        `UPDATE meters SET multiplier = $2, register_maximum = $3, serial_number = $5,
           stream_version = $4
         WHERE meter_id = $1 AND stream_version < $4`,
        [d.meterId, d.multiplier, d.registerMaximum ?? null, version, d.serialNumber ?? null],
      );
      return true;
    case 'MeterDecommissioned':
      await db.query(
        `UPDATE meters SET status = 'decommissioned', decommissioned_at = $2, stream_version = $3
         WHERE meter_id = $1 AND stream_version < $3`,
        [d.meterId, d.at, version],
      );
      return true;
    default:
      return false;
  }
}
