import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { fieldViolationsOf } from '@park/service-kit';
import { failure, unary } from '@park/testing';
import {
  configureGrid,
  intervalOf,
  registerBattery,
  registerPv,
  submitForecast,
  uniqueId,
} from '../test-support/dispatch-fixtures';
import { startDispatchHarness, type DispatchHarness } from '../test-support/harness';

/**
 * Planning through the API against the running service: an impossible day that still comes
 * back as a plan with its violations named and sized by hand, determinism, GetPlan, ExplainPlan,
 * refused input that leaves nothing behind, and the one-planner-per-park Redis lock.
 */

jest.setTimeout(120_000);

const DAY = '2026-06-22';
// The plan lock is a Redis key per park and Redis is shared: ids of this run only.
const PARK = uniqueId('park-pa');
const BAT = uniqueId('bat');
const IMPORT_LIMIT_KW = 1000;

// PV: 400 kW from 06:00 to 18:00 (intervals 24-71), 0 otherwise.
const PV_KW = Array.from({ length: 96 }, (_, t) => (t >= 24 && t < 72 ? 400 : 0));
// Load: 600 kW, but 2500 kW at 12:00 (interval 48) and 2200 kW at 12:15 (interval 49).
const LOAD_KW = Array.from({ length: 96 }, (_, t) => (t === 48 ? 2500 : t === 49 ? 2200 : 600));

let h: DispatchHarness;
let operator: grpc.Metadata;
let integrator: grpc.Metadata;
let first: park.dispatch.v1.Plan;
let second: park.dispatch.v1.Plan;

const planDay = (parkId: string, day: string) =>
  unary<park.dispatch.v1.PlanDayResponse>((done) =>
    h.client.planDay({ parkId, day }, operator, done),
  );

const count = async (sql: string, params: unknown[] = []): Promise<number> => {
  const { rows } = await h.db.pool.query<{ n: number }>(sql, params);
  return rows[0]!.n;
};

/** What must not grow when a request is refused. */
const footprint = async () => ({
  plans: await count('SELECT count(*)::int AS n FROM plans'),
  planEvents: await count(`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'plan-%'`),
  forecasts: await count('SELECT count(*)::int AS n FROM forecasts'),
});

/** A plan without what differs from one solve to the next (id, time, solve time). */
const content = (plan: park.dispatch.v1.Plan) => {
  const { planId: _id, issuedAt: _at, solveMs: _ms, ...rest } = plan;
  return rest;
};

beforeAll(async () => {
  h = await startDispatchHarness('plan_api');
  operator = await h.bearer('operator');
  integrator = await h.bearer('integrator');
  await registerPv(h.client, operator, PARK, 'pv-1', '500');
  // 1000 kWh, 500 kW each way, efficiencies 0.95, SOC 0.1-0.9 (no metered SOC: from 0.5).
  await registerBattery(h.client, operator, PARK, BAT);
  await configureGrid(h.client, operator, PARK, { importLimitKw: String(IMPORT_LIMIT_KW) });
  await submitForecast(h.client, integrator, PARK, 'pv-1', intervalOf(DAY, 0), PV_KW);
  await submitForecast(h.client, integrator, PARK, 'load', intervalOf(DAY, 0), LOAD_KW);
  first = (await planDay(PARK, DAY)).plan!;
  second = (await planDay(PARK, DAY)).plan!;
});
afterAll(() => h?.stop());

