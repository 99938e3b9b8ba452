// The dispatch service's process, loaded by main.ts after telemetry has started.
import { localDateTime } from '@park/domain-primitives';
import {
  prepareTopics,
  OutboxRelay,
  decodePayload,
  PermanentMessageError,
  type IntegrationEventMapper,
  type TopicSpec,
} from '@park/messaging';
import {
  decodeReadingsRecord,
  decodeRegistryRecord,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/metering-events';
import { park } from '@park/contracts';
import {
  deadLetterBadInput,
  loadConfigOrExit,
  serviceConfigSchema,
  ServiceRuntime,
  type Telemetry,
} from '@park/service-kit';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { dispatchGrpcService } from './api/grpc-service';
import { dispatchMigrationsDir } from './app';
import {
  DISPATCH_SETPOINT_ACKS_TOPIC,
  dispatchEventMapper,
  dispatchTopics,
} from './integration/outbound';
import { allocateLineInterval, linesOfMeter } from './lines/line-allocations';
import { applyRegistryFact, recordValues } from './metered/metered-store';
import { PlanService, type StoredPlan } from './plans/plan-service';
import { SAFE_MODE_KEY, SetpointService } from './setpoints/setpoint-service';
import { TopologyService } from './topology/topology-service';

export const dispatchConfigSchema = serviceConfigSchema.safeExtend({
  /** How long an EMS has to acknowledge a setpoint before its asset falls back to safe mode. */
  DISPATCH_ACK_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** How often setpoints are issued and expired, and deviations checked; 0 turns it off. */
  DISPATCH_TICK_MS: z.coerce.number().int().min(0).default(30_000),
  DISPATCH_PLAN_TIME_LIMIT_S: z.coerce.number().min(0.1).default(10),
  DISPATCH_MIP_GAP: z.coerce.number().min(0).max(1).default(0.001),
  DISPATCH_CURTAILMENT_CNY_PER_KWH: z.coerce.number().min(0).default(0.05),
  /** Park-local time (HH:MM) after which tomorrow is planned if it has no plan yet. */
  DISPATCH_DAILY_PLAN_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
    .default('14:00'),
  /** A battery's metered SOC this far (fraction of its energy) from the plan re-plans the day. */
  DISPATCH_REPLAN_SOC_DEVIATION: z.coerce.number().min(0).max(1).default(0.1),
  /** A plant's metered energy this far (fraction of its capacity) from the plan re-plans the day. */
  DISPATCH_REPLAN_GENERATION_DEVIATION: z.coerce.number().min(0).max(1).default(0.2),
  /** Direct-connection thresholds (2025 national rules): self-use, consumer share, feed-in. */
  DISPATCH_DIRECT_LINE_MIN_SELF_USE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/)
    .default('0.6'),
  DISPATCH_DIRECT_LINE_MIN_CONSUMER_SHARE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/)
    .default('0.3'),
  DISPATCH_DIRECT_LINE_MAX_FEED_IN: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/)
    .default('0.2'),
  /** Prepended to every topic name this service reads and writes (tests on a shared broker). */
  DISPATCH_TOPIC_PREFIX: z.string().default(''),
});

export type DispatchConfig = z.infer<typeof dispatchConfigSchema>;

/** Topics dispatch reads from metering, as metering defines them (created here if absent). */
const INPUT_TOPICS: TopicSpec[] = [
  {
    name: METERING_REGISTRY_TOPIC,
    partitions: 6,
    compacted: true,
    retentionMs: -1,
    withDeadLetterTopic: true,
  },
  { name: METERING_READINGS_TOPIC, partitions: 24, retentionMs: -1, withDeadLetterTopic: true },
];

export interface DispatchServer {
  runtime: ServiceRuntime;
  relay: OutboxRelay;
  plans: PlanService;
  setpoints: SetpointService;
  topologies: TopologyService;
  grpcPort: number;
  httpPort: number;
  /** One scheduler pass (tests call it with their clock). */
  tick(now?: Date): Promise<void>;
  stopScheduler(): void;
}

