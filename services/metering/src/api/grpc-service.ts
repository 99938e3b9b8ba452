import { park } from '@park/contracts';
import type { EventMetadata } from '@park/eventstore';
import {
  defineGuardedService,
  type CallContext,
  type GrpcService,
  type ServiceHandlers,
} from '@park/service-kit';
import { NotFoundError, ValidationError } from '@park/service-kit/errors';
import type { Pool } from 'pg';
import { unitToProto } from '../integration/enums';
import type { BatchReading, BatchReadingResult, IngestService } from '../readings/ingest-service';
import type { MeterStreams } from '../readings/meter-streams';
import type { Quality } from '../readings/model';
import type { MeterDirectory } from '../registry/meter-directory';
import type { MeterUnit } from '../registry/meter-registration';
import type { RegistryService } from '../registry/registry-service';
import { getSeries, type SeriesQuery } from '../series/series-store';
import { instantText } from '@park/domain-primitives';
import { assertOwnEnterprise, enterpriseLimit, METERING_ACCESS } from './access';
import {
  commodityFromProto,
  decimal,
  enterpriseChangesFromProto,
  enterpriseToProto,
  intervalValueToProto,
  METER_COLUMNS,
  meterFromProto,
  meterRoleFromProto,
  meterRowToProto,
  optionalDecimal,
  optionalText,
  pageFromProto,
  pageToken,
  parkFromProto,
  parkToProto,
  ProtoViolations,
  resolutionFromProto,
  resolutionToProto,
  unitFromProto,
  withFieldPrefix,
  type MeterRow,
} from './proto-mapping';
import { watchReadings } from './watch-readings';

const v1 = park.metering.v1;
type Definition = typeof park.metering.v1.MeteringServiceService;

export interface MeteringGrpcDeps {
  registry: RegistryService;
  streams: MeterStreams;
  directory: MeterDirectory;
  ingest: IngestService;
  pool: Pool;
  clock?: () => Date;
  /** How often WatchReadings looks for new readings; 500 ms by default. */
  watchPollMs?: number;
}

/**
 * park.metering.v1.MeteringService over the metering application layer. Every handler is wrapped
 * with its access rule (access.ts); proto <-> domain mapping is in proto-mapping.ts.
 */
