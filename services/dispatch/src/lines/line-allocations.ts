import { isDeepStrictEqual } from 'node:util';
import { decimalText, Dec } from '@park/domain-primitives';
import { toJson, type EventStore, type Queryable } from '@park/eventstore';
import type { PoolClient } from 'pg';
import {
  allocateInterval,
  directLineRatios,
  type DirectLineRatios,
  type DirectLineThresholds,
  type LineAllocation,
} from '../allocation';
import { NotFoundError } from '@park/service-kit/errors';
import type { DirectLineDef } from '../topology/topology';

/**
 * A line's allocation for one interval, recorded in the line's stream: `LineAllocated` with the
 * whole split, and one `GreenPowerAllocated` per consumer (published, key enterprise id). A
 * corrected reading of the line or of a consumer re-allocates; an unchanged split records
 * nothing, a changed one the next revision.
 */
export interface LineAllocated {
  type: 'LineAllocated';
  lineId: string;
  parkId: string;
  plantId: string;
  intervalStart: string;
  revision: number;
  lineMeteredKwh: string;
  allocation: LineAllocation;
}

export interface GreenPowerAllocatedEvent {
  type: 'GreenPowerAllocated';
  parkId: string;
  lineId: string;
  plantId: string;
  enterpriseId: string;
  meterId?: string;
  intervalStart: string;
  allocatedKwh: string;
  lineMeteredKwh: string;
  /** The line's feed-in in the interval (the same on every consumer's event). */
  lineExportedKwh: string;
  revision: number;
}

export const lineStreamId = (lineId: string): string => `line-${lineId}`;

/** Lines whose allocation the meter's values feed. */
export async function linesOfMeter(
  db: Queryable,
  meterId: string,
): Promise<{ line: DirectLineDef; parkId: string }[]> {
  const { rows } = await db.query<{ definition: DirectLineDef; park_id: string }>(
    `SELECT l.definition, l.park_id FROM line_meters m JOIN direct_lines l ON l.line_id = m.line_id
     WHERE m.meter_id = $1 ORDER BY l.line_id`,
    [meterId],
  );
  return rows.map((row) => ({ line: row.definition, parkId: row.park_id }));
}

async function valuesAt(
  db: Queryable,
  meterIds: readonly string[],
  intervalStart: string,
): Promise<Map<string, string>> {
  const { rows } = await db.query<{ meter_id: string; value: string }>(
    `SELECT meter_id, value::text FROM metered_values
     WHERE meter_id = ANY($1::text[]) AND interval_start = $2`,
    [meterIds, intervalStart],
  );
  return new Map(rows.map((row) => [row.meter_id, row.value]));
}

/** The consumer's direct-line meter among its consumption meters (carbon books on it). */
async function directLineMeterOf(
  db: Queryable,
  meterIds: readonly string[],
): Promise<string | undefined> {
  const { rows } = await db.query<{ meter_id: string }>(
    `SELECT meter_id FROM dispatch_meters WHERE meter_id = ANY($1::text[]) AND role = 'green_direct_line'
     ORDER BY meter_id LIMIT 1`,
    [meterIds],
  );
  return rows[0]?.meter_id;
}

/**
 * Allocates (again) a line's interval once the line's reading and every consumer's consumption
 * are in; answers the revision recorded, or undefined when inputs are missing or nothing changed.
 */
