import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { eventually, failure, readTopic, unary } from '@park/testing';
import {
  configureGrid,
  intervalOf,
  registerBattery,
  submitForecast,
  uniqueId,
} from '../test-support/dispatch-fixtures';
import { startDispatchHarness, type DispatchHarness } from '../test-support/harness';
import { SAFE_MODE_KEY } from './setpoint-service';

/**
 * Setpoints against the running service: a planned day with two batteries, the scheduler pass
 * (`tick`) run with the test's clock, acknowledgements through gRPC, expiry into safe mode
 * (setpoint status, the plan's assets_in_safe_mode, SetpointExpired on Kafka, Redis) and back.
 */

jest.setTimeout(120_000);

const v1 = park.dispatch.v1;
const S = v1.SetpointStatus;
const DAY = '2026-06-22';
const ACK_TIMEOUT_MS = 1000;
// Redis keys of dispatch are not prefixed per test: ids of this run only.
const PARK = uniqueId('park-sp');
const BAT_A = uniqueId('bat-a');
const BAT_B = uniqueId('bat-b');

let h: DispatchHarness;
let operator: grpc.Metadata;
let integrator: grpc.Metadata;
let plan: park.dispatch.v1.Plan;

const setpointsOf = async (assetId = '') =>
  (
    await unary<park.dispatch.v1.GetSetpointsResponse>((done) =>
      h.client.getSetpoints({ parkId: PARK, assetId }, integrator, done),
    )
  ).setpoints;

const latestPlan = async () =>
  (
    await unary<park.dispatch.v1.GetPlanResponse>((done) =>
      h.client.getPlan({ parkId: PARK, day: DAY, planId: '' }, integrator, done),
    )
  ).plan!;

const acknowledge = (setpoint: park.dispatch.v1.Setpoint) =>
  unary<park.dispatch.v1.AcknowledgeSetpointResponse>((done) =>
    h.client.acknowledgeSetpoint(
      { setpointId: setpoint.setpointId, assetId: setpoint.assetId },
      integrator,
      done,
    ),
  );