export function meteringGrpcService(deps: MeteringGrpcDeps): GrpcService {
  const { registry, streams, directory, ingest, pool } = deps;
  const clock = deps.clock ?? (() => new Date());
  const metadataOf = (ctx: CallContext, extra: EventMetadata = {}): EventMetadata => ({
    actor: `${ctx.principal.role}:${ctx.principal.subject}`,
    ...extra,
  });

  async function requireEnterprise(enterpriseId: string, field: string) {
    const enterprise = await registry.getEnterprise(enterpriseId);
    if (!enterprise)
      throw new NotFoundError(`${field}: enterprise ${enterpriseId} is not registered`);
    return enterprise;
  }

  async function meterRow(meterId: string): Promise<MeterRow | undefined> {
    const { rows } = await pool.query<MeterRow>(
      `SELECT ${METER_COLUMNS} FROM meters WHERE meter_id = $1`,
      [meterId],
    );
    return rows[0];
  }

  async function requireMeterRow(meterId: string): Promise<MeterRow> {
    const row = await meterRow(meterId);
    if (!row) throw new NotFoundError(`meter ${meterId} is not registered`);
    return row;
  }

  async function readingOf(
    meterId: string,
    intervalStart: string,
  ): Promise<park.metering.v1.IntervalValue> {
    const { rows } = await pool.query<{
      interval_start: Date;
      value: string | null;
      quality: Quality;
      source: string;
    }>(
      `SELECT interval_start, value::text, quality, source FROM readings
       WHERE meter_id = $1 AND interval_start = $2`,
      [meterId, intervalStart],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError(`meter ${meterId} has no reading at ${intervalStart}`);
    return intervalValueToProto({
      intervalStart: row.interval_start,
      value: row.value ?? '',
      quality: row.quality,
      source: row.source,
    });
  }

  const handlers: ServiceHandlers<Definition> = {
    async configurePark(request, ctx) {
      const command = parkFromProto(request);
      const profile = await withFieldPrefix('park', () =>
        registry.configurePark(command, metadataOf(ctx)),
      );
      return { park: parkToProto(profile) };
    },

    async getPark(request) {
      const v = new ProtoViolations();
      const parkId = v.text('park_id', request.parkId);
      v.throwIfAny();
      const profile = await registry.getPark(parkId!);
      if (!profile) throw new NotFoundError(`park ${parkId} is not configured`);
      return { park: parkToProto(profile) };
    },

    async registerEnterprise(request, ctx) {
      const v = new ProtoViolations();
      const e = v.message('enterprise', request.enterprise);
      v.throwIfAny();
      await withFieldPrefix('enterprise', () =>
        registry.registerEnterprise(
          {
            enterpriseId: e!.enterpriseId,
            parkId: e!.parkId,
            name: e!.name,
            creditCode: e!.creditCode,
            industryCode: e!.industryCode,
            exporter: e!.exporter,
            energyUsing: e!.energyUsing,
            keyEnergyConsumingUnit: e!.keyEnergyConsumingUnit,
          },
          metadataOf(ctx),
        ),
      );
      return {
        enterprise: enterpriseToProto(
          await requireEnterprise(e!.enterpriseId.trim(), 'enterprise'),
        ),
      };
    },

    async updateEnterprise(request, ctx) {
      const v = new ProtoViolations();
      const e = v.message('enterprise', request.enterprise);
      const enterpriseId = e && v.text('enterprise.enterprise_id', e.enterpriseId);
      v.throwIfAny();
      const current = await requireEnterprise(enterpriseId!, 'enterprise.enterprise_id');
      if (e!.parkId !== '' && e!.parkId !== current.parkId) {
        throw ValidationError.field(
          'enterprise.park_id',
          `the enterprise is in park ${current.parkId}; it cannot move to another park`,
        );
      }
      const profile = await withFieldPrefix('enterprise', () =>
        registry.updateEnterprise(
          { enterpriseId: enterpriseId!, changes: enterpriseChangesFromProto(e!) },
          metadataOf(ctx),
        ),
      );
      return {
        enterprise: enterpriseToProto({
          enterpriseId: current.enterpriseId,
          parkId: current.parkId,
          ...profile,
        }),
      };
    },

    async getEnterprise(request, ctx) {
      const v = new ProtoViolations();
      const enterpriseId = v.text('enterprise_id', request.enterpriseId);
      v.throwIfAny();
      assertOwnEnterprise(ctx.principal, enterpriseId!);
      return {
        enterprise: enterpriseToProto(await requireEnterprise(enterpriseId!, 'enterprise_id')),
      };
    },

    async listEnterprises(request, ctx) {
      const page = pageFromProto(request.page);
      const own = enterpriseLimit(ctx.principal);
      const { rows } = await pool.query<{
        enterprise_id: string;
        park_id: string;
        name: string;
        credit_code: string;
        industry_code: string;
        exporter: boolean;
        energy_using: boolean;
        key_energy_consuming_unit: boolean;
      }>(
        `SELECT enterprise_id, park_id, name, credit_code, industry_code, exporter, energy_using,
           key_energy_consuming_unit FROM enterprises
         WHERE ($1::text IS NULL OR park_id = $1) AND ($2::text IS NULL OR enterprise_id = $2)
           AND ($3::text IS NULL OR enterprise_id > $3)
         ORDER BY enterprise_id LIMIT $4`,
        [optionalText(request.parkId) ?? null, own ?? null, page.after ?? null, page.size + 1],
      );
      const more = rows.length > page.size;
      const shown = rows.slice(0, page.size);
      return {
        enterprises: shown.map((row) =>
          enterpriseToProto({
            enterpriseId: row.enterprise_id,
            parkId: row.park_id,
            name: row.name,
            creditCode: row.credit_code,
            industryCode: row.industry_code,
            exporter: row.exporter,
            energyUsing: row.energy_using,
            keyEnergyConsumingUnit: row.key_energy_consuming_unit,
          }),
        ),
        page: { nextPageToken: more ? pageToken(shown[shown.length - 1]!.enterprise_id) : '' },
      };
    },

    async registerInstallation(request, ctx) {
      const v = new ProtoViolations();
      const i = v.message('installation', request.installation);
      const enterpriseId = i && v.text('installation.enterprise_id', i.enterpriseId);
      v.throwIfAny();
      const enterprise = await requireEnterprise(enterpriseId!, 'installation.enterprise_id');
      await withFieldPrefix('installation', () =>
        registry.registerInstallation(
          {
            installationId: i!.installationId,
            enterpriseId: enterpriseId!,
            parkId: enterprise.parkId,
            name: i!.name,
            meterIds: i!.meterIds,
          },
          metadataOf(ctx),
        ),
      );
      return {
        installation: {
          installationId: i!.installationId.trim(),
          enterpriseId: enterpriseId!,
          name: i!.name.trim(),
          meterIds: i!.meterIds,
        },
      };
    },

    async registerMeter(request, ctx) {
      const meter = meterFromProto(request.meter);
      const enterprise = await requireEnterprise(meter.enterpriseId, 'meter.enterprise_id');
      await withFieldPrefix('meter', () =>
        registry.registerMeter({ ...meter, parkId: enterprise.parkId }, metadataOf(ctx)),
      );
      return { meter: meterRowToProto(await requireMeterRow(meter.meterId)) };
    },

    async replaceMeter(request, ctx) {
      const v = new ProtoViolations();
      const meterId = v.text('meter_id', request.meterId);
      const at = v.timestamp('replaced_at', request.replacedAt);
      v.throwIfAny();
      await renameFields({ at: 'replaced_at' }, () =>
        registry.replaceMeter(
          {
            meterId: meterId!,
            at: at!,
            now: instantText(clock().getTime()),
            oldFinalRegister: optionalDecimal(request.oldFinalRegister),
            newFirstRegister: optionalDecimal(request.newFirstRegister),
            newSerialNumber: optionalText(request.newSerialNumber),
          },
          metadataOf(ctx),
        ),
      );
      return { meter: meterRowToProto(await requireMeterRow(meterId!)) };
    },

    async decommissionMeter(request, ctx) {
      const v = new ProtoViolations();
      const meterId = v.text('meter_id', request.meterId);
      const at = v.timestamp('decommissioned_at', request.decommissionedAt);
      v.throwIfAny();
      const reason = optionalText(request.reason);
      await renameFields({ at: 'decommissioned_at' }, () =>
        registry.decommissionMeter(
          { meterId: meterId!, at: at! },
          metadataOf(ctx, reason === undefined ? {} : { reason }),
        ),
      );
      return { meter: meterRowToProto(await requireMeterRow(meterId!)) };
    },

    async getMeter(request, ctx) {
      const v = new ProtoViolations();
      const meterId = v.text('meter_id', request.meterId);
      v.throwIfAny();
      const row = await requireMeterRow(meterId!);
      assertOwnEnterprise(ctx.principal, row.enterprise_id);
      return { meter: meterRowToProto(row) };
    },

    async listMeters(request, ctx) {
      const v = new ProtoViolations();
      const commodity = commodityFromProto(v, 'commodity', request.commodity, false);
      const role = meterRoleFromProto(v, 'role', request.role, false);
      v.throwIfAny();
      const page = pageFromProto(request.page);
      let enterpriseId = optionalText(request.enterpriseId);
      const own = enterpriseLimit(ctx.principal);
      if (own !== undefined) {
        enterpriseId ??= own;
        assertOwnEnterprise(ctx.principal, enterpriseId);
      }
      const { rows } = await pool.query<MeterRow>(
        `SELECT ${METER_COLUMNS} FROM meters
         WHERE ($1::text IS NULL OR enterprise_id = $1) AND ($2::text IS NULL OR commodity = $2)
           AND ($3::text IS NULL OR role = $3) AND ($4::text IS NULL OR meter_id > $4)
         ORDER BY meter_id LIMIT $5`,
        [enterpriseId ?? null, commodity ?? null, role ?? null, page.after ?? null, page.size + 1],
      );
      const more = rows.length > page.size;
      const shown = rows.slice(0, page.size);
      return {
        meters: shown.map(meterRowToProto),
        page: { nextPageToken: more ? pageToken(shown[shown.length - 1]!.meter_id) : '' },
      };
    },

    async ingestReadings(requests, ctx) {
      const response: park.metering.v1.IngestReadingsResponse = {
        batches: [],
        accepted: 0,
        duplicate: 0,
        corrected: 0,
        held: 0,
        rejected: 0,
      };
      // One batch at a time: the next message is read once this one is stored (back-pressure).
      for await (const request of requests) {
        const batch = await ingestBatch(request, ctx);
        response.batches.push(batch);
        response.accepted += batch.accepted;
        response.duplicate += batch.duplicate;
        response.corrected += batch.corrected;
        response.held += batch.held;
        response.rejected += batch.rejected;
      }
      return response;
    },

    async getSeries(request, ctx) {
      const v = new ProtoViolations();
      const resolution = resolutionFromProto(v, 'resolution', request.resolution);
      const range = v.message('range', request.range);
      const from = range && v.timestamp('range.start', range.start);
      const to = range && v.timestamp('range.end', range.end);
      const meterId = optionalText(request.meterId);
      const enterpriseId = optionalText(request.enterpriseId);
      let target: { meterId: string } | { enterpriseId: string; commodity: string; role: string };
      if (meterId !== undefined) {
        if (enterpriseId !== undefined) {
          v.add('enterprise_id', 'give either meter_id or enterprise_id, not both');
        }
        target = { meterId };
      } else if (enterpriseId !== undefined) {
        const commodity = commodityFromProto(v, 'commodity', request.commodity, true);
        const role = meterRoleFromProto(v, 'role', request.role, true);
        target = { enterpriseId, commodity: commodity!, role: role! };
      } else {
        v.add('meter_id', 'give a meter_id, or an enterprise_id with commodity and role');
        target = { meterId: '' };
      }
      v.throwIfAny();
      if ('meterId' in target) {
        const meter = await directory.get(target.meterId);
        if (!meter) throw new NotFoundError(`meter ${target.meterId} is not registered`);
        assertOwnEnterprise(ctx.principal, meter.enterpriseId);
      } else {
        assertOwnEnterprise(ctx.principal, target.enterpriseId);
      }
      const series = await renameFields({ from: 'range.start', to: 'range.end' }, () =>
        getSeries(pool, {
          ...target,
          resolution: resolution!,
          from: from!,
          to: to!,
        } as SeriesQuery),
      );
      return {
        unit:
          series.unit === ''
            ? park.common.v1.Unit.UNIT_UNSPECIFIED
            : unitToProto(series.unit as MeterUnit),
        resolution: resolutionToProto(resolution!),
        points: series.buckets.map((bucket) => ({
          start: new Date(bucket.start),
          value: decimal(bucket.value),
          measuredIntervals: bucket.quality.measured,
          estimatedIntervals: bucket.quality.estimated,
          editedIntervals: bucket.quality.edited,
        })),
      };
    },

    async correctReading(request, ctx) {
      const v = new ProtoViolations();
      const meterId = v.text('meter_id', request.meterId);
      const intervalStart = v.timestamp('interval_start', request.intervalStart);
      const value = v.decimal('value', request.value);
      const reason = v.text('reason', request.reason);
      v.throwIfAny();
      await requireMeterRow(meterId!);
      await streams.execute(
        {
          type: 'CorrectReading',
          meterId: meterId!,
          intervalStart: intervalStart!,
          value: value!,
          reason: reason!,
          source: `operator:${ctx.principal.subject}`,
        },
        metadataOf(ctx),
      );
      return { reading: await readingOf(meterId!, intervalStart!) };
    },

    async acceptReading(request, ctx) {
      const v = new ProtoViolations();
      const meterId = v.text('meter_id', request.meterId);
      const intervalStart = v.timestamp('interval_start', request.intervalStart);
      const reason = v.text('reason', request.reason);
      v.throwIfAny();
      await requireMeterRow(meterId!);
      await streams.execute(
        {
          type: 'AcceptReading',
          meterId: meterId!,
          intervalStart: intervalStart!,
          reason: reason!,
        },
        metadataOf(ctx),
      );
      return { reading: await readingOf(meterId!, intervalStart!) };
    },

    watchReadings(request, ctx) {
      const v = new ProtoViolations();
      const enterpriseId = v.text('enterprise_id', request.enterpriseId);
      v.throwIfAny();
      assertOwnEnterprise(ctx.principal, enterpriseId!);
      return watchReadings(pool, {
        enterpriseId: enterpriseId!,
        from: request.from,
        pollMs: deps.watchPollMs ?? 500,
        signal: AbortSignal.any([ctx.signal, ctx.draining]),
      });
    },
  };

  async function ingestBatch(
    request: park.metering.v1.IngestReadingsRequest,
    ctx: CallContext,
  ): Promise<park.metering.v1.BatchResult> {
    const meterIds = request.readings.map((reading) => reading.meterId.trim());
    const meters = await directory.getMany(meterIds.filter((id) => id !== ''));
    const readings: BatchReading[] = request.readings.map((reading, index) => {
      const meter = meters.get(meterIds[index]!);
      const scratch = new ProtoViolations();
      const unit = unitFromProto(scratch, 'unit', reading.unit) ?? '';
      const value = optionalDecimal(reading.value);
      return {
        meterId: meterIds[index]!,
        intervalStart:
          reading.intervalStart && !Number.isNaN(reading.intervalStart.getTime())
            ? instantText(reading.intervalStart.getTime())
            : '',
        unit,
        ...(meter?.registerType === 'cumulative' ? { register: value } : { value }),
      };
    });
    const results = await ingest.ingest({
      readings,
      source: optionalText(request.source) ?? `${ctx.principal.role}:${ctx.principal.subject}`,
      now: clock(),
      // Event metadata is jsonb, which cannot hold NUL; the answer echoes the id as sent.
      metadata: metadataOf(ctx, { batchId: request.batchId.replaceAll('\u0000', '') }),
    });
    return batchResult(request.batchId, results);
  }

  return defineGuardedService(v1.MeteringServiceService, METERING_ACCESS, handlers);
}

/** Counts and rejections of one batch; a rejection's field is the ReadingInput's field. */
export function batchResult(
  batchId: string,
  results: BatchReadingResult[],
): park.metering.v1.BatchResult {
  const batch: park.metering.v1.BatchResult = {
    batchId,
    accepted: 0,
    duplicate: 0,
    corrected: 0,
    held: 0,
    rejected: 0,
    rejections: [],
  };
  for (const result of results) {
    switch (result.status) {
      case 'accepted':
        batch.accepted += 1;
        break;
      case 'duplicate':
        batch.duplicate += 1;
        break;
      case 'corrected':
        batch.corrected += 1;
        break;
      case 'held':
        batch.held += 1;
        break;
      case 'rejected': {
        batch.rejected += 1;
        const field = result.field.replace(/^readings\[\d+\]\./, '');
        batch.rejections.push({
          index: result.index,
          meterId: result.meterId,
          // A cumulative meter's register arrives in ReadingInput.value.
          field: field === 'register' ? 'value' : field,
          reason: result.reason,
        });
        break;
      }
    }
  }
  return batch;
}

/** Runs a domain call, renaming its violations' fields to the request's (at -> replaced_at). */
async function renameFields<T>(names: Record<string, string>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ValidationError(
        error.violations.map((v) => ({ ...v, field: names[v.field] ?? v.field })),
      );
    }
    throw error;
  }
}
