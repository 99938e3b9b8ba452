import { park } from '@park/contracts';
import type { RecordedEvent } from '@park/eventstore';
import type { IntegrationEventMapper, IntegrationMessage, TopicSpec } from '@park/messaging';
import { GREEN_ALLOCATIONS_TOPIC } from '@park/metering-events';
import type { GreenPowerAllocatedEvent } from '../lines/line-allocations';
import type { PlanIssued } from '../plans/plan-service';
import type { SetpointEvent, SetpointRecord } from '../setpoints/setpoint-service';
import { planToProto } from './proto-mapping';

export const DISPATCH_PLANS_TOPIC = 'park.dispatch.plans.v1';
export const DISPATCH_SETPOINTS_TOPIC = 'park.dispatch.setpoints.v1';
export const DISPATCH_SETPOINT_ACKS_TOPIC = 'park.dispatch.setpoint-acks.v1';
export { GREEN_ALLOCATIONS_TOPIC };

/** Dispatch's topics; partition counts are contracts (per-key order), never changed. */
export const dispatchTopics: readonly TopicSpec[] = [
  { name: DISPATCH_PLANS_TOPIC, partitions: 3, retentionMs: -1, withDeadLetterTopic: true },
  { name: DISPATCH_SETPOINTS_TOPIC, partitions: 12, retentionMs: -1, withDeadLetterTopic: true },
  {
    name: DISPATCH_SETPOINT_ACKS_TOPIC,
    partitions: 12,
    retentionMs: -1,
    withDeadLetterTopic: true,
  },
  { name: GREEN_ALLOCATIONS_TOPIC, partitions: 12, retentionMs: -1, withDeadLetterTopic: true },
];

const v1 = park.dispatch.v1;

const STATUS: Record<SetpointRecord['status'], park.dispatch.v1.SetpointStatus> = {
  issued: v1.SetpointStatus.SETPOINT_STATUS_ISSUED,
  acknowledged: v1.SetpointStatus.SETPOINT_STATUS_ACKNOWLEDGED,
  expired: v1.SetpointStatus.SETPOINT_STATUS_EXPIRED,
  superseded: v1.SetpointStatus.SETPOINT_STATUS_SUPERSEDED,
};

export function setpointToProto(setpoint: SetpointRecord): park.dispatch.v1.Setpoint {
  return {
    setpointId: setpoint.setpointId,
    assetId: setpoint.assetId,
    planId: setpoint.planId,
    powerKw: setpoint.powerKw,
    validFrom: new Date(setpoint.validFrom),
    validUntil: new Date(setpoint.validUntil),
    status: STATUS[setpoint.status],
    acknowledgedAt: setpoint.acknowledgedAt ? new Date(setpoint.acknowledgedAt) : undefined,
  };
}

/**
 * Stored dispatch events to integration events: plans (key park id), setpoints issued and
 * expired (key asset id), green allocations per enterprise (key enterprise id).
 */
export const dispatchEventMapper: IntegrationEventMapper = (
  event: RecordedEvent,
): IntegrationMessage | null => {
  switch (event.type) {
    case 'PlanIssued': {
      const { plan } = event.data as unknown as Omit<PlanIssued, 'type'>;
      return {
        topic: DISPATCH_PLANS_TOPIC,
        key: plan.parkId,
        type: 'park.dispatch.v1.PlanIssued',
        payload: v1.PlanIssued.encode({ plan: planToProto(plan, []) }).finish(),
      };
    }
    case 'SetpointIssued': {
      const { setpoint } = event.data as unknown as Extract<
        SetpointEvent,
        { type: 'SetpointIssued' }
      >;
      return {
        topic: DISPATCH_SETPOINTS_TOPIC,
        key: setpoint.assetId,
        type: 'park.dispatch.v1.SetpointIssued',
        payload: v1.SetpointIssued.encode({ setpoint: setpointToProto(setpoint) }).finish(),
      };
    }
    case 'SetpointExpired': {
      const { setpoint, safeMode } = event.data as unknown as Extract<
        SetpointEvent,
        { type: 'SetpointExpired' }
      >;
      return {
        topic: DISPATCH_SETPOINTS_TOPIC,
        key: setpoint.assetId,
        type: 'park.dispatch.v1.SetpointExpired',
        payload: v1.SetpointExpired.encode({
          setpoint: setpointToProto(setpoint),
          safeMode,
        }).finish(),
      };
    }
    case 'GreenPowerAllocated': {
      const allocated = event.data as unknown as Omit<GreenPowerAllocatedEvent, 'type'>;
      return {
        topic: GREEN_ALLOCATIONS_TOPIC,
        key: allocated.enterpriseId,
        type: 'park.dispatch.v1.GreenPowerAllocated',
        payload: v1.GreenPowerAllocated.encode({
          parkId: allocated.parkId,
          lineId: allocated.lineId,
          generatorId: allocated.plantId,
          enterpriseId: allocated.enterpriseId,
          meterId: allocated.meterId ?? '',
          intervalStart: new Date(allocated.intervalStart),
          intervalMinutes: 15,
          allocatedKwh: { value: allocated.allocatedKwh },
          lineMeteredKwh: { value: allocated.lineMeteredKwh },
          lineExportedKwh: { value: allocated.lineExportedKwh ?? '0' },
          revision: BigInt(allocated.revision),
        }).finish(),
      };
    }
    default:
      return null;
  }
};
