// The carbon, dispatch and reporting commands against stand-ins of those services on a real
// gRPC server: what parkctl sends (requests, token) and how it shows the answers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { EXIT } from './errors';
import { parkctl } from './test-support/io';

const requests: { method: string; request: unknown; authorization: string }[] = [];
let server: grpc.Server;
let address: string;
let dir: string;

const d = (value: string): park.common.v1.Decimal => ({ value });

type Call = grpc.ServerUnaryCall<unknown, unknown>;
type Done = grpc.sendUnaryData<unknown>;

/** A handler that records the call and answers with `answer(request)` (or its error). */
function stub(method: string, answer: (request: never) => unknown) {
  return (call: Call, done: Done) => {
    requests.push({
      method,
      request: call.request,
      authorization: String(call.metadata.get('authorization')[0] ?? ''),
    });
    try {
      done(null, answer(call.request as never));
    } catch (error) {
      done(error as grpc.ServiceError);
    }
  };
}

const PLAN: park.dispatch.v1.Plan = park.dispatch.v1.Plan.fromPartial({
  planId: 'plan-7',
  parkId: 'park-1',
  day: '2025-06-02',
  status: 'optimal',
  mipGap: 0,
  binaries: 4,
  kind: 'day_ahead',
  solveMs: 812n,
  objective: {
    totalCny: 10234.567,
    energyCny: 9000.1,
    carbonCny: 1200,
    batteryWearCny: 34.46,
    curtailmentCny: 0,
    penaltyCny: 0,
  },
  intervals: [
    {
      start: new Date('2025-06-01T16:00:00Z'),
      importKw: 3000.04,
      exportKw: 0,
      emissionsKg: 427.7,
      renewableShare: 0.1234,
      loadKw: 3000,
    },
  ],
  violations: [
    {
      name: 'unserved_load_t072',
      constraint: 'load above the import limit',
      interval: 72,
      assetId: 'load',
      sizeKwh: 12.5,
    },
  ],
  notes: ['no wind forecast submitted: wind counted as zero'],
  issuedAt: new Date('2025-06-01T06:00:00Z'),
});

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parkctl-remote-'));
  server = new grpc.Server();
  server.addService(park.carbon.v1.CarbonServiceService, {
    getEnterpriseFootprint: stub('getEnterpriseFootprint', (r: { enterpriseId: string }) => ({
      footprint: park.carbon.v1.Footprint.fromPartial({
        enterpriseId: r.enterpriseId,
        period: {
          start: new Date('2023-05-31T16:00:00Z'),
          end: new Date('2023-06-30T16:00:00Z'),
        },
        figures: { electricityKwh: d('1000.5'), gridKwh: d('800'), renewableKwh: d('200.5') },
        energy: [
          { commodity: 'electricity', quantity: d('1000.5'), unit: 'kWh', energyKgce: d('122.96') },
        ],
        scope1ByFuel: [{ fuel: 'natural_gas', kgco2e: d('21.62') }],
        energyTce: d('0.12296'),
        scope1Kgco2e: d('21.62'),
        scope2LocationKgco2e: d('456.3'),
        scope2MarketKgco2e: d('400'),
        renewableShare: d('0.2004'),
        closed: false,
      }),
    })),
    importCertificates: stub('importCertificates', () => ({ imported: 2, mwh: d('3.5') })),
    retireCertificates: stub('retireCertificates', () => {
      throw Object.assign(new Error('refused'), {
        code: grpc.status.FAILED_PRECONDITION,
        details: 'serial GEC-1 was retired on 2023-06-14',
      });
    }),
    getCbamData: stub('getCbamData', (r: { installationId: string }) => ({
      data: park.carbon.v1.CbamData.fromPartial({
        installationId: r.installationId,
        fromMonth: '2023-06',
        toMonth: '2023-06',
        goods: [
          {
            processId: 'smelter',
            cnCode: '7601 10 00',
            sector: 'aluminium',
            netMassTonnes: d('100'),
            directTco2e: d('150.5'),
            totalSee: d('1.505'),
          },
        ],
        totalMassTonnes: d('100'),
      }),
      csv: Buffer.from('installation_id,from_month\r\ninst-1,2023-06\r\n'),
    })),
  } as unknown as grpc.UntypedServiceImplementation);
  server.addService(park.dispatch.v1.DispatchServiceService, {
    planDay: stub('planDay', () => ({ plan: PLAN })),
    getPlan: stub('getPlan', () => ({ plan: PLAN })),
  } as unknown as grpc.UntypedServiceImplementation);
  server.addService(park.reporting.v1.ReportingServiceService, {
    getParkKpis: stub('getParkKpis', (r: { parkId: string; period: string }) => ({
      parkId: r.parkId,
      period: r.period,
      sizeBand: 'below_200k_tce',
      scope2Method: 'market',
      kpis: [
        {
          name: 'co2_per_tce',
          label: 'tCO2 per tce',
          value: d('0.18'),
          unit: 'tCO2/tce',
          target: d('0.2'),
          comparison: '<=',
          status: park.reporting.v1.KpiStatus.KPI_STATUS_MET,
        },
        {
          name: 'platform_coverage',
          label: 'Platform coverage',
          unit: '%',
          status: park.reporting.v1.KpiStatus.KPI_STATUS_NO_DATA,
        },
      ],
    })),
    listProjections: stub('listProjections', () => ({
      projections: [
        {
          name: 'energy',
          activeVersion: 2,
          buildingVersion: 3,
          buildingApplied: 50n,
          buildingTarget: 200n,
        },
        {
          name: 'kpis',
          activeVersion: 1,
          buildingVersion: 0,
          buildingApplied: 0n,
          buildingTarget: 0n,
          switchedAt: new Date('2025-06-01T00:00:00Z'),
        },
      ],
    })),
    rebuildProjection: stub('rebuildProjection', (r: { name: string }) => ({
      projections: [
        {
          name: r.name,
          activeVersion: 2,
          buildingVersion: 3,
          buildingApplied: 0n,
          buildingTarget: 10n,
        },
      ],
    })),
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests.length = 0;
});

