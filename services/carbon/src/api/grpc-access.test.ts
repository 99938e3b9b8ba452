import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { fieldViolationsOf, type Role } from '@park/service-kit';
import {
  eventually,
  failure,
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
import { AUTH, meterSpec, startCarbonHarness, type CarbonHarness } from '../test-support/harness';
import { CARBON_ACCESS } from './access';

/**
 * The authorization matrix of park.carbon.v1.CarbonService (DESIGN.md section 5): every RPC of
 * the service definition x every caller, against the running service. Every request addresses
 * ent-1's data, so "enterprise-other" (an ent-2 token) is the enterprise reaching another
 * enterprise's footprint, ledger, certificates, process, production and CBAM data.
 */

jest.setTimeout(120_000);

const v1 = park.carbon.v1;
type CarbonMethod = keyof typeof v1.CarbonServiceService & string;

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

/**
 * By hand from DESIGN.md section 5 and the RPCs' comments: operators everything; integrators
 * read factor sets and record production and precursors (a plant's MES); enterprises their own
 * processes, production, certificates, footprint, ledger and CBAM data; services read. Without a
 * valid token nothing.
 */
const EXPECTED: Record<string, Record<Caller, Outcome>> = {
  //                        operator integrator own  other   service
  publishFactorSet: row(OK, DENIED, DENIED, DENIED, DENIED),
  listFactorSets: row(OK, OK, OK, OK, OK),
  registerGenerator: row(OK, DENIED, DENIED, DENIED, DENIED),
  registerProcess: row(OK, DENIED, OK, DENIED, DENIED),
  recordProduction: row(OK, OK, OK, DENIED, DENIED),
  recordPrecursor: row(OK, OK, OK, DENIED, DENIED),
  closePeriod: row(OK, DENIED, DENIED, DENIED, DENIED),
  getEnterpriseFootprint: row(OK, DENIED, OK, DENIED, OK),
  getLedgerEntries: row(OK, DENIED, OK, DENIED, OK),
  getParkBalance: row(OK, DENIED, DENIED, DENIED, OK),
  importCertificates: row(OK, DENIED, OK, DENIED, DENIED),
  retireCertificates: row(OK, DENIED, OK, DENIED, DENIED),
  getCbamData: row(OK, DENIED, OK, DENIED, OK),
};

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

const outcomeOf = accessOutcomeOf;

const DAY = '2023-06-15';
const DAY_PERIOD = {
  start: new Date('2023-06-14T16:00:00Z'),
  end: new Date('2023-06-15T16:00:00Z'),
};
const d = (value: string) => ({ value });

let h: CarbonHarness;
const tokens = {} as Record<Caller, grpc.Metadata>;

async function tokenOf(caller: Caller): Promise<grpc.Metadata> {
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
      return new grpc.Metadata();
    case 'forged-token':
      return forgedOperatorMetadata(AUTH);
  }
}

beforeAll(async () => {
  h = await startCarbonHarness('carbon_grpc_access');
  for (const caller of CALLERS) tokens[caller] = await tokenOf(caller);
  const operator = tokens.operator;
  await h.publishPark('park-1');
  await h.publishEnterprise('ent-1', 'park-1');
  await h.publishEnterprise('ent-2', 'park-1');
  const grid1 = meterSpec('m-grid-1', 'ent-1', 'grid');
  const grid2 = meterSpec('m-grid-2', 'ent-2', 'grid');
  await h.publishMeter(grid1);
  await h.publishMeter(grid2);
  // 10,000 kWh of grid electricity on the day: room for every allowed retirement (1 MWh each).
  await h.publishReadings(grid1, [['2023-06-15T02:00:00Z', '10000']]);
  await h.publishReadings(grid2, [['2023-06-15T02:00:00Z', '500']]);
  await eventually(async () => {
    const { rows } = await h.db.pool.query<{ n: number }>(
      `SELECT count(DISTINCT meter_id)::int AS n FROM ledger_lines`,
    );
    if (rows[0]!.n !== 2) throw new Error('readings not booked yet');
  }, 30_000);

  // ent-1's process in installation inst-1, with June production, and certificates to retire.
  await unary((done) =>
    h.client.registerProcess(
      {
        process: {
          processId: 'p-1',
          installationId: 'inst-1',
          enterpriseId: 'ent-1',
          name: 'Casting',
          meterIds: ['m-grid-1'],
        },
      },
      operator,
      done,
    ),
  );
  await unary((done) =>
    h.client.recordProduction(
      {
        processId: 'p-1',
        month: '2023-06',
        cnCode: '7601 10 00',
        netMassTonnes: d('1'),
        route: 'primary',
        nonCbamOutput: false,
      },
      operator,
      done,
    ),
  );
  await unary((done) =>
    h.client.importCertificates(
      {
        enterpriseId: 'ent-1',
        certificates: CALLERS.map((_, n) => ({
          serial: `R-${n}`,
          vintage: '2023-06',
          generatorId: 'gen-1',
          mwh: d('1'),
        })),
      },
      operator,
      done,
    ),
  );
});
afterAll(() => h?.stop());

