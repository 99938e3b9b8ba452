import { park } from '@park/contracts';
import type { Queryable } from '@park/eventstore';
import { PermanentMessageError } from '@park/messaging';
import { GREEN_ALLOCATIONS_TOPIC } from '@park/metering-events';
import type { Projection } from './projection';

export const DISPATCH_PLANS_TOPIC = 'park.dispatch.plans.v1';

function decode<T>(codec: { decode(input: Uint8Array): T }, type: string, value: Uint8Array): T {
  try {
    return codec.decode(value);
  } catch (error) {
    throw new PermanentMessageError(`undecodable ${type}: ${(error as Error).message}`);
  }
}

/** Dispatch's plans (the latest per park and day) for plan versus actual. */
export const plansProjection: Projection = {
  name: 'plans',
  topics: [DISPATCH_PLANS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.plans (park_id text NOT NULL, day date NOT NULL, plan_id text NOT NULL,
        issued_at timestamptz NOT NULL, intervals jsonb NOT NULL, PRIMARY KEY (park_id, day));
    `);
  },
  async apply(db, schema, message) {
    if (message.type !== 'park.dispatch.v1.PlanIssued') return;
    const plan = decode(park.dispatch.v1.PlanIssued, message.type, message.value).plan;
    if (!plan?.planId || !plan.day || !plan.issuedAt) {
      throw new PermanentMessageError('PlanIssued without its plan, day or issue time');
    }
    const intervals = plan.intervals.map((interval) => ({
      start: interval.start?.toISOString(),
      importKw: interval.importKw,
      emissionsKg: interval.emissionsKg,
      renewableShare: interval.renewableShare,
    }));
    // An intraday plan covers the rest of the day: it replaces the day's plan from its first
    // interval on, and the earlier intervals keep the plan that was in force then.
    await db.query(
      `INSERT INTO ${schema}.plans VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (park_id, day) DO UPDATE SET plan_id = $3, issued_at = $4,
         intervals = (SELECT coalesce(jsonb_agg(i ORDER BY i->>'start'), '[]'::jsonb) FROM (
           SELECT i FROM jsonb_array_elements(${schema}.plans.intervals) i
           WHERE i->>'start' < ($5::jsonb->0->>'start')
           UNION ALL SELECT i FROM jsonb_array_elements($5::jsonb) i) x)
       WHERE ${schema}.plans.issued_at <= $4`,
      [plan.parkId, plan.day, plan.planId, plan.issuedAt.toISOString(), JSON.stringify(intervals)],
    );
  },
};

/** Dispatch's green direct-line allocations: per line and interval, for the direct-line ratios. */
export const allocationsProjection: Projection = {
  name: 'allocations',
  topics: [GREEN_ALLOCATIONS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.line_intervals (line_id text NOT NULL, interval_start timestamptz NOT NULL,
        park_id text NOT NULL, metered_kwh numeric NOT NULL, exported_kwh numeric NOT NULL,
        revision bigint NOT NULL, PRIMARY KEY (line_id, interval_start));
      CREATE TABLE ${schema}.line_allocations (line_id text NOT NULL, interval_start timestamptz NOT NULL,
        enterprise_id text NOT NULL, allocated_kwh numeric NOT NULL, revision bigint NOT NULL,
        PRIMARY KEY (line_id, interval_start, enterprise_id));
    `);
  },
  async apply(db, schema, message) {
    if (message.type !== 'park.dispatch.v1.GreenPowerAllocated') {
      throw new PermanentMessageError(`'${message.type}' is not a green allocation`);
    }
    const event = decode(park.dispatch.v1.GreenPowerAllocated, message.type, message.value);
    if (!event.lineId || !event.enterpriseId || !event.intervalStart) {
      throw new PermanentMessageError('GreenPowerAllocated without line, enterprise or interval');
    }
    const start = event.intervalStart.toISOString();
    await db.query(
      `INSERT INTO ${schema}.line_intervals VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (line_id, interval_start) DO UPDATE SET metered_kwh = $4, exported_kwh = $5, revision = $6
       WHERE ${schema}.line_intervals.revision <= $6`,
      [
        event.lineId,
        start,
        event.parkId,
        event.lineMeteredKwh?.value || '0',
        event.lineExportedKwh?.value || '0',
        event.revision.toString(),
      ],
    );
    await db.query(
      `INSERT INTO ${schema}.line_allocations VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (line_id, interval_start, enterprise_id) DO UPDATE SET allocated_kwh = $4, revision = $5
       WHERE ${schema}.line_allocations.revision <= $5`,
      [
        event.lineId,
        start,
        event.enterpriseId,
        event.allocatedKwh?.value || '0',
        event.revision.toString(),
      ],
    );
  },
};
