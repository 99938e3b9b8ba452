import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import type { Role } from '@park/service-kit';
import {
  statusOf,
  unary,
  ALLOWED,
  UNAUTHENTICATED,
  DENIED,
  accessOutcomeOf,
  expectedFromAccessTable,
  forgedOperatorMetadata,
  type AccessOutcome,
} from '@park/testing';
import {
  configureGrid,
  dec,
  intervalOf,
  registerBattery,
  registerPv,
  submitForecast,
  uniqueId,
} from '../test-support/dispatch-fixtures';
import { AUTH, startDispatchHarness, type DispatchHarness } from '../test-support/harness';
import { DISPATCH_ACCESS } from './access';

/**
 * The authorization matrix of park.dispatch.v1.DispatchService: every RPC of the service
 * definition x every caller, against the running service. Expected outcomes by hand from the
 * service's contract (dispatch_service.proto: "Operators define the topology and plan;
 * integrators submit forecasts, read setpoints and acknowledge them; enterprises and services
 * read plans") and DESIGN.md section 5 (no valid token: nothing).
 */

jest.setTimeout(120_000);

const v1 = park.dispatch.v1;
type DispatchMethod = keyof typeof v1.DispatchServiceService & string;

const CALLERS = [
  'operator',
  'integrator',
  'enterprise',
  'service',
  'no-token',
  'forged-token',
] as const;
type Caller = (typeof CALLERS)[number];

const OK = ALLOWED;
const NO_AUTH = UNAUTHENTICATED;
type Outcome = AccessOutcome;

function row(...outcomes: Outcome[]): Record<Caller, Outcome> {
  return {
    operator: outcomes[0]!,
    integrator: outcomes[1]!,
    enterprise: outcomes[2]!,
    service: outcomes[3]!,
    'no-token': NO_AUTH,
    'forged-token': NO_AUTH,
  };
}

const EXPECTED: Record<string, Record<Caller, Outcome>> = {
  //                          operator integrator enterprise service
  registerPlant: row(OK, DENIED, DENIED, DENIED),
  registerBattery: row(OK, DENIED, DENIED, DENIED),
  registerFlexibleLoad: row(OK, DENIED, DENIED, DENIED),
  registerDirectLine: row(OK, DENIED, DENIED, DENIED),
  configureGrid: row(OK, DENIED, DENIED, DENIED),
  getTopology: row(OK, OK, DENIED, OK),
  submitForecast: row(OK, OK, DENIED, DENIED),
  planDay: row(OK, DENIED, DENIED, DENIED),
  getPlan: row(OK, OK, OK, OK),
  getSetpoints: row(OK, OK, DENIED, OK),
  acknowledgeSetpoint: row(OK, OK, DENIED, DENIED),
  explainPlan: row(OK, OK, OK, OK),
  getDirectLineRatios: row(OK, OK, DENIED, OK),
};

const outcomeOf = accessOutcomeOf;

const DAY = '2026-06-22';
// Redis keys of dispatch (plan lock, safe mode) are not prefixed per test: ids of this run only.
const PARK = uniqueId('park-ac');
const BAT = uniqueId('bat-ac');
/** Far from DAY: forecasts of the matrix (2030-01-01 + caller index days) change no plan. */
const forecastStart = (n: number) => new Date(Date.UTC(2029, 11, 31, 16 + 24 * n));

let h: DispatchHarness;
let planId = '';
let setpointId = '';
const tokens = {} as Record<Caller, grpc.Metadata>;

async function tokenOf(caller: Caller): Promise<grpc.Metadata> {
  const as = (role: Role, enterpriseId?: string) => h.bearer(role, enterpriseId);
  switch (caller) {
    case 'operator':
      return as('operator');
    case 'integrator':
      return as('integrator');
    case 'enterprise':
      return as('enterprise', 'ent-1');
    case 'service':
      return as('service');
    case 'no-token':
      return new grpc.Metadata();
    case 'forged-token':
      return forgedOperatorMetadata(AUTH);
  }
}