/**
 * One call per RPC, built so that an allowed caller succeeds; `n` (the caller's index) keeps
 * ids apart. A new RPC without a case here fails the matrix.
 */
function call(method: CarbonMethod, md: grpc.Metadata, n: number): Promise<unknown> {
  const c = h.client;
  switch (method) {
    case 'publishFactorSet':
      return unary((done) =>
        c.publishFactorSet(
          {
            set: {
              setId: `test-grid-2030-${n}`,
              version: 0,
              publisher: 'test',
              document: 'access matrix',
              year: 2030,
              // In the future: nothing to restate.
              validFrom: new Date('2030-01-01T00:00:00+08:00'),
              validTo: new Date('2031-01-01T00:00:00+08:00'),
              factors: [
                { key: 'grid:northeast', value: d('0.5'), unit: 'kgCO2/kWh', derivation: '' },
              ],
              publishedAt: undefined,
              publishedBy: '',
              restatementStatus: v1.RestatementStatus.RESTATEMENT_STATUS_UNSPECIFIED,
              restatedIntervals: 0n,
            },
          },
          md,
          done,
        ),
      );
    case 'listFactorSets':
      return unary((done) => c.listFactorSets({ allVersions: false }, md, done));
    case 'registerGenerator':
      return unary((done) =>
        c.registerGenerator(
          {
            generator: {
              generatorId: `gen-${n}`,
              name: 'Roof PV',
              kind: 'pv',
              capacityKw: d('100'),
              attributeStatus: v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED,
            },
          },
          md,
          done,
        ),
      );
    case 'registerProcess':
      return unary((done) =>
        c.registerProcess(
          {
            process: {
              processId: `p-reg-${n}`,
              installationId: 'inst-1',
              enterpriseId: 'ent-1',
              name: 'Extrusion',
              meterIds: ['m-grid-1'],
            },
          },
          md,
          done,
        ),
      );
    case 'recordProduction':
      return unary((done) =>
        c.recordProduction(
          {
            processId: 'p-1',
            month: '2023-06',
            cnCode: '7604 10 10',
            netMassTonnes: d('1'),
            route: `route-${n}`,
            nonCbamOutput: false,
          },
          md,
          done,
        ),
      );
    case 'recordPrecursor':
      return unary((done) =>
        c.recordPrecursor(
          {
            processId: 'p-1',
            month: '2023-06',
            cnCode: '7601 20 80',
            consumedTonnes: d('1'),
            directSee: d('1.8'),
            indirectSee: d('3.6'),
            origin: 'supplier',
            supplier: `smelter-${n}`,
          },
          md,
          done,
        ),
      );
    case 'closePeriod':
      // Long past its late-data window: closable.
      return unary((done) => c.closePeriod({ parkId: 'park-1', month: '2023-01' }, md, done));
    case 'getEnterpriseFootprint':
      return unary((done) =>
        c.getEnterpriseFootprint({ enterpriseId: 'ent-1', period: DAY_PERIOD }, md, done),
      );
    case 'getLedgerEntries':
      return unary((done) =>
        c.getLedgerEntries(
          {
            enterpriseId: 'ent-1',
            period: DAY_PERIOD,
            page: undefined,
            meterId: '',
            kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
          },
          md,
          done,
        ),
      );
    case 'getParkBalance':
      return unary((done) => c.getParkBalance({ parkId: 'park-1', period: DAY_PERIOD }, md, done));
    case 'importCertificates':
      return unary((done) =>
        c.importCertificates(
          {
            enterpriseId: 'ent-1',
            certificates: [
              { serial: `I-${n}`, vintage: '2023-06', generatorId: 'gen-1', mwh: d('1') },
            ],
          },
          md,
          done,
        ),
      );
    case 'retireCertificates':
      return unary((done) =>
        c.retireCertificates(
          { enterpriseId: 'ent-1', serials: [`R-${n}`], fromDate: DAY, toDate: DAY },
          md,
          done,
        ),
      );
    case 'getCbamData':
      return unary((done) =>
        c.getCbamData(
          { installationId: 'inst-1', fromMonth: '2023-06', toMonth: '2023-06' },
          md,
          done,
        ),
      );
    default:
      return Promise.reject(new Error(`no call in the matrix for RPC ${String(method)}`));
  }
}