describe('PlanDay, GetPlan and ExplainPlan', () => {
  it('an impossible day comes back as an optimal plan with its violations named and sized', () => {
    expect(first.status).toBe('optimal');
    expect(first.intervals).toHaveLength(96);
    // At most 1000 kW import + 400 kW PV + 500 kW battery discharge = 1900 kW can be supplied.
    //   interval 48: 2500 - 1900 = 600 kW unserved x 0.25 h = 150 kWh;
    //   interval 49: 2200 - 1900 = 300 kW unserved x 0.25 h =  75 kWh.
    // The battery has the energy: 2 x 500 kW x 0.25 h / 0.95 = 263.2 kWh of the 400 kWh
    // between its 0.5 start and 0.1 minimum. Nothing else is violated.
    expect(first.violations.map((v) => [v.name, v.interval, v.sizeKwh])).toEqual([
      ['unserved_load_t048', 48, expect.closeTo(150, 6)],
      ['unserved_load_t049', 49, expect.closeTo(75, 6)],
    ]);
    // Penalty 10,000 CNY per unserved kWh: (150 + 75) x 10,000 = 2,250,000 CNY.
    expect(first.objective?.penaltyCny).toBeCloseTo(2_250_000, 3);
    for (const t of [48, 49]) {
      const step = first.intervals[t]!;
      expect(step.importKw).toBeCloseTo(IMPORT_LIMIT_KW, 6);
      expect(step.plants[0]?.usedKw).toBeCloseTo(400, 6);
      expect(step.batteries[0]?.dischargeKw).toBeCloseTo(500, 6);
      expect(step.loadKw).toBe(LOAD_KW[t]);
    }
    expect(first.notes).not.toContainEqual(expect.stringContaining('clear-sky'));
  });

  it('the same inputs give the same plan', () => {
    expect(second.planId).not.toBe(first.planId);
    expect(content(second)).toEqual(content(first));
  });

  it('GetPlan returns the latest plan of the day, and a plan by its id', async () => {
    const latest = await unary<park.dispatch.v1.GetPlanResponse>((done) =>
      h.client.getPlan({ parkId: PARK, day: DAY, planId: '' }, integrator, done),
    );
    expect(latest.plan?.planId).toBe(second.planId);
    expect(content(latest.plan!)).toEqual(content(second));
    const byId = await unary<park.dispatch.v1.GetPlanResponse>((done) =>
      h.client.getPlan({ parkId: '', day: '', planId: first.planId }, integrator, done),
    );
    expect(byId.plan?.planId).toBe(first.planId);
    const none = await failure(
      unary((done) =>
        h.client.getPlan({ parkId: PARK, day: '2026-06-23', planId: '' }, integrator, done),
      ),
    );
    expect(none.code).toBe(grpc.status.NOT_FOUND);
  });

  it('ExplainPlan names what the battery does and what drives it', async () => {
    const explain = (interval: number) =>
      unary<park.dispatch.v1.ExplainPlanResponse>((done) =>
        h.client.explainPlan({ planId: second.planId, interval }, integrator, done),
      );
    const peak = await explain(48);
    expect(peak.start).toEqual(intervalOf(DAY, 48));
    // 12:00 is in the 08:00-22:00 period: 1 CNY/kWh, the day's highest; feed-in 0.2.
    expect(peak.importPriceCnyPerKwh?.value).toBe('1');
    expect(peak.exportPriceCnyPerKwh?.value).toBe('0.2');
    expect(peak.batteries).toEqual([
      {
        batteryId: BAT,
        action: 'discharge',
        powerKw: expect.closeTo(500, 6),
        socKwh: expect.any(Number),
        drivers: expect.arrayContaining([
          "import price 1 CNY/kWh is the day's highest",
          'discharging at full power',
        ]),
      },
    ]);
    expect(peak.binding).toEqual([
      `import at its limit of ${IMPORT_LIMIT_KW} kW`,
      expect.stringMatching(/^unserved_load_t048: load not served at interval 48 /),
    ]);
    // The violation's size in the text: 150 kWh, as above.
    const size = / \(([\d.]+) kWh\)$/.exec(peak.binding[1]!)?.[1];
    expect(Number(size)).toBeCloseTo(150, 6);

    // The battery recharges where import is cheapest (0.3 CNY/kWh, 00:00-08:00 or 22:00-24:00).
    const charging = second.intervals.findIndex((step) => step.batteries[0]!.chargeKw > 1e-6);
    expect(charging).toBeGreaterThanOrEqual(0);
    const night = await explain(charging);
    expect(night.importPriceCnyPerKwh?.value).toBe('0.3');
    expect(night.batteries[0]).toMatchObject({
      action: 'charge',
      drivers: expect.arrayContaining(["import price 0.3 CNY/kWh is the day's lowest"]),
    });
    expect(night.batteries[0]!.powerKw).toBeLessThan(0);

    const outside = await failure(explain(96));
    expect(outside.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(outside).map((v) => v.field)).toEqual(['interval']);
    const unknown = await failure(
      unary((done) =>
        h.client.explainPlan({ planId: 'no-such-plan', interval: 0 }, integrator, done),
      ),
    );
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
  });

  it('refuses bad input, naming the field, and stores nothing', async () => {
    const before = await footprint();

    const unknownPark = await failure(planDay('no-such-park', DAY));
    expect(unknownPark.code).toBe(grpc.status.NOT_FOUND);
    expect(unknownPark.details).toContain('no-such-park');

    for (const day of ['2026-13-01', '2026-02-30', '22-06-2026', '']) {
      const bad = await failure(planDay(PARK, day));
      expect({ day, code: bad.code, fields: fieldViolationsOf(bad).map((v) => v.field) }).toEqual({
        day,
        code: grpc.status.INVALID_ARGUMENT,
        fields: ['day'],
      });
    }

    const negative = await failure(
      submitForecast(h.client, integrator, PARK, 'load', intervalOf(DAY, 0), [600, 600, -5, 600]),
    );
    expect(negative.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(negative).map((v) => v.field)).toEqual(['values_kw[2]']);

    const notANumber = await failure(
      submitForecast(h.client, integrator, PARK, 'load', intervalOf(DAY, 0), ['600', 'lots']),
    );
    expect(fieldViolationsOf(notANumber).map((v) => v.field)).toEqual(['values_kw[1]']);

    const unknownPlant = await failure(
      submitForecast(h.client, integrator, PARK, 'pv-9', intervalOf(DAY, 0), [1]),
    );
    expect(unknownPlant.code).toBe(grpc.status.NOT_FOUND);

    const noSuchPark = await failure(
      submitForecast(h.client, integrator, 'no-such-park', 'load', intervalOf(DAY, 0), [1]),
    );
    expect(noSuchPark.code).toBe(grpc.status.NOT_FOUND);
    expect(noSuchPark.details).toContain('no-such-park');

    expect(await footprint()).toEqual(before);
    // A refused plan does not leave its lock behind.
    expect(await h.server.runtime.redis.exists(`dispatch:planning:${PARK}`)).toBe(0);
    // The refused forecast did not replace the accepted one: the next plan is the same.
    const again = (await planDay(PARK, DAY)).plan!;
    expect(content(again)).toEqual(content(first));
  });

  it('one planner per park: while the Redis lock is held, PlanDay is ABORTED', async () => {
    const redis = h.server.runtime.redis;
    const lockKey = `dispatch:planning:${PARK}`;
    const before = await footprint();
    expect(await redis.set(lockKey, 'another-replica', 'PX', 60_000, 'NX')).toBe('OK');
    try {
      const refused = await failure(planDay(PARK, DAY));
      // ConflictError -> 'conflict' -> ABORTED (packages/service-kit/src/errors.ts GRPC_STATUS).
      expect(refused.code).toBe(grpc.status.ABORTED);
      expect(refused.details).toContain('being planned');
      expect(await footprint()).toEqual(before);
      // The refused request did not take or drop the other replica's lock.
      expect(await redis.get(lockKey)).toBe('another-replica');
    } finally {
      await redis.del(lockKey);
    }
    const after = await planDay(PARK, DAY);
    expect(after.plan?.status).toBe('optimal');
    expect(await footprint()).toEqual({
      ...before,
      plans: before.plans + 1,
      planEvents: before.planEvents + 1,
    });
  });
});