/** The one setpoint of an asset valid from the start of an interval of DAY. */
function setpointAt(
  setpoints: park.dispatch.v1.Setpoint[],
  assetId: string,
  interval: number,
): park.dispatch.v1.Setpoint {
  const found = setpoints.filter(
    (s) => s.assetId === assetId && s.validFrom?.getTime() === intervalOf(DAY, interval).getTime(),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

async function setpointRecords() {
  const records = await readTopic(h.kafka, `${h.prefix}park.dispatch.setpoints.v1`);
  return records.map((record) => {
    const type = record.headers.ce_type;
    const message =
      type === 'park.dispatch.v1.SetpointExpired'
        ? v1.SetpointExpired.decode(record.value!)
        : { ...v1.SetpointIssued.decode(record.value!), safeMode: undefined };
    return {
      key: record.key,
      type,
      setpointId: message.setpoint!.setpointId,
      status: message.setpoint!.status,
      safeMode: message.safeMode,
    };
  });
}

// Park time is UTC+8: interval 40 is 10:00-10:15, 41 is 10:15-10:30.
const NOW_1 = new Date(intervalOf(DAY, 40).getTime() + 5 * 60_000); // 10:05
const NOW_2 = new Date(NOW_1.getTime() + 2 * ACK_TIMEOUT_MS); // 10:05:02, past the ack deadline
const NOW_3 = new Date(intervalOf(DAY, 41).getTime() + 60_000); // 10:16

beforeAll(async () => {
  h = await startDispatchHarness('setpoints', {
    DISPATCH_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
  });
  operator = await h.bearer('operator');
  integrator = await h.bearer('integrator');
  for (const battery of [BAT_A, BAT_B]) await registerBattery(h.client, operator, PARK, battery);
  // 0.3 CNY/kWh all day but a 2.0 peak from 10:00 to 10:30 (intervals 40 and 41).
  await configureGrid(h.client, operator, PARK, {
    importLimitKw: '5000',
    periods: [
      [0, 600, '0.3'],
      [600, 630, '2'],
      [630, 1440, '0.3'],
    ],
  });
  await submitForecast(
    h.client,
    integrator,
    PARK,
    'load',
    intervalOf(DAY, 0),
    Array<number>(96).fill(1000),
  );
  plan = (
    await unary<park.dispatch.v1.PlanDayResponse>((done) =>
      h.client.planDay({ parkId: PARK, day: DAY }, operator, done),
    )
  ).plan!;
});
afterAll(async () => {
  await h?.server.runtime.redis.hdel(SAFE_MODE_KEY, BAT_A, BAT_B);
  await h?.stop();
});

describe('setpoints', () => {
  it('the plan uses the batteries in the peak', () => {
    expect(plan.status).toBe('optimal');
    // Each battery: 1000 kWh, 500 kW, efficiencies 0.95, SOC 0.1-0.9, planned from 0.5 (500 kWh).
    // In the peak (2.0 CNY/kWh) a delivered kWh saves 2.0 + 0.5 kg x 80 CNY/t = 2.04 CNY and costs
    // 1 / 0.95 / 0.95 = 1.108 kWh at 0.3 + carbon (0.34 x 1.108 = 0.377 CNY) plus 0.02 CNY
    // wear: both discharge at full power, 500 kW each; 2 x 500 = 1000 kW = the load, import 0.
    // Energy: 2 intervals x 500 kW x 0.25 h / 0.95 = 263.2 kWh out of the 400 above the minimum.
    for (const interval of [40, 41]) {
      const step = plan.intervals[interval]!;
      expect(step.batteries.map((b) => [b.batteryId, b.dischargeKw])).toEqual(
        [BAT_A, BAT_B].sort().map((id) => [id, expect.closeTo(500, 6)]),
      );
      expect(step.importKw).toBeCloseTo(0, 6);
    }
  });

  it('a tick inside the day issues the current interval’s setpoints', async () => {
    await h.server.tick(NOW_1);
    const setpoints = await setpointsOf();
    expect(setpoints).toHaveLength(2);
    for (const asset of [BAT_A, BAT_B]) {
      const setpoint = setpointAt(setpoints, asset, 40);
      expect(setpoint).toMatchObject({
        planId: plan.planId,
        // Positive discharges: +500 kW, the plan's interval 40.
        powerKw: 500,
        validUntil: intervalOf(DAY, 41),
        status: S.SETPOINT_STATUS_ISSUED,
      });
    }
    // A second pass in the same interval issues nothing new.
    await h.server.tick(new Date(NOW_1.getTime() + 100));
    expect(await setpointsOf()).toHaveLength(2);
    const records = await eventually(async () => {
      const all = await setpointRecords();
      if (all.length < 2) throw new Error(`${all.length} setpoint records so far`);
      return all;
    }, 30_000);
    expect(records.map((r) => [r.key, r.type, r.status]).sort()).toEqual(
      [BAT_A, BAT_B]
        .sort()
        .map((id) => [id, 'park.dispatch.v1.SetpointIssued', S.SETPOINT_STATUS_ISSUED]),
    );
  });

  it('an acknowledged setpoint is ACKNOWLEDGED; an unacknowledged one expires into safe mode', async () => {
    const first = setpointAt(await setpointsOf(), BAT_A, 40);
    const acknowledged = await acknowledge(first);
    expect(acknowledged.setpoint).toMatchObject({
      setpointId: first.setpointId,
      status: S.SETPOINT_STATUS_ACKNOWLEDGED,
    });
    expect(acknowledged.setpoint?.acknowledgedAt).toBeInstanceOf(Date);

    // BAT_B's setpoint was issued at NOW_1 with a deadline of NOW_1 + 1 s; NOW_2 is past it.
    await h.server.tick(NOW_2);
    const setpoints = await setpointsOf();
    expect(setpoints).toHaveLength(2);
    expect(setpointAt(setpoints, BAT_A, 40).status).toBe(S.SETPOINT_STATUS_ACKNOWLEDGED);
    const expired = setpointAt(setpoints, BAT_B, 40);
    expect(expired.status).toBe(S.SETPOINT_STATUS_EXPIRED);

    expect((await latestPlan()).assetsInSafeMode).toEqual([BAT_B]);
    expect(await h.server.runtime.redis.hget(SAFE_MODE_KEY, BAT_B)).toBe(
      new Date(NOW_1.getTime() + ACK_TIMEOUT_MS).toISOString(),
    );
    expect(await h.server.runtime.redis.hget(SAFE_MODE_KEY, BAT_A)).toBeNull();
    // The metric operators alert on says so too.
    expect(await safeModeMetric(BAT_B)).toBe(1);

    const records = await eventually(async () => {
      const all = await setpointRecords();
      if (all.length < 3) throw new Error(`${all.length} setpoint records so far`);
      return all;
    }, 30_000);
    expect(records.filter((r) => r.type === 'park.dispatch.v1.SetpointExpired')).toEqual([
      {
        key: BAT_B,
        type: 'park.dispatch.v1.SetpointExpired',
        setpointId: expired.setpointId,
        status: S.SETPOINT_STATUS_EXPIRED,
        safeMode: 'idle',
      },
    ]);

    // Too late: an expired setpoint cannot be acknowledged.
    const late = await failure(acknowledge(expired));
    expect(late.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(late.details).toContain('expired');
    expect(setpointAt(await setpointsOf(), BAT_B, 40).status).toBe(S.SETPOINT_STATUS_EXPIRED);
  });

  it('the asset stays in safe mode until it acknowledges a later setpoint', async () => {
    await h.server.tick(NOW_3);
    const setpoints = await setpointsOf();
    expect(setpoints).toHaveLength(4);
    // BAT_A's acknowledged setpoint of interval 40 is superseded by the one of interval 41.
    expect(setpointAt(setpoints, BAT_A, 40).status).toBe(S.SETPOINT_STATUS_SUPERSEDED);
    expect(setpointAt(setpoints, BAT_B, 40).status).toBe(S.SETPOINT_STATUS_EXPIRED);
    const next = setpointAt(setpoints, BAT_B, 41);
    // Interval 41 is in the peak too: +500 kW.
    expect(next).toMatchObject({ status: S.SETPOINT_STATUS_ISSUED, powerKw: 500 });

    // Issued but not acknowledged yet: still in safe mode, in Redis and in the plan alike.
    expect(await h.server.runtime.redis.hget(SAFE_MODE_KEY, BAT_B)).not.toBeNull();
    expect((await latestPlan()).assetsInSafeMode).toEqual([BAT_B]);

    const answer = await acknowledge(next);
    expect(answer.setpoint?.status).toBe(S.SETPOINT_STATUS_ACKNOWLEDGED);
    expect(await h.server.runtime.redis.hget(SAFE_MODE_KEY, BAT_B)).toBeNull();
    expect((await latestPlan()).assetsInSafeMode).toEqual([]);
    expect(await safeModeMetric(BAT_B)).toBe(0);
  });
});

/** The asset's value of park_dispatch_asset_in_safe_mode on the service's /metrics. */
async function safeModeMetric(assetId: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${h.server.httpPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith('park_dispatch_asset_in_safe_mode{') && l.includes(`asset="${assetId}"`),
    );
  return line === undefined ? undefined : Number(line.split(' ').pop());
}