const methods = Object.keys(v1.CarbonServiceService) as CarbonMethod[];

describe('authorization matrix: every RPC of CarbonService x every caller', () => {
  it('has a row for every RPC of the service definition, and no other', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...methods].sort());
  });

  it('agrees with CARBON_ACCESS, the table the service enforces', () => {
    expect(expectedFromAccessTable(CARBON_ACCESS, ENTERPRISE_SCOPED_CALLERS)).toEqual(EXPECTED);
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
    // Allowed calls are built to succeed: each one got past its access checks and did its work.
    const allowedCodes = CALLERS.filter((caller) => expected[caller] === OK).map((caller) => [
      caller,
      codes[caller],
    ]);
    expect(allowedCodes).toEqual(allowedCodes.map(([caller]) => [caller, grpc.status.OK]));
  });

  it('refused writes left nothing behind', async () => {
    // Index in CALLERS: 0 operator and 2 enterprise-own were allowed; 1, 3, 4, 5, 6 refused.
    const { rows: imported } = await h.db.pool.query<{ serial: string }>(
      "SELECT serial FROM certificates WHERE serial LIKE 'I-%' ORDER BY serial",
    );
    expect(imported.map((r) => r.serial)).toEqual(['I-0', 'I-2']);
    const { rows: retired } = await h.db.pool.query<{ serial: string }>(
      'SELECT serial FROM certificates WHERE retired_from IS NOT NULL ORDER BY serial',
    );
    expect(retired.map((r) => r.serial)).toEqual(['R-0', 'R-2']);
    const { rows: processes } = await h.db.pool.query<{ process_id: string }>(
      'SELECT process_id FROM processes ORDER BY process_id',
    );
    expect(processes.map((r) => r.process_id)).toEqual(['p-1', 'p-reg-0', 'p-reg-2']);
    const { rows: production } = await h.db.pool.query<{ route: string }>(
      "SELECT route FROM production_records WHERE cn_code = '76041010' ORDER BY route",
    );
    // operator, integrator, enterprise-own.
    expect(production.map((r) => r.route)).toEqual(['route-0', 'route-1', 'route-2']);
    const { rows: precursors } = await h.db.pool.query<{ supplier: string }>(
      'SELECT supplier FROM precursor_records ORDER BY supplier',
    );
    expect(precursors.map((r) => r.supplier)).toEqual(['smelter-0', 'smelter-1', 'smelter-2']);
    const { rows: generators } = await h.db.pool.query<{ generator_id: string }>(
      'SELECT generator_id FROM carbon_generators ORDER BY generator_id',
    );
    expect(generators.map((r) => r.generator_id)).toEqual(['gen-0']);
    const { rows: sets } = await h.db.pool.query<{ set_id: string }>(
      "SELECT set_id FROM factor_sets WHERE set_id LIKE 'test-%'",
    );
    expect(sets.map((r) => r.set_id)).toEqual(['test-grid-2030-0']);
  });
});

