import { randomUUID } from 'node:crypto';
import { inTransaction, toJson, type EventStore } from '@park/eventstore';
import { NotFoundError, PreconditionError } from '@park/service-kit/errors';
import type { Redis } from 'ioredis';
import type { Pool, PoolClient } from 'pg';
import type { StoredPlan } from '../plans/plan-service';

/**
 * Setpoints: for the interval in progress, each battery of the park's latest plan gets a
 * setpoint that supersedes its previous one and is valid until the interval ends. The EMS must
 * acknowledge it within the acknowledgement timeout; a setpoint nobody acknowledged expires and
 * the asset falls back to its safe mode (idle) until it acknowledges a later one.
 */
export type SetpointStatus = 'issued' | 'acknowledged' | 'expired' | 'superseded';

export interface SetpointRecord {
  setpointId: string;
  parkId: string;
  assetId: string;
  planId: string;
  /** Positive discharges, negative charges (kW). */
  powerKw: number;
  validFrom: string;
  validUntil: string;
  ackDeadline: string;
  status: SetpointStatus;
  issuedAt: string;
  acknowledgedAt?: string;
}

export type SetpointEvent =
  | { type: 'SetpointIssued'; setpoint: SetpointRecord }
  | { type: 'SetpointAcknowledged'; setpointId: string; assetId: string; acknowledgedAt: string }
  | { type: 'SetpointExpired'; setpoint: SetpointRecord; safeMode: string };

export const setpointStreamId = (assetId: string): string => `setpoints-${assetId}`;
export const SAFE_MODE_KEY = 'dispatch:safe-mode';

const INTERVAL_MS = 15 * 60_000;

interface Row {
  setpoint_id: string;
  park_id: string;
  asset_id: string;
  plan_id: string;
  power_kw: number;
  valid_from: Date;
  valid_until: Date;
  ack_deadline: Date;
  status: SetpointStatus;
  issued_at: Date;
  acknowledged_at: Date | null;
}

function fromRow(row: Row): SetpointRecord {
  return {
    setpointId: row.setpoint_id,
    parkId: row.park_id,
    assetId: row.asset_id,
    planId: row.plan_id,
    powerKw: row.power_kw,
    validFrom: row.valid_from.toISOString(),
    validUntil: row.valid_until.toISOString(),
    ackDeadline: row.ack_deadline.toISOString(),
    status: row.status,
    issuedAt: row.issued_at.toISOString(),
    ...(row.acknowledged_at ? { acknowledgedAt: row.acknowledged_at.toISOString() } : {}),
  };
}

