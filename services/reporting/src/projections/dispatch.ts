import { park } from '@park/contracts';
import type { Queryable } from '@park/eventstore';
import { decodePayload, PermanentMessageError } from '@park/messaging';
import { GREEN_ALLOCATIONS_TOPIC } from '@park/metering-events';
import type { Projection } from './projection';

export const DISPATCH_PLANS_TOPIC = 'park.dispatch.plans.v1';
export const DISPATCH_SETPOINTS_TOPIC = 'park.dispatch.setpoints.v1';
export const DISPATCH_SETPOINT_ACKS_TOPIC = 'park.dispatch.setpoint-acks.v1';

/**
 * Dispatch's plans: per park and day the intervals in force (plan versus actual, the
 * dashboard's dispatch view), and every plan issued with its status and violations.
 * Shape 2: each interval keeps export, load, the plants' and batteries' steps and the plan it
 * came from; `issued` keeps every plan (violations with their interval's start, notes, assets
 * in safe mode), so setpoints can be traced to their park through their plan.
 */
export const plansProjection: Projection = {
  name: 'plans',
  shape: 2,
  topics: [DISPATCH_PLANS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.plans (park_id text NOT NULL, day date NOT NULL, plan_id text NOT NULL,
        issued_at timestamptz NOT NULL, intervals jsonb NOT NULL, PRIMARY KEY (park_id, day));
      CREATE TABLE ${schema}.issued (plan_id text PRIMARY KEY, park_id text NOT NULL,
        day date NOT NULL, kind text NOT NULL, status text NOT NULL, issued_at timestamptz NOT NULL,
        first_start timestamptz, violations jsonb NOT NULL, notes jsonb NOT NULL,
        safe_mode jsonb NOT NULL);
      CREATE INDEX ON ${schema}.issued (park_id, day);
    `);
  },
  async apply(db, schema, message) {
    if (message.type !== 'park.dispatch.v1.PlanIssued') return;
    const plan = decodePayload(park.dispatch.v1.PlanIssued, message.type, message.value).plan;
    if (!plan?.planId || !plan.day || !plan.issuedAt) {
      throw new PermanentMessageError('PlanIssued without its plan, day or issue time');
    }
    const intervals = plan.intervals.map((interval) => ({
      start: interval.start?.toISOString(),
      importKw: interval.importKw,
      exportKw: interval.exportKw,
      loadKw: interval.loadKw,
      emissionsKg: interval.emissionsKg,
      renewableShare: interval.renewableShare,
      plants: interval.plants.map((p) => ({
        plantId: p.plantId,
        usedKw: p.usedKw,
        curtailedKw: p.curtailedKw,
      })),
      batteries: interval.batteries.map((b) => ({
        batteryId: b.batteryId,
        chargeKw: b.chargeKw,
        dischargeKw: b.dischargeKw,
        socKwh: b.socKwh,
      })),
      planId: plan.planId,
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
    const violations = plan.violations.map((violation) => ({
      name: violation.name,
      constraint: violation.constraint,
      start: intervals[violation.interval]?.start ?? null,
      assetId: violation.assetId,
      sizeKwh: violation.sizeKwh,
    }));
    await db.query(
      `INSERT INTO ${schema}.issued VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (plan_id) DO NOTHING`,
      [
        plan.planId,
        plan.parkId,
        plan.day,
        plan.kind,
        plan.status,
        plan.issuedAt.toISOString(),
        intervals[0]?.start ?? null,
        JSON.stringify(violations),
        JSON.stringify(plan.notes),
        JSON.stringify(plan.assetsInSafeMode),
      ],
    );
  },
};

/** Dispatch's green direct-line allocations: per line and interval, for the direct-line ratios. */
export const allocationsProjection: Projection = {
  name: 'allocations',
  shape: 1,
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
    const event = decodePayload(park.dispatch.v1.GreenPowerAllocated, message.type, message.value);
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

/**
 * Dispatch's setpoints (issued, expired into safe mode) and the EMS acknowledgements sent on the
 * acknowledgement topic. Setpoints and acknowledgements travel on two topics, so an
 * acknowledgement may be applied before its setpoint: each is kept as it comes, and a setpoint's
 * status is read from both (expired, else acknowledged, else superseded by a later one of its
 * asset, else issued).
 */
export const setpointsProjection: Projection = {
  name: 'setpoints',
  shape: 1,
  topics: [DISPATCH_SETPOINTS_TOPIC, DISPATCH_SETPOINT_ACKS_TOPIC],
  async createTables(db: Queryable, schema: string) {
    await db.query(`
      CREATE TABLE ${schema}.setpoints (setpoint_id text PRIMARY KEY, asset_id text NOT NULL,
        plan_id text NOT NULL, power_kw double precision NOT NULL,
        valid_from timestamptz NOT NULL, valid_until timestamptz NOT NULL,
        expired_at timestamptz, safe_mode text);
      CREATE INDEX ON ${schema}.setpoints (plan_id);
      CREATE INDEX ON ${schema}.setpoints (asset_id, valid_from);
      CREATE TABLE ${schema}.acknowledgements (setpoint_id text PRIMARY KEY, asset_id text NOT NULL,
        acknowledged_at timestamptz NOT NULL);
    `);
  },
  async apply(db, schema, message) {
    if (message.type === 'park.dispatch.v1.SetpointAcknowledged') {
      const ack = decodePayload(park.dispatch.v1.SetpointAcknowledged, message.type, message.value);
      if (!ack.setpointId || !ack.acknowledgedAt) {
        throw new PermanentMessageError('SetpointAcknowledged without its setpoint or time');
      }
      await db.query(
        `INSERT INTO ${schema}.acknowledgements VALUES ($1, $2, $3) ON CONFLICT (setpoint_id) DO NOTHING`,
        [ack.setpointId, ack.assetId, ack.acknowledgedAt.toISOString()],
      );
      return;
    }
    let setpoint: park.dispatch.v1.Setpoint | undefined;
    let safeMode: string | null = null;
    if (message.type === 'park.dispatch.v1.SetpointIssued') {
      setpoint = decodePayload(
        park.dispatch.v1.SetpointIssued,
        message.type,
        message.value,
      ).setpoint;
    } else if (message.type === 'park.dispatch.v1.SetpointExpired') {
      const expired = decodePayload(park.dispatch.v1.SetpointExpired, message.type, message.value);
      setpoint = expired.setpoint;
      safeMode = expired.safeMode || 'idle';
    } else {
      throw new PermanentMessageError(`'${message.type}' is not a setpoint event`);
    }
    if (!setpoint?.setpointId || !setpoint.validFrom || !setpoint.validUntil) {
      throw new PermanentMessageError('setpoint event without its id or validity');
    }
    await db.query(
      `INSERT INTO ${schema}.setpoints VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (setpoint_id) DO UPDATE SET
         expired_at = coalesce(${schema}.setpoints.expired_at, EXCLUDED.expired_at),
         safe_mode = coalesce(${schema}.setpoints.safe_mode, EXCLUDED.safe_mode)`,
      [
        setpoint.setpointId,
        setpoint.assetId,
        setpoint.planId,
        setpoint.powerKw,
        setpoint.validFrom.toISOString(),
        setpoint.validUntil.toISOString(),
        safeMode === null ? null : setpoint.validUntil.toISOString(),
        safeMode,
      ],
    );
  },
};