describe('an enterprise token never reaches another enterprise through CBAM ids', () => {
  const processes = async () =>
    (await h.db.pool.query('SELECT * FROM processes ORDER BY process_id')).rows;

  function register(md: grpc.Metadata, process: park.carbon.v1.Process) {
    return unary((done) => h.client.registerProcess({ process }, md, done));
  }

  it('cannot join its process to another enterprise installation', async () => {
    const before = await processes();
    const attempt = (md: grpc.Metadata) =>
      failure(
        register(md, {
          processId: 'p-ent2',
          installationId: 'inst-1', // ent-1's
          enterpriseId: 'ent-2',
          name: 'Intruder',
          meterIds: ['m-grid-2'],
        }),
      );
    expect((await attempt(tokens['enterprise-other'])).code).toBe(grpc.status.PERMISSION_DENIED);
    // An operator making the same mistake is told which field is wrong.
    const byOperator = await attempt(tokens.operator);
    expect(byOperator.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(byOperator).map((v) => v.field)).toEqual(['process.installation_id']);
    expect(await processes()).toEqual(before);
    // ent-2's token still cannot read inst-1.
    expect(await statusOf(call('getCbamData', tokens['enterprise-other'], 3))).toBe(
      grpc.status.PERMISSION_DENIED,
    );
  });

  it('cannot put another enterprise meter into its process', async () => {
    const before = await processes();
    const attempt = (md: grpc.Metadata) =>
      failure(
        register(md, {
          processId: 'p-ent2',
          installationId: 'inst-2',
          enterpriseId: 'ent-2',
          name: 'Intruder',
          meterIds: ['m-grid-2', 'm-grid-1'], // m-grid-1 is ent-1's
        }),
      );
    const refused = await attempt(tokens['enterprise-other']);
    expect(refused.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(refused.details).toContain('m-grid-1');
    const byOperator = await attempt(tokens.operator);
    expect(byOperator.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(byOperator).map((v) => v.field)).toEqual(['process.meter_ids']);
    expect(await processes()).toEqual(before);
  });

  it('cannot take over another enterprise process', async () => {
    const before = await processes();
    const refused = await failure(
      register(tokens['enterprise-other'], {
        processId: 'p-1', // ent-1's
        installationId: 'inst-2',
        enterpriseId: 'ent-2',
        name: 'Mine now',
        meterIds: ['m-grid-2'],
      }),
    );
    expect(refused.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(refused.details).not.toContain('ent-1');
    expect(await processes()).toEqual(before);
  });

  it('learns nothing from ids: an unknown process or installation is as denied as a foreign one', async () => {
    const other = tokens['enterprise-other'];
    const production = (processId: string) =>
      statusOf(
        unary((done) =>
          h.client.recordProduction(
            {
              processId,
              month: '2023-06',
              cnCode: '7601 10 00',
              netMassTonnes: d('1'),
              route: 'x',
              nonCbamOutput: false,
            },
            other,
            done,
          ),
        ),
      );
    expect(await production('p-1')).toBe(grpc.status.PERMISSION_DENIED);
    expect(await production('p-unknown')).toBe(grpc.status.PERMISSION_DENIED);
    const cbam = (installationId: string) =>
      statusOf(
        unary((done) =>
          h.client.getCbamData(
            { installationId, fromMonth: '2023-06', toMonth: '2023-06' },
            other,
            done,
          ),
        ),
      );
    expect(await cbam('inst-1')).toBe(grpc.status.PERMISSION_DENIED);
    expect(await cbam('inst-unknown')).toBe(grpc.status.PERMISSION_DENIED);
    // An operator is told the truth.
    expect(
      await statusOf(
        unary((done) =>
          h.client.getCbamData(
            { installationId: 'inst-unknown', fromMonth: '2023-06', toMonth: '2023-06' },
            tokens.operator,
            done,
          ),
        ),
      ),
    ).toBe(grpc.status.NOT_FOUND);
  });
});