const ctl = (...argv: string[]) =>
  parkctl(
    ['--carbon', address, '--dispatch', address, '--reporting', address, ...argv],
    { PARK_TOKEN: 'test-token' },
    { cwd: dir },
  );

it('footprint: park-local months become the period; the figures as a record', async () => {
  const result = await ctl('footprint', 'ent-1', '--from', '2023-06', '--to', '2023-07');
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(requests).toEqual([
    {
      method: 'getEnterpriseFootprint',
      authorization: 'Bearer test-token',
      request: {
        enterpriseId: 'ent-1',
        period: {
          start: new Date('2023-05-31T16:00:00Z'),
          end: new Date('2023-06-30T16:00:00Z'),
        },
      },
    },
  ]);
  expect(result.stdout).toMatch(/^energy tce: +0\.12296$/m);
  expect(result.stdout).toMatch(/^scope 2 market kgCO2e: +400$/m);
  expect(result.stdout).toMatch(/^renewable share: +0\.2004$/m);
  expect(result.stdout).toMatch(
    /^energy by commodity:\nCOMMODITY +QUANTITY +UNIT +KGCE\nelectricity +1000\.5 +kWh +122\.96$/m,
  );
  const json = await ctl(
    '-o',
    'json',
    'footprint',
    'ent-1',
    '--from',
    '2023-06-01',
    '--to',
    '2023-07-01',
  );
  expect(JSON.parse(json.stdout)).toMatchObject({
    enterpriseId: 'ent-1',
    scope1ByFuel: [{ fuel: 'natural_gas', kgco2e: { value: '21.62' } }],
  });
});

it('certificates: import reads the CSV, retire shows the refusal', async () => {
  fs.writeFileSync(
    path.join(dir, 'gecs.csv'),
    'serial,vintage,generator_id,mwh\nGEC-1,2023-05,pv-1,1.5\nGEC-2,2023-06,pv-1,2\n',
  );
  const imported = await ctl('certificates', 'import', 'ent-1', 'gecs.csv');
  expect(imported.code).toBe(0);
  expect(requests[0]!.request).toEqual({
    enterpriseId: 'ent-1',
    certificates: [
      { serial: 'GEC-1', vintage: '2023-05', generatorId: 'pv-1', mwh: d('1.5') },
      { serial: 'GEC-2', vintage: '2023-06', generatorId: 'pv-1', mwh: d('2') },
    ],
  });
  expect(imported.stdout).toMatch(/^imported: +2\nMWh: +3\.5$/m);

  const retired = await ctl(
    'certificates',
    'retire',
    'ent-1',
    'GEC-1',
    'GEC-2',
    '--from-date',
    '2023-06-15',
  );
  expect(requests[1]!.request).toEqual({
    enterpriseId: 'ent-1',
    serials: ['GEC-1', 'GEC-2'],
    fromDate: '2023-06-15',
    toDate: '2023-06-15',
  });
  expect(retired).toEqual({
    code: EXIT.failed,
    stdout: '',
    stderr: 'parkctl: FAILED_PRECONDITION: serial GEC-1 was retired on 2023-06-14\n',
  });
});

