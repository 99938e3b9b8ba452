import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { PROBLEM_CONTENT_TYPE, type Role } from '@park/service-kit';
import {
  eventually,
  meterSpec,
  statusOf,
  unary,
  ALLOWED,
  UNAUTHENTICATED,
  DENIED,
  accessOutcomeOf,
  ENTERPRISE_SCOPED_CALLERS,
  expectedFromAccessTable,
  forgedOperatorMetadata,
  type AccessOutcome,
} from '@park/testing';
import { AUTH, startReportingHarness, type ReportingHarness } from '../test-support/harness';
import { startCarbonStandIn, type StandIn } from '../test-support/upstream-stand-ins';
import {
  download,
  exportReport,
  FORMAT,
  KIND,
  publishEnterpriseFlagged,
  publishPlan,
} from '../test-support/reporting-events';
import { DASHBOARD_ACCESS, DASHBOARD_PATHS, type DashboardRoute } from '../dashboard/access';
import { REPORTING_ACCESS } from './access';

/**
 * The authorization matrix of park.reporting.v1.ReportingService, of the report downloads and of
 * the dashboard's JSON API (DESIGN.md section 5): every RPC of the service definition and every
 * HTTP route x every caller, against the running service. Requests address ent-1's data (park p1, installation
 * inst-1 of ent-1), so "enterprise-other" (an ent-2 token) is an enterprise reaching for another
 * one's. CBAM data comes from carbon, asked with the caller's own token: a stand-in of carbon's
 * GetCbamData applies carbon's rule (an enterprise reaches its own installations only).
 */

jest.setTimeout(120_000);

const v1 = park.reporting.v1;
type ReportingMethod = keyof typeof v1.ReportingServiceService & string;

const CALLERS = [
  'operator',
  'integrator',
  'enterprise-own',
  'enterprise-other',
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
    'enterprise-own': outcomes[2]!,
    'enterprise-other': outcomes[3]!,
    service: outcomes[4]!,
    'no-token': NO_AUTH,
    'forged-token': NO_AUTH,
  };
}

/**
 * By hand from DESIGN.md section 5 and the service's comments: operators everything; services
 * (dashboards, other services) read; an enterprise its own statement and exports and the
 * ranking (others' names withheld, see kpis.test.ts); integrators nothing here; nothing without
 * a valid token.
 */
const EXPECTED: Record<ReportingMethod, Record<Caller, Outcome>> = {
  //                           operator integrator own  other   service
  getParkKpis: row(OK, DENIED, DENIED, DENIED, OK),
  getEnterpriseStatement: row(OK, DENIED, OK, DENIED, OK),
  listEnterpriseRanking: row(OK, DENIED, OK, OK, OK),
  getPlanVsActual: row(OK, DENIED, DENIED, DENIED, OK),
  exportReport: row(OK, DENIED, OK, DENIED, OK), // ent-1's statement; the other kinds below
  rebuildProjection: row(OK, DENIED, DENIED, DENIED, DENIED),
  listProjections: row(OK, DENIED, DENIED, DENIED, OK),
};

/** ExportReport and the downloads per kind of report: the exporter's rules on top of the RPC's. */
const EXPORTS = {
  // an enterprise only its own statement
  statement: row(OK, DENIED, OK, DENIED, OK),
  // the park report: operators and services only
  park: row(OK, DENIED, DENIED, DENIED, OK),
  // CBAM: carbon decides with the caller's token; inst-1 is ent-1's
  cbam: row(OK, DENIED, OK, DENIED, OK),
} as const;
type ExportKind = keyof typeof EXPORTS;

const ROUTES: Record<ExportKind, string> = {
  statement: '/v1/reports/enterprises/ent-1/statements/2023-06.csv',
  park: '/v1/reports/parks/p1/reports/2023-06.pdf',
  cbam: '/v1/reports/installations/inst-1/cbam/2023-06..2023-06.json',
};

const outcomeOf = accessOutcomeOf;

/** A Content-Type without its parameters (express adds "; charset=utf-8"). */
const mediaType = (contentType: string) => contentType.split(';')[0]!.trim();

function httpOutcomeOf(status: number): Outcome {
  if (status === 403) return DENIED;
  if (status === 401) return NO_AUTH;
  return OK;
}

let h: ReportingHarness;
let carbon: StandIn;
const tokens = {} as Record<Caller, grpc.Metadata>;

function tokenOf(caller: Caller): Promise<grpc.Metadata> {
  const as = (role: Role, enterpriseId?: string) => h.bearer(role, enterpriseId);
  switch (caller) {
    case 'operator':
      return as('operator');
    case 'integrator':
      return as('integrator');
    case 'enterprise-own':
      return as('enterprise', 'ent-1');
    case 'enterprise-other':
      return as('enterprise', 'ent-2');
    case 'service':
      return as('service');
    case 'no-token':
      return Promise.resolve(new grpc.Metadata());
    case 'forged-token':
      return forgedOperatorMetadata(AUTH);
  }
}