export async function allocateLineInterval(
  store: EventStore,
  tx: PoolClient,
  parkId: string,
  line: DirectLineDef,
  intervalStart: string,
): Promise<number | undefined> {
  const consumerMeters = line.consumers.flatMap((consumer) => consumer.consumptionMeterIds);
  const meters = [
    line.lineMeterId,
    line.storageMeterId,
    line.exportMeterId,
    ...consumerMeters,
  ].filter((meter): meter is string => Boolean(meter));
  const values = await valuesAt(tx, meters, intervalStart);
  const lineKwh = values.get(line.lineMeterId);
  if (lineKwh === undefined) return undefined;
  if (consumerMeters.some((meter) => !values.has(meter))) return undefined;
  // A generation meter's standby draw at night reads slightly negative: nothing to allocate.
  const sum = (ids: readonly string[]) =>
    decimalText(
      Dec.max(
        ids.reduce((total, id) => total.plus(values.get(id) ?? '0'), new Dec(0)),
        0,
      ),
    );
  const allocation = allocateInterval({
    lineId: line.lineId,
    generatorId: line.plantId,
    intervalStart,
    lineMeteredKwh: sum([line.lineMeterId]),
    consumers: line.consumers.map((consumer) => ({
      enterpriseId: consumer.enterpriseId,
      priority: consumer.priority,
      share: consumer.share,
      consumptionKwh: sum(consumer.consumptionMeterIds),
    })),
    ...(line.storageMeterId ? { storedKwh: sum([line.storageMeterId]) } : {}),
    ...(line.exportMeterId ? { exportedKwh: sum([line.exportMeterId]) } : {}),
  });
  const { rows } = await tx.query<{ revision: string; result: LineAllocation }>(
    'SELECT revision, result FROM line_allocations WHERE line_id = $1 AND interval_start = $2 FOR UPDATE',
    [line.lineId, intervalStart],
  );
  const previous = rows[0];
  // jsonb does not keep key order: compare the values, not their JSON texts.
  if (previous && isDeepStrictEqual(previous.result, allocation)) return undefined;
  const revision = previous ? Number(previous.revision) + 1 : 1;
  const events: (LineAllocated | GreenPowerAllocatedEvent)[] = [
    {
      type: 'LineAllocated',
      lineId: line.lineId,
      parkId,
      plantId: line.plantId,
      intervalStart,
      revision,
      lineMeteredKwh: allocation.lineMeteredKwh,
      allocation,
    },
  ];
  for (const share of allocation.allocations) {
    const consumer = line.consumers.find(
      (candidate) => candidate.enterpriseId === share.enterpriseId,
    )!;
    const meterId = await directLineMeterOf(tx, consumer.consumptionMeterIds);
    events.push({
      type: 'GreenPowerAllocated',
      parkId,
      lineId: line.lineId,
      plantId: line.plantId,
      enterpriseId: share.enterpriseId,
      ...(meterId ? { meterId } : {}),
      intervalStart,
      allocatedKwh: share.kwh,
      lineMeteredKwh: allocation.lineMeteredKwh,
      lineExportedKwh: allocation.exportedKwh,
      revision,
    });
  }
  await store.append(
    lineStreamId(line.lineId),
    events.map((event) => ({ type: event.type, data: toJson(event), metadata: {} })),
    'any',
    { client: tx },
  );
  await tx.query(
    `INSERT INTO line_allocations (line_id, interval_start, revision, result) VALUES ($1, $2, $3, $4)
     ON CONFLICT (line_id, interval_start) DO UPDATE SET revision = $3, result = $4`,
    [line.lineId, intervalStart, revision, JSON.stringify(allocation)],
  );
  return revision;
}

/**
 * A line's direct-connection ratios over [from, to): its recorded allocations, the line meter's
 * energy as the available generation, and each consumer's metered consumption in the period.
 */
export async function lineRatios(
  db: Queryable,
  parkId: string,
  lineId: string,
  from: string,
  to: string,
  thresholds?: Partial<DirectLineThresholds>,
): Promise<DirectLineRatios> {
  const { rows: lines } = await db.query<{ definition: DirectLineDef }>(
    'SELECT definition FROM direct_lines WHERE line_id = $1 AND park_id = $2',
    [lineId, parkId],
  );
  const line = lines[0]?.definition;
  if (!line) throw new NotFoundError(`direct line ${lineId} is not registered in park ${parkId}`);
  const { rows } = await db.query<{ result: LineAllocation }>(
    `SELECT result FROM line_allocations WHERE line_id = $1 AND interval_start >= $2 AND interval_start < $3
     ORDER BY interval_start`,
    [lineId, from, to],
  );
  const allocations = rows.map((row) => row.result);
  const consumerConsumption = [];
  for (const consumer of line.consumers) {
    const { rows: sums } = await db.query<{ kwh: string }>(
      `SELECT coalesce(sum(value), 0)::text AS kwh FROM metered_values
       WHERE meter_id = ANY($1::text[]) AND interval_start >= $2 AND interval_start < $3`,
      [consumer.consumptionMeterIds, from, to],
    );
    consumerConsumption.push({
      enterpriseId: consumer.enterpriseId,
      kwh: decimalText(Dec.max(sums[0]!.kwh, 0)),
    });
  }
  return directLineRatios({
    lineId,
    allocations,
    availableGeneration: allocations.map((a) => ({
      intervalStart: a.intervalStart,
      kwh: a.lineMeteredKwh,
    })),
    consumerConsumption,
    ...(thresholds ? { thresholds } : {}),
  });
}
