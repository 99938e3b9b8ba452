import type { Pool } from 'pg';

export interface MeterRecord {
  meterId: string;
  parkId: string;
  enterpriseId: string;
  installationId?: string;
  timeZone: string;
  commodity: string;
  role: string;
  unit: string;
  registerType: string;
  intervalMinutes: number;
  multiplier: string;
  registerMaximum?: string;
  status: 'active' | 'decommissioned';
}

/**
 * Meter lookups from the registry read model with an in-memory cache. The registry service in
 * this process invalidates an entry when it changes the meter; the TTL bounds how long a change
 * made by another replica can go unseen. Misses are not cached, so a new meter is found at once.
 * Only a filter: the meter stream stays the judge of what a meter accepts.
 */
export class MeterDirectory {
  private readonly cache = new Map<string, { record: MeterRecord; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs = 30_000,
  ) {}

  async get(meterId: string): Promise<MeterRecord | undefined> {
    return (await this.getMany([meterId])).get(meterId);
  }

  async getMany(meterIds: Iterable<string>): Promise<Map<string, MeterRecord>> {
    const found = new Map<string, MeterRecord>();
    const missing: string[] = [];
    const now = Date.now();
    for (const id of new Set(meterIds)) {
      // PostgreSQL text cannot hold NUL: no meter has such an id, and asking would fail the query.
      if (id.includes('\u0000')) continue;
      const cached = this.cache.get(id);
      if (cached && cached.until > now) found.set(id, cached.record);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const { rows } = await this.pool.query<{
        meter_id: string;
        park_id: string;
        enterprise_id: string;
        installation_id: string | null;
        time_zone: string;
        commodity: string;
        role: string;
        unit: string;
        register_type: string;
        interval_minutes: number;
        multiplier: string;
        register_maximum: string | null;
        status: MeterRecord['status'];
      }>(
        `SELECT meter_id, park_id, enterprise_id, installation_id, time_zone, commodity, role, unit,
           register_type, interval_minutes, multiplier::text, register_maximum::text, status
         FROM meters WHERE meter_id = ANY($1::text[])`,
        [missing],
      );
      for (const row of rows) {
        const record: MeterRecord = {
          meterId: row.meter_id,
          parkId: row.park_id,
          enterpriseId: row.enterprise_id,
          ...(row.installation_id !== null && { installationId: row.installation_id }),
          timeZone: row.time_zone,
          commodity: row.commodity,
          role: row.role,
          unit: row.unit,
          registerType: row.register_type,
          intervalMinutes: row.interval_minutes,
          multiplier: row.multiplier,
          ...(row.register_maximum !== null && { registerMaximum: row.register_maximum }),
          status: row.status,
        };
        this.cache.set(row.meter_id, { record, until: now + this.ttlMs });
        found.set(row.meter_id, record);
      }
    }
    return found;
  }

  invalidate(meterId: string): void {
    this.cache.delete(meterId);
  }

  clear(): void {
    this.cache.clear();
  }
}
