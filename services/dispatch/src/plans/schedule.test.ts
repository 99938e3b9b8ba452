import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { eventually, meterSpec, unary } from '@park/testing';
import {
  configureGrid,
  intervalOf,
  registerBattery,
  uniqueId,
} from '../test-support/dispatch-fixtures';
import { startDispatchHarness, type DispatchHarness } from '../test-support/harness';

jest.setTimeout(120_000);

const v1 = park.dispatch.v1;
const PARK = uniqueId('park-sched');
const BATTERY = uniqueId('bat');
const SOC_METER = uniqueId('soc');

let h: DispatchHarness;
let operator: grpc.Metadata;

beforeAll(async () => {
  h = await startDispatchHarness('schedule');
  operator = await h.bearer('operator');
  await registerBattery(h.client, operator, PARK, BATTERY, { socMeterId: SOC_METER });
  await configureGrid(h.client, operator, PARK);
});
afterAll(async () => {
  await h?.server.runtime.redis.hdel('dispatch:soc', BATTERY);
  await h?.stop();
});

const latest = (day: string) =>
  unary<park.dispatch.v1.GetPlanResponse>((done) =>
    h.client.getPlan({ parkId: PARK, day, planId: '' }, operator, done),
  ).then((answer) => answer.plan!);

it('plans tomorrow once the daily planning time has passed, and only once', async () => {
  // 13:55 local on 2026-07-01: before DISPATCH_DAILY_PLAN_AT (14:00), nothing is planned.
  await h.server.tick(new Date('2026-07-01T13:55:00+08:00'));
  const before = await unary((done) =>
    h.client.getPlan({ parkId: PARK, day: '2026-07-02', planId: '' }, operator, done),
  ).catch((error: grpc.ServiceError) => error.code);
  expect(before).toBe(grpc.status.NOT_FOUND);
  await h.server.tick(new Date('2026-07-01T14:05:00+08:00'));
  const plan = await latest('2026-07-02');
  expect(plan.kind).toBe('day_ahead');
  expect(plan.intervals).toHaveLength(96);
  await h.server.tick(new Date('2026-07-01T14:35:00+08:00'));
  expect((await latest('2026-07-02')).planId).toBe(plan.planId);
});

it('re-plans the rest of the day when the metered state of charge strays from the plan', async () => {
  const day = '2026-07-03';
  // The day-ahead plan starts from the middle of the battery's range (no metered SOC yet):
  // (0.1 + 0.9) / 2 = 50 %, 500 kWh of 1000.
  await h.server.runtime.redis.hdel('dispatch:soc', BATTERY);
  // Planned the afternoon before, on the test's clock (the intraday plan must come later).
  const dayAhead = await h.server.plans.plan(PARK, day, {}, new Date('2026-07-02T14:00:00+08:00'));
  const planned = dayAhead.result.intervals[39]!.batteries[0]!.socKwh;
  // The SOC meter reports 15 % at interval 39: |150 kWh - planned| is more than 10 % of
  // 1000 kWh whenever the plan holds more than 250 kWh, which it does (its minimum is 100 and it
  // starts at 500; checked below).
  expect(Math.abs(150 - planned)).toBeGreaterThan(100);
  await h.publishPark(PARK);
  await h.publishEnterprise('ent-storage', PARK);
  const soc = meterSpec(SOC_METER, 'ent-storage', 'soc');
  await h.publishMeter(soc);
  await h.publishReadings(soc, [[intervalOf(day, 39).toISOString(), '15']]);
  await eventually(async () => {
    expect(await h.server.runtime.redis.hget('dispatch:soc', BATTERY)).toBe('0.15');
  }, 30_000);

  // 10:05 local is interval 40: the plan in force was issued before it, and the previous
  // interval's SOC deviates, so the tick re-plans from interval 40 starting at 150 kWh.
  await h.server.tick(new Date(`${day}T10:05:00+08:00`));
  const intraday = await latest(day);
  expect(intraday.kind).toBe('intraday');
  expect(intraday.planId).not.toBe(dayAhead.planId);
  expect(intraday.intervals).toHaveLength(96 - 40);
  expect(intraday.intervals[0]!.start).toEqual(intervalOf(day, 40));
  // A second tick in the same interval does not re-plan again.
  await h.server.tick(new Date(`${day}T10:10:00+08:00`));
  expect((await latest(day)).planId).toBe(intraday.planId);
});

it('takes acknowledgements from the setpoint-acks topic', async () => {
  const day = '2026-07-05';
  await unary((done) => h.client.planDay({ parkId: PARK, day }, operator, done));
  const now = new Date(`${day}T09:01:00+08:00`);
  await h.server.tick(now);
  const integrator = await h.bearer('integrator');
  const issued = (
    await unary<park.dispatch.v1.GetSetpointsResponse>((done) =>
      h.client.getSetpoints({ parkId: PARK, assetId: BATTERY }, integrator, done),
    )
  ).setpoints.find((setpoint) => setpoint.status === v1.SetpointStatus.SETPOINT_STATUS_ISSUED)!;
  await h.publish(
    `${h.prefix}park.dispatch.setpoint-acks.v1`,
    BATTERY,
    'park.dispatch.v1.SetpointAcknowledged',
    v1.SetpointAcknowledged.encode({
      setpointId: issued.setpointId,
      assetId: BATTERY,
      acknowledgedAt: new Date(now.getTime() + 5_000),
    }).finish(),
  );
  await eventually(async () => {
    const setpoints = await unary<park.dispatch.v1.GetSetpointsResponse>((done) =>
      h.client.getSetpoints({ parkId: PARK, assetId: BATTERY }, integrator, done),
    );
    const acknowledged = setpoints.setpoints.find((s) => s.setpointId === issued.setpointId)!;
    expect(acknowledged.status).toBe(v1.SetpointStatus.SETPOINT_STATUS_ACKNOWLEDGED);
  }, 30_000);
});

it('rebuilds the live state in Redis from PostgreSQL after a flush', async () => {
  // The SOC reading of the re-plan test (15 %) is in metered_values; Redis loses it.
  await h.server.runtime.redis.hdel('dispatch:soc', BATTERY);
  await h.server.runtime.redis.del('dispatch:live-state');
  await h.server.tick(new Date('2026-07-06T09:01:00+08:00'));
  expect(await h.server.runtime.redis.hget('dispatch:soc', BATTERY)).toBe('0.15');
  expect(await h.server.runtime.redis.exists('dispatch:live-state')).toBe(1);
});