beforeAll(async () => {
  carbon = await startCarbonStandIn({ installations: { 'inst-1': 'ent-1' } });
  h = await startReportingHarness('reporting_grpc_access', {
    REPORTING_CARBON_GRPC_ADDRESS: carbon.address,
  });
  for (const caller of CALLERS) tokens[caller] = await tokenOf(caller);
  await h.publishPark('p1');
  for (const enterpriseId of ['ent-1', 'ent-2'])
    await publishEnterpriseFlagged(h, {
      enterpriseId,
      parkId: 'p1',
      name: enterpriseId,
      energyUsing: true,
    });
  const grid = meterSpec('m-1g', 'ent-1', 'grid');
  await h.publishMeter(grid);
  await h.publishReadings(grid, [['2023-06-10T02:00:00Z', '100']]);
  await h.publishHours('ent-1', [
    {
      hourStart: '2023-06-10T02:00:00Z',
      change: { electricityKwh: '100', gridKwh: '100', energyKgce: '12.29' },
    },
  ]);
  await publishPlan(h, {
    planId: 'plan-0610',
    parkId: 'p1',
    day: '2023-06-10',
    issuedAt: '2023-06-09T12:00:00Z',
    kind: 'day_ahead',
    intervals: [
      { start: '2023-06-10T02:00:00Z', importKw: 400, emissionsKg: 58, renewableShare: 0 },
    ],
  });
  await h.server.projections.caughtUp(60_000);
});
afterAll(async () => {
  await h?.stop();
  await carbon?.stop();
});

const MONTH = '2023-06';

function exportOf(kind: ExportKind, md: grpc.Metadata) {
  const subjectId = { statement: 'ent-1', park: 'p1', cbam: 'inst-1' }[kind];
  return exportReport(h, md, {
    kind: KIND[kind],
    format: kind === 'park' ? FORMAT.pdf : FORMAT.csv,
    subjectId,
    month: MONTH,
    toMonth: kind === 'cbam' ? MONTH : '',
  });
}

/** One call per RPC, built so that an allowed caller succeeds. A new RPC without a case fails. */
function call(method: ReportingMethod, md: grpc.Metadata): Promise<unknown> {
  const c = h.client;
  switch (method) {
    case 'getParkKpis':
      return unary((done) =>
        c.getParkKpis(
          { parkId: 'p1', granularity: v1.Granularity.GRANULARITY_MONTH, period: MONTH },
          md,
          done,
        ),
      );
    case 'getEnterpriseStatement':
      return unary((done) =>
        c.getEnterpriseStatement({ enterpriseId: 'ent-1', month: MONTH }, md, done),
      );
    case 'listEnterpriseRanking':
      return unary((done) =>
        c.listEnterpriseRanking(
          {
            parkId: 'p1',
            month: MONTH,
            order: v1.RankingOrder.RANKING_ORDER_INTENSITY,
            nameFilter: '',
          },
          md,
          done,
        ),
      );
    case 'getPlanVsActual':
      return unary((done) => c.getPlanVsActual({ parkId: 'p1', day: '2023-06-10' }, md, done));
    case 'exportReport':
      return exportOf('statement', md);
    case 'rebuildProjection':
      // The smallest projection: an allowed call really starts a rebuild.
      return unary((done) => c.rebuildProjection({ name: 'plans' }, md, done));
    case 'listProjections':
      return unary((done) => c.listProjections({}, md, done));
    default:
      return Promise.reject(new Error(`no call in the matrix for RPC ${String(method)}`));
  }
}

const methods = Object.keys(v1.ReportingServiceService) as ReportingMethod[];

describe('authorization matrix: every RPC of ReportingService x every caller', () => {
  it('has a row for every RPC of the service definition, and no other', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...methods].sort());
  });

  it('agrees with REPORTING_ACCESS, the table the service enforces', () => {
    expect(expectedFromAccessTable(REPORTING_ACCESS, ENTERPRISE_SCOPED_CALLERS)).toEqual(EXPECTED);
  });

  it.each(methods)('%s', async (method) => {
    const expected = EXPECTED[method];
    const codes = {} as Record<Caller, number>;
    // Denied callers first, so an allowed call (a rebuild) cannot make a later one fail otherwise.
    const order = [...CALLERS].sort(
      (a, b) => Number(expected[a] === OK) - Number(expected[b] === OK),
    );
    for (const caller of order) codes[caller] = await statusOf(call(method, tokens[caller]));
    const actual = Object.fromEntries(CALLERS.map((caller) => [caller, outcomeOf(codes[caller])]));
    expect(actual).toEqual(expected);
    // Allowed calls are built to succeed: they got past every check and did their work.
    const allowed = CALLERS.filter((caller) => expected[caller] === OK);
    expect(allowed.map((caller) => [caller, codes[caller]])).toEqual(
      allowed.map((caller) => [caller, grpc.status.OK]),
    );
  });
});