export async function main(telemetry?: Telemetry): Promise<DispatchServer> {
  const config = loadConfigOrExit(dispatchConfigSchema, {
    SERVICE_NAME: 'dispatch',
    ...process.env,
  });
  const server = await startDispatchService(config, { telemetry });
  process.once('SIGTERM', server.stopScheduler);
  process.once('SIGINT', server.stopScheduler);
  server.runtime.exitOnSignals();
  process.send?.({ type: 'serving', grpcPort: server.grpcPort, httpPort: server.httpPort });
  return server;
}

const localDay = (epochMs: number, timeZone: string): string => {
  const l = localDateTime(epochMs, timeZone);
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
};

export async function startDispatchService(
  config: DispatchConfig,
  options: { telemetry?: Telemetry; relayPollIntervalMs?: number } = {},
): Promise<DispatchServer> {
  const runtime = new ServiceRuntime(config, {
    migrations: [dispatchMigrationsDir],
    telemetry: options.telemetry,
  });
  await runtime.prepare();
  const prefix = config.DISPATCH_TOPIC_PREFIX;
  const admin = runtime.kafka.admin();
  await admin.connect();
  try {
    await prepareTopics(admin, { own: dispatchTopics, inputs: INPUT_TOPICS, prefix });
  } finally {
    await admin.disconnect();
  }
  const map: IntegrationEventMapper = (event) => {
    const message = dispatchEventMapper(event);
    return message && (prefix ? { ...message, topic: `${prefix}${message.topic}` } : message);
  };
  const relay = runtime.addRelay(
    new OutboxRelay(runtime.store, runtime.producer, {
      name: 'dispatch-relay',
      source: '//park/dispatch',
      connectionString: config.DATABASE_URL,
      map,
      pollIntervalMs: options.relayPollIntervalMs,
      onError: (error) => runtime.logger.warn({ err: error }, 'dispatch relay failed'),
    }),
  );

  const topologies = new TopologyService(runtime.store);
  const plans = new PlanService(runtime.store, runtime.pool, runtime.redis, topologies, {
    timeLimitSeconds: config.DISPATCH_PLAN_TIME_LIMIT_S,
    mipRelativeGap: config.DISPATCH_MIP_GAP,
    lockTtlMs: Math.max(30_000, config.DISPATCH_PLAN_TIME_LIMIT_S * 3_000),
    curtailmentCnyPerKwh: config.DISPATCH_CURTAILMENT_CNY_PER_KWH,
  });
  const safeModeGauge = new Gauge({
    name: 'park_dispatch_asset_in_safe_mode',
    help: 'Whether the asset runs in its safe mode (1) because its setpoint expired unacknowledged',
    labelNames: ['asset'],
    registers: [runtime.metrics.registry],
  });
  const setpoints = new SetpointService(
    runtime.store,
    runtime.pool,
    runtime.redis,
    config.DISPATCH_ACK_TIMEOUT_MS,
    (assetId, inSafeMode) => {
      safeModeGauge.set({ asset: assetId }, inSafeMode ? 1 : 0);
      runtime.logger.warn(
        { assetId, inSafeMode },
        inSafeMode ? 'asset in safe mode' : 'asset left safe mode',
      );
    },
  );

  runtime.addConsumer({
    groupId: `${prefix}dispatch-registry`,
    topics: [`${prefix}${METERING_REGISTRY_TOPIC}`],
    fromBeginning: true,
    handler: (message, tx) =>
      deadLetterBadInput(() =>
        applyRegistryFact(tx, decodeRegistryRecord(message.type, message.value)),
      ),
  });
  runtime.addConsumer({
    groupId: `${prefix}dispatch-readings`,
    topics: [`${prefix}${METERING_READINGS_TOPIC}`],
    fromBeginning: true,
    groupSize: 100,
    handler: (message, tx) =>
      deadLetterBadInput(async () => {
        const values = decodeReadingsRecord(message.type, message.value);
        if (!values) return;
        const changed = await recordValues(tx, values.meter, values.readings);
        if (changed.length === 0) return;
        for (const { line, parkId } of await linesOfMeter(tx, values.meter.meterId)) {
          for (const intervalStart of changed) {
            await allocateLineInterval(runtime.store, tx, parkId, line, intervalStart);
          }
        }
        if (values.meter.role === 'storage_soc') {
          const { rows } = await tx.query<{ battery_id: string }>(
            'SELECT battery_id FROM soc_meters WHERE meter_id = $1',
            [values.meter.meterId],
          );
          const latest = [...values.readings]
            .sort((a, b) => a.intervalStart.localeCompare(b.intervalStart))
            .pop();
          if (rows[0] && latest) {
            await runtime.redis.hset(
              'dispatch:soc',
              rows[0].battery_id,
              String(Number(latest.value) / 100),
            );
          }
        }
      }),
  });
  runtime.addConsumer({
    groupId: `${prefix}dispatch-setpoint-acks`,
    topics: [`${prefix}${DISPATCH_SETPOINT_ACKS_TOPIC}`],
    fromBeginning: true,
    handler: async (message) => {
      if (message.type !== 'park.dispatch.v1.SetpointAcknowledged') {
        throw new PermanentMessageError(`'${message.type}' is not a setpoint acknowledgement`);
      }
      const ack = decodePayload(park.dispatch.v1.SetpointAcknowledged, message.type, message.value);
      await setpoints
        .acknowledge(ack.setpointId, ack.assetId, ack.acknowledgedAt ?? new Date())
        .catch((error: unknown) => {
          // A late or unknown acknowledgement is an answer, not a failure to retry.
          runtime.logger.warn(
            { err: error, setpointId: ack.setpointId },
            'acknowledgement refused',
          );
        });
    },
  });

  const tick = async (now: Date = new Date()) => {
    if ((await runtime.redis.exists('dispatch:live-state')) === 0) {
      runtime.logger.warn('dispatch live state missing in Redis (flushed?): rebuilding it');
      await rebuildLiveState();
    }
    await setpoints.expireOverdue(now);
    const { rows } = await runtime.pool.query<{ park_id: string }>(
      'SELECT park_id FROM topology_parks ORDER BY park_id',
    );
    for (const { park_id: parkId } of rows) {
      const { topology } = await topologies.topology(parkId);
      if (!topology.grid) continue;
      const today = localDay(now.getTime(), topology.timeZone);
      let plan: StoredPlan | undefined = await plans.latest(parkId, today);
      if (plan) {
        plan = await replanOnDeviation(plan, now, topology);
        await setpoints.issueCurrent(plan, now);
      }
      const local = localDateTime(now.getTime(), topology.timeZone);
      const hhmm = `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
      if (hhmm >= config.DISPATCH_DAILY_PLAN_AT) {
        const tomorrow = localDay(now.getTime() + 86_400_000, topology.timeZone);
        if (!(await plans.latest(parkId, tomorrow))) await plans.plan(parkId, tomorrow, {}, now);
      }
    }
  };

  /** Re-plans the rest of the day when a battery's metered SOC strays from the plan. */
  const replanOnDeviation = async (
    plan: StoredPlan,
    now: Date,
    topology: Awaited<ReturnType<TopologyService['topology']>>['topology'],
  ): Promise<StoredPlan> => {
    const dayStart =
      Date.parse(plan.result.intervals[0]?.start ?? '') - plan.fromInterval * 900_000;
    const index = Math.floor((now.getTime() - dayStart) / 900_000);
    const local = index - plan.fromInterval;
    const step = plan.result.intervals[local - 1];
    // At most one re-plan per interval: a plan made from this interval on is current.
    if (!step || (plan.kind === 'intraday' && plan.fromInterval >= index)) return plan;
    const live = await runtime.redis.hgetall('dispatch:soc');
    const deviating = step.batteries.filter((battery) => {
      const def = topology.batteries[battery.assetId];
      const soc = live[battery.assetId];
      if (!def || soc === undefined) return false;
      const energy = Number(def.energyKwh);
      return (
        Math.abs(Number(soc) * energy - battery.socKwh) >
        config.DISPATCH_REPLAN_SOC_DEVIATION * energy
      );
    });
    // Generation: a plant's metered energy in the last interval against what the plan expected.
    const previousStart = new Date(dayStart + (index - 1) * 900_000).toISOString();
    const strayingPlants: string[] = [];
    const generationScale: Record<string, number> = {};
    for (const generation of step.generation) {
      const plant = topology.plants[generation.assetId];
      if (!plant?.meterId) continue;
      const { rows } = await runtime.pool.query<{ value: string }>(
        'SELECT value::text FROM metered_values WHERE meter_id = $1 AND interval_start = $2',
        [plant.meterId, previousStart],
      );
      if (!rows[0]) continue;
      const expectedKwh = (generation.usedKw + generation.curtailedKw) * 0.25;
      const capacityKwh = Number(plant.capacityKw) * 0.25;
      if (
        Math.abs(Number(rows[0].value) - expectedKwh) >
        config.DISPATCH_REPLAN_GENERATION_DEVIATION * capacityKwh
      ) {
        strayingPlants.push(plant.plantId);
        // The rest of the day's forecast follows what the plant actually delivers.
        generationScale[plant.plantId] =
          expectedKwh > 0 ? Math.min(2, Math.max(0, Number(rows[0].value) / expectedKwh)) : 1;
      }
    }
    if (deviating.length === 0 && strayingPlants.length === 0) return plan;
    runtime.logger.info(
      {
        parkId: plan.parkId,
        batteries: deviating.map((b) => b.assetId),
        plants: strayingPlants,
      },
      'metered SOC or generation deviates from the plan: re-planning the rest of the day',
    );
    return plans.plan(
      plan.parkId,
      plan.day,
      {
        kind: 'intraday',
        fromInterval: index,
        generationScale,
        initialSocFraction: Object.fromEntries(
          Object.entries(live).map(([id, soc]) => [id, Number(soc)]),
        ),
      },
      now,
    );
  };

  /**
   * Live asset state lives in Redis for the planner and the EMS adapters: each battery's latest
   * metered SOC and the assets in safe mode. Redis is not the source of truth: after a flush (or
   * on a fresh instance) it is rebuilt from the metered values and the setpoints in PostgreSQL.
   */
  const rebuildLiveState = async () => {
    const { rows: socs } = await runtime.pool.query<{ battery_id: string; value: string }>(
      `SELECT DISTINCT ON (s.battery_id) s.battery_id, v.value::text
       FROM soc_meters s JOIN metered_values v ON v.meter_id = s.meter_id
       ORDER BY s.battery_id, v.interval_start DESC`,
    );
    for (const soc of socs) {
      await runtime.redis.hset('dispatch:soc', soc.battery_id, String(Number(soc.value) / 100));
    }
    const { rows: parks } = await runtime.pool.query<{ park_id: string }>(
      'SELECT DISTINCT park_id FROM setpoints',
    );
    for (const parkRow of parks) {
      for (const assetId of await setpoints.assetsInSafeMode(parkRow.park_id)) {
        await runtime.redis.hset(SAFE_MODE_KEY, assetId, 'expired');
        safeModeGauge.set({ asset: assetId }, 1);
      }
    }
    // A marker that this Redis holds the rebuilt state; its absence means a flush happened.
    await runtime.redis.set('dispatch:live-state', new Date().toISOString());
  };
  await rebuildLiveState();

  let timer: NodeJS.Timeout | undefined;
  if (config.DISPATCH_TICK_MS > 0) {
    let running = false;
    timer = setInterval(() => {
      if (running) return;
      running = true;
      tick()
        .catch((error: unknown) => runtime.logger.warn({ err: error }, 'dispatch tick failed'))
        .finally(() => {
          running = false;
        });
    }, config.DISPATCH_TICK_MS);
    timer.unref();
  }
  const stopScheduler = () => {
    if (timer) clearInterval(timer);
  };

  try {
    const { grpcPort, httpPort } = await runtime.serve({
      grpcServices: [
        dispatchGrpcService({
          pool: runtime.pool,
          thresholds: {
            minSelfUseShare: config.DISPATCH_DIRECT_LINE_MIN_SELF_USE,
            minConsumerShare: config.DISPATCH_DIRECT_LINE_MIN_CONSUMER_SHARE,
            maxFeedInShare: config.DISPATCH_DIRECT_LINE_MAX_FEED_IN,
          },
          topologies,
          plans,
          setpoints,
        }),
      ],
    });
    return {
      runtime,
      relay,
      plans,
      setpoints,
      topologies,
      grpcPort,
      httpPort,
      tick,
      stopScheduler,
    };
  } catch (error) {
    stopScheduler();
    throw error;
  }
}