export class SetpointService {
  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly ackTimeoutMs: number,
    private readonly onSafeMode: (assetId: string, inSafeMode: boolean) => void = () => undefined,
  ) {}

  private async append(tx: PoolClient, assetId: string, event: SetpointEvent): Promise<void> {
    await this.store.append(
      setpointStreamId(assetId),
      [{ type: event.type, data: toJson(event), metadata: {} }],
      'any',
      { client: tx },
    );
  }

  /** Issues the setpoints of the interval in progress that are not issued yet. */
  async issueCurrent(plan: StoredPlan, now: Date = new Date()): Promise<SetpointRecord[]> {
    const start = Date.parse(plan.result.intervals[0]?.start ?? '');
    const index = Math.floor((now.getTime() - start) / INTERVAL_MS);
    const interval = plan.result.intervals[index];
    if (!interval || index < 0) return [];
    const validFrom = new Date(start + index * INTERVAL_MS);
    const validUntil = new Date(validFrom.getTime() + INTERVAL_MS);
    const issued: SetpointRecord[] = [];
    for (const battery of interval.batteries) {
      const record = await inTransaction(this.pool, async (tx) => {
        // One setpoint per asset and interval, whichever replica gets here first.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `setpoint:${battery.assetId}`,
        ]);
        const { rows } = await tx.query<{ plan_id: string }>(
          `SELECT plan_id FROM setpoints WHERE asset_id = $1 AND valid_from = $2 AND status <> 'superseded'`,
          [battery.assetId, validFrom.toISOString()],
        );
        if (rows.some((row) => row.plan_id === plan.planId)) return undefined;
        await tx.query(
          `UPDATE setpoints SET status = 'superseded' WHERE asset_id = $1 AND status IN ('issued', 'acknowledged')`,
          [battery.assetId],
        );
        const setpoint: SetpointRecord = {
          setpointId: randomUUID(),
          parkId: plan.parkId,
          assetId: battery.assetId,
          planId: plan.planId,
          powerKw: Math.round((battery.dischargeKw - battery.chargeKw) * 1000) / 1000,
          validFrom: validFrom.toISOString(),
          validUntil: validUntil.toISOString(),
          ackDeadline: new Date(now.getTime() + this.ackTimeoutMs).toISOString(),
          status: 'issued',
          issuedAt: now.toISOString(),
        };
        await this.append(tx, battery.assetId, { type: 'SetpointIssued', setpoint });
        await tx.query(
          `INSERT INTO setpoints (setpoint_id, park_id, asset_id, plan_id, power_kw, valid_from, valid_until,
             ack_deadline, status, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'issued', $9)`,
          [
            setpoint.setpointId,
            setpoint.parkId,
            setpoint.assetId,
            setpoint.planId,
            setpoint.powerKw,
            setpoint.validFrom,
            setpoint.validUntil,
            setpoint.ackDeadline,
            setpoint.issuedAt,
          ],
        );
        return setpoint;
      });
      if (record) issued.push(record);
    }
    return issued;
  }

  /** Expires the setpoints nobody acknowledged in time; their assets go to safe mode. */
  async expireOverdue(now: Date = new Date()): Promise<SetpointRecord[]> {
    const expired = await inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE setpoints SET status = 'expired' WHERE status = 'issued' AND ack_deadline <= $1
         RETURNING *`,
        [now.toISOString()],
      );
      for (const row of rows) {
        await this.append(tx, row.asset_id, {
          type: 'SetpointExpired',
          setpoint: { ...fromRow(row), status: 'expired' },
          safeMode: 'idle',
        });
      }
      return rows.map(fromRow);
    });
    for (const setpoint of expired) {
      await this.redis.hset(SAFE_MODE_KEY, setpoint.assetId, setpoint.ackDeadline);
      this.onSafeMode(setpoint.assetId, true);
    }
    return expired;
  }

  async acknowledge(
    setpointId: string,
    assetId: string,
    now: Date = new Date(),
  ): Promise<SetpointRecord> {
    const record = await inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<Row>(
        'SELECT * FROM setpoints WHERE setpoint_id = $1 FOR UPDATE',
        [setpointId],
      );
      const row = rows[0];
      if (!row || row.asset_id !== assetId) {
        throw new NotFoundError(`setpoint ${setpointId} of asset ${assetId} does not exist`);
      }
      if (row.status === 'acknowledged') return fromRow(row);
      if (row.status !== 'issued') {
        throw new PreconditionError(
          `setpoint ${setpointId} is ${row.status}` +
            (row.status === 'expired'
              ? ` since ${row.ack_deadline.toISOString()}; the asset runs in safe mode`
              : ''),
        );
      }
      await tx.query(
        `UPDATE setpoints SET status = 'acknowledged', acknowledged_at = $2 WHERE setpoint_id = $1`,
        [setpointId, now.toISOString()],
      );
      await this.append(tx, assetId, {
        type: 'SetpointAcknowledged',
        setpointId,
        assetId,
        acknowledgedAt: now.toISOString(),
      });
      return {
        ...fromRow(row),
        status: 'acknowledged' as const,
        acknowledgedAt: now.toISOString(),
      };
    });
    if ((await this.redis.hdel(SAFE_MODE_KEY, assetId)) > 0) this.onSafeMode(assetId, false);
    return record;
  }

  async list(parkId: string, assetId?: string): Promise<SetpointRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM setpoints WHERE park_id = $1 AND ($2::text IS NULL OR asset_id = $2)
       ORDER BY valid_from DESC, asset_id LIMIT 500`,
      [parkId, assetId ?? null],
    );
    return rows.map(fromRow);
  }

  /**
   * Assets in safe mode: a setpoint expired unacknowledged and no later one was acknowledged
   * (a later one merely issued does not end safe mode; see acknowledge).
   */
  async assetsInSafeMode(parkId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ asset_id: string }>(
      `SELECT asset_id FROM setpoints WHERE park_id = $1 GROUP BY asset_id
       HAVING max(issued_at) FILTER (WHERE status = 'expired') >
         coalesce(max(issued_at) FILTER (WHERE acknowledged_at IS NOT NULL), '-infinity')
       ORDER BY asset_id`,
      [parkId],
    );
    return rows.map((row) => row.asset_id);
  }
}