it("cbam: the service's CSV verbatim, JSON and a table of goods", async () => {
  const csv = await ctl('-o', 'csv', 'cbam', 'inst-1', '--from-month', '2023-06');
  expect(csv.stdout).toBe('installation_id,from_month\r\ninst-1,2023-06\r\n');
  expect(requests[0]!.request).toEqual({
    installationId: 'inst-1',
    fromMonth: '2023-06',
    toMonth: '2023-06',
  });
  const json = await ctl('-o', 'json', 'cbam', 'inst-1', '--from-month', '2023-06');
  expect(JSON.parse(json.stdout)).toMatchObject({
    installationId: 'inst-1',
    goods: [{ cnCode: '7601 10 00', directTco2e: { value: '150.5' } }],
  });
  const table = await ctl('cbam', 'inst-1', '--from-month', '2023-06', '--to-month', '2023-08');
  expect(requests[2]!.request).toMatchObject({ toMonth: '2023-08' });
  expect(table.stdout).toMatch(/^smelter +7601 10 00 +aluminium +100 +150\.5 .* 1\.505/m);
});

it('plan: plans the day (or shows the latest) with objective, violations and notes', async () => {
  const planned = await ctl('plan', 'park-1', '2025-06-02');
  expect(planned.code).toBe(0);
  expect(requests[0]).toMatchObject({
    method: 'planDay',
    request: { parkId: 'park-1', day: '2025-06-02' },
  });
  expect(planned.stdout).toMatch(/^status: +optimal$/m);
  expect(planned.stdout).toMatch(/^objective CNY: +10234\.57$/m);
  expect(planned.stdout).toMatch(
    /^unserved_load_t072 +72 +load +12\.5 +load above the import limit$/m,
  );
  expect(planned.stdout).toMatch(/^note: no wind forecast submitted: wind counted as zero$/m);
  expect(planned.stdout).toMatch(/^1 intervals \(--intervals lists them\)$/m);

  const latest = await ctl('plan', 'park-1', '2025-06-02', '--latest', '--intervals');
  expect(requests[1]).toMatchObject({
    method: 'getPlan',
    request: { parkId: 'park-1', day: '2025-06-02' },
  });
  expect(latest.stdout).toMatch(/^2025-06-01T16:00:00\.000Z +3000 +3000 +0 +427\.7 +0\.123$/m);
  const json = await ctl('-o', 'json', 'plan', 'park-1', '2025-06-02');
  expect(JSON.parse(json.stdout)).toMatchObject({ planId: 'plan-7', solveMs: '812' });
});

it('kpis and projections', async () => {
  const kpis = await ctl('kpis', 'park-1', '--period', '2025-06');
  expect(requests[0]!.request).toEqual({
    parkId: 'park-1',
    granularity: park.reporting.v1.Granularity.GRANULARITY_MONTH,
    period: '2025-06',
  });
  expect(kpis.stdout).toMatch(/^co2_per_tce +tCO2 per tce +0\.18 +tCO2\/tce +<= 0\.2 +met$/m);
  expect(kpis.stdout).toMatch(/^platform_coverage +Platform coverage +no data +% +no data$/m);
  const year = await ctl(
    '-o',
    'json',
    'kpis',
    'park-1',
    '--granularity',
    'year',
    '--period',
    '2025',
  );
  expect(JSON.parse(year.stdout)).toMatchObject({
    period: '2025',
    kpis: [{ name: 'co2_per_tce' }, {}],
  });

  const listed = await ctl('projections', 'list');
  expect(listed.stdout).toMatch(/^NAME +ACTIVE +BUILDING +PROGRESS +SWITCHED$/m);
  expect(listed.stdout).toMatch(/^energy +2 +3 +50\/200 \(25 %\)$/m);
  expect(listed.stdout).toMatch(/^kpis +1 +2025-06-01T00:00:00\.000Z$/m);
  const rebuilt = await ctl('projections', 'rebuild', 'energy');
  expect(requests.at(-1)).toMatchObject({
    method: 'rebuildProjection',
    request: { name: 'energy' },
  });
  expect(rebuilt.stdout).toMatch(/^energy +2 +3 +0\/10 \(0 %\)$/m);
});

it('a method the server does not have is UNIMPLEMENTED, exit 1', async () => {
  const result = await parkctl(['--reporting', address, 'projections', 'list'], {
    PARK_TOKEN: 't',
  });
  expect(result.code).toBe(0);
  const missing = await parkctl(['--metering', address, 'meters', 'get', 'm-1'], {
    PARK_TOKEN: 't',
  });
  expect(missing.code).toBe(EXIT.failed);
  expect(missing.stderr).toMatch(/^parkctl: UNIMPLEMENTED: /);
});