beforeAll(async () => {
  h = await startDispatchHarness('dispatch_grpc_access');
  for (const caller of CALLERS) tokens[caller] = await tokenOf(caller);
  const operator = tokens.operator;
  await registerPv(h.client, operator, PARK, 'pv-base');
  await registerBattery(h.client, operator, PARK, BAT);
  await configureGrid(h.client, operator, PARK, { importLimitKw: '4000' });
  await submitForecast(
    h.client,
    operator,
    PARK,
    'load',
    intervalOf(DAY, 0),
    Array<number>(96).fill(800),
  );
  const planned = await unary<park.dispatch.v1.PlanDayResponse>((done) =>
    h.client.planDay({ parkId: PARK, day: DAY }, operator, done),
  );
  planId = planned.plan!.planId;
  // A setpoint to acknowledge: the scheduler pass at 10:05 park time on DAY.
  await h.server.tick(new Date(intervalOf(DAY, 40).getTime() + 5 * 60_000));
  const { setpoints } = await unary<park.dispatch.v1.GetSetpointsResponse>((done) =>
    h.client.getSetpoints({ parkId: PARK, assetId: BAT }, operator, done),
  );
  expect(setpoints).toHaveLength(1);
  setpointId = setpoints[0]!.setpointId;
});
afterAll(() => h?.stop());

/**
 * One call per RPC, built so that an allowed caller succeeds; `n` (the caller's index) keeps
 * the ids of writes apart. A new RPC without a case here fails the matrix.
 */
function call(method: DispatchMethod, md: grpc.Metadata, n: number): Promise<unknown> {
  const c = h.client;
  switch (method) {
    case 'registerPlant':
      return registerPv(c, md, PARK, `pv-${n}`);
    case 'registerBattery':
      return registerBattery(c, md, PARK, `bat-reg-${n}`);
    case 'registerFlexibleLoad':
      return unary((done) =>
        c.registerFlexibleLoad(
          {
            parkId: PARK,
            load: {
              loadId: `fl-${n}`,
              enterpriseId: 'ent-1',
              energyKwh: dec('100'),
              windowStartMinute: 0,
              windowEndMinute: 240,
              maxKw: dec('100'),
            },
          },
          md,
          done,
        ),
      );
    case 'registerDirectLine':
      return unary((done) =>
        c.registerDirectLine(
          {
            parkId: PARK,
            line: {
              lineId: `line-${n}`,
              plantId: 'pv-base',
              capacityKw: dec('1000'),
              lineMeterId: `m-line-${n}`,
              consumers: [
                {
                  enterpriseId: 'ent-1',
                  priority: 1,
                  share: dec('1'),
                  consumptionMeterIds: [`m-ent-1-${n}`],
                },
              ],
              storageMeterId: '',
              exportMeterId: '',
            },
          },
          md,
          done,
        ),
      );
    case 'configureGrid':
      return configureGrid(c, md, PARK, { importLimitKw: String(5000 + n) });
    case 'getTopology':
      return unary((done) => c.getTopology({ parkId: PARK }, md, done));
    case 'submitForecast':
      return submitForecast(c, md, PARK, 'load', forecastStart(n), [1, 2]);
    case 'planDay':
      return unary((done) => c.planDay({ parkId: PARK, day: DAY }, md, done));
    case 'getPlan':
      return unary((done) => c.getPlan({ parkId: PARK, day: DAY, planId: '' }, md, done));
    case 'getSetpoints':
      return unary((done) => c.getSetpoints({ parkId: PARK, assetId: '' }, md, done));
    case 'acknowledgeSetpoint':
      return unary((done) => c.acknowledgeSetpoint({ setpointId, assetId: BAT }, md, done));
    case 'explainPlan':
      return unary((done) => c.explainPlan({ planId, interval: 40 }, md, done));
    case 'getDirectLineRatios':
      // line-0 is the operator's line of the registerDirectLine row.
      return unary((done) =>
        c.getDirectLineRatios(
          {
            parkId: PARK,
            lineId: 'line-0',
            from: new Date('2026-06-01T00:00:00Z'),
            to: new Date('2026-06-02T00:00:00Z'),
          },
          md,
          done,
        ),
      );
    default:
      return Promise.reject(new Error(`no call in the matrix for RPC ${String(method)}`));
  }
}