describe('ExportReport and the HTTP downloads: every kind of report x every caller', () => {
  it.each(Object.keys(EXPORTS) as ExportKind[])('ExportReport %s', async (kind) => {
    const codes = {} as Record<Caller, number>;
    for (const caller of CALLERS) codes[caller] = await statusOf(exportOf(kind, tokens[caller]));
    expect(Object.fromEntries(CALLERS.map((c) => [c, outcomeOf(codes[c])]))).toEqual(EXPORTS[kind]);
    for (const caller of CALLERS.filter((c) => EXPORTS[kind][c] === OK))
      expect([caller, codes[caller]]).toEqual([caller, grpc.status.OK]);
  });

  it.each(Object.keys(EXPORTS) as ExportKind[])('GET download of %s', async (kind) => {
    const statuses = {} as Record<Caller, number>;
    for (const caller of CALLERS) {
      const answer = await download(h, ROUTES[kind], tokens[caller]);
      statuses[caller] = answer.status;
      if (answer.status !== 200) {
        // Refusals are problem+json, and carry none of the report.
        expect([caller, mediaType(answer.contentType)]).toEqual([caller, PROBLEM_CONTENT_TYPE]);
        const problem = JSON.parse(answer.bytes.toString('utf8')) as { status: number };
        expect(problem.status).toBe(answer.status);
      }
    }
    expect(Object.fromEntries(CALLERS.map((c) => [c, httpOutcomeOf(statuses[c])]))).toEqual(
      EXPORTS[kind],
    );
    for (const caller of CALLERS.filter((c) => EXPORTS[kind][c] === OK))
      expect([caller, statuses[caller]]).toEqual([caller, 200]);
  });

  it('a download without a token is refused before anything is read', async () => {
    const answer = await download(h, ROUTES.statement);
    expect(answer.status).toBe(401);
    expect(mediaType(answer.contentType)).toBe(PROBLEM_CONTENT_TYPE);
  });

  it("CBAM data is asked of carbon with the caller's own token, never the service's", async () => {
    const before = carbon.received.length;
    const own = tokens['enterprise-own'];
    const file = await exportOf('cbam', own);
    expect(file.contentType).toBe('text/csv; charset=utf-8');
    expect(file.bytes.toString('utf8')).toBe('installation_id\r\ninst-1\r\n');
    expect(carbon.received.slice(before)).toEqual([String(own.get('authorization')[0])]);
  });

  it('an unknown format is a 400 problem naming the field', async () => {
    const answer = await download(
      h,
      '/v1/reports/enterprises/ent-1/statements/2023-06.xlsx',
      tokens.operator,
    );
    expect(answer.status).toBe(400);
    expect(mediaType(answer.contentType)).toBe(PROBLEM_CONTENT_TYPE);
    expect(answer.bytes.toString('utf8')).toContain('format');
  });
});

describe("the dashboard's JSON API: every route x every caller", () => {
  const routes = Object.keys(DASHBOARD_ACCESS) as DashboardRoute[];
  const pathOf = (route: DashboardRoute) =>
    DASHBOARD_PATHS[route].replace(':parkId', 'p1').replace(':enterpriseId', 'ent-1');
  const expected = expectedFromAccessTable(DASHBOARD_ACCESS, ENTERPRISE_SCOPED_CALLERS);

  it('DASHBOARD_ACCESS carries the gRPC API rules over: park-wide views for operators and services', () => {
    expect(expected.overview).toEqual(row(OK, DENIED, DENIED, DENIED, OK));
    expect(expected.dispatch).toEqual(row(OK, DENIED, DENIED, DENIED, OK));
    expect(expected.enterprise).toEqual(row(OK, DENIED, OK, DENIED, OK));
    expect(expected.carbon).toEqual(row(OK, DENIED, OK, DENIED, OK));
    expect(expected.session).toEqual(row(OK, DENIED, OK, OK, OK));
  });

  it.each(routes)('GET %s', async (route) => {
    const statuses = {} as Record<Caller, number>;
    for (const caller of CALLERS) {
      // The event stream does not end by itself: its headers are the answer.
      const controller = new AbortController();
      const authorization = tokens[caller].get('authorization')[0];
      const response = await fetch(`${h.httpUrl}${pathOf(route)}`, {
        headers: authorization ? { authorization: String(authorization) } : {},
        signal: controller.signal,
      });
      statuses[caller] = response.status;
      if (response.status !== 200) {
        expect([caller, mediaType(response.headers.get('content-type') ?? '')]).toEqual([
          caller,
          PROBLEM_CONTENT_TYPE,
        ]);
      }
      controller.abort();
    }
    expect(Object.fromEntries(CALLERS.map((c) => [c, httpOutcomeOf(statuses[c])]))).toEqual(
      expected[route],
    );
    for (const caller of CALLERS.filter((c) => expected[route]![c] === OK))
      expect([caller, statuses[caller]]).toEqual([caller, 200]);
  });
});

describe('the allowed rebuild really ran', () => {
  it('plans switched to a new version', async () => {
    await eventually(async () => {
      const { projections } = await unary<park.reporting.v1.ListProjectionsResponse>((done) =>
        h.client.listProjections({}, tokens.operator, done),
      );
      const plans = projections.find((p) => p.name === 'plans');
      expect([plans?.activeVersion, plans?.buildingVersion]).toEqual([2, 0]);
    }, 60_000);
  });
});