const methods = Object.keys(v1.DispatchServiceService) as DispatchMethod[];

describe('authorization matrix: every RPC of DispatchService x every caller', () => {
  it('has a row for every RPC of the service definition, and no other', () => {
    expect(methods).toHaveLength(13);
    expect(Object.keys(EXPECTED).sort()).toEqual([...methods].sort());
  });

  it('agrees with DISPATCH_ACCESS, the table the service enforces', () => {
    expect(
      expectedFromAccessTable(DISPATCH_ACCESS, {
        operator: { role: 'operator' },
        integrator: { role: 'integrator' },
        enterprise: { role: 'enterprise' },
        service: { role: 'service' },
        'no-token': undefined,
        'forged-token': undefined,
      }),
    ).toEqual(EXPECTED);
    // No dispatch RPC is scoped to one enterprise's data.
    expect(Object.values(DISPATCH_ACCESS).filter((rule) => rule.enterpriseScoped)).toEqual([]);
  });

  it.each(methods)('%s', async (method) => {
    const expected = EXPECTED[method];
    if (!expected) throw new Error(`RPC ${method} has no row in the matrix`);
    const codes = {} as Record<Caller, number>;
    // Denied callers first, so an allowed write cannot make a later denied call fail otherwise.
    const order = [...CALLERS].sort(
      (a, b) => Number(expected[a] === OK) - Number(expected[b] === OK),
    );
    for (const caller of order) {
      codes[caller] = await statusOf(call(method, tokens[caller], CALLERS.indexOf(caller)));
    }
    const actual = Object.fromEntries(CALLERS.map((caller) => [caller, outcomeOf(codes[caller])]));
    expect(actual).toEqual(expected);
    // Allowed calls are built to succeed: each one got past its access check and did its work.
    const allowed = CALLERS.filter((caller) => expected[caller] === OK).map((caller) => [
      caller,
      codes[caller],
    ]);
    expect(allowed).toEqual(allowed.map(([caller]) => [caller, grpc.status.OK]));
  });

  it('refused writes left nothing behind', async () => {
    const operator = tokens.operator;
    const { topology } = await unary<park.dispatch.v1.GetTopologyResponse>((done) =>
      h.client.getTopology({ parkId: PARK }, operator, done),
    );
    // Caller index 0 (operator) was the only one allowed to change the topology.
    expect(topology?.plants.map((p) => p.plantId)).toEqual(['pv-0', 'pv-base']);
    expect(topology?.batteries.map((b) => b.batteryId).sort()).toEqual([BAT, 'bat-reg-0'].sort());
    expect(topology?.flexibleLoads.map((l) => l.loadId)).toEqual(['fl-0']);
    expect(topology?.directLines.map((l) => l.lineId)).toEqual(['line-0']);
    expect(topology?.grid?.importLimitKw?.value).toBe('5000');
    // 3 setup commands (plant, battery, grid) + 5 of the operator in the matrix.
    expect(topology?.version).toBe(8n);
    const { rows: lines } = await h.db.pool.query<{ line_id: string }>(
      'SELECT line_id FROM direct_lines ORDER BY line_id',
    );
    expect(lines.map((r) => r.line_id)).toEqual(['line-0']);

    // Forecasts: operator (index 0) and integrator (index 1) only.
    const { rows: forecasts } = await h.db.pool.query<{ start: Date }>(
      `SELECT min(interval_start) AS start FROM forecasts WHERE interval_start >= '2029-12-31T16:00:00Z'
       GROUP BY date_trunc('day', interval_start + interval '8 hours') ORDER BY 1`,
    );
    expect(forecasts.map((r) => r.start)).toEqual([forecastStart(0), forecastStart(1)]);

    // Plans: the one of the setup and the operator's of the matrix.
    const { rows: plans } = await h.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM plans',
    );
    expect(plans[0]!.n).toBe(2);

    // The setpoint was acknowledged once (the operator's call; the integrator's repeated it).
    const { rows: acks } = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE event_type = 'SetpointAcknowledged'`,
    );
    expect(acks[0]!.n).toBe(1);
  });
});
