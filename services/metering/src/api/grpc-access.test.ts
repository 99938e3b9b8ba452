import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import type { Role } from '@park/service-kit';
import { METERING_ACCESS, type MeteringMethod } from './access';
import {
  bearer,
  decimal,
  ingestStream,
  startHarness,
  statusOf,
  unary,
  watchFirst,
  NOW,
  q,
  type Client,
  type Harness,
} from './test-support/grpc-harness';

jest.setTimeout(120_000);

const v1 = park.metering.v1;
const { Unit } = park.common.v1;

/** The callers of the matrix: enterprise "own" is ent-1, whose data every request addresses. */
const CALLERS = [
  'operator',
  'integrator',
  'enterprise-own',
  'enterprise-other',
  'service',
] as const;
type Caller = (typeof CALLERS)[number];
const callerToken: Record<Caller, [Role, string?]> = {
  operator: ['operator'],
  integrator: ['integrator'],
  'enterprise-own': ['enterprise', 'ent-1'],
  'enterprise-other': ['enterprise', 'ent-2'],
  service: ['service'],
};

const OK = grpc.status.OK;
const DENIED = grpc.status.PERMISSION_DENIED;

/** The expected status per RPC and caller (the access policy of DESIGN.md section 5). */
const EXPECTED: Record<MeteringMethod, Record<Caller, number>> = {
  configurePark: row(OK, DENIED, DENIED, DENIED, DENIED),
  getPark: row(OK, OK, OK, OK, OK),
  registerEnterprise: row(OK, DENIED, DENIED, DENIED, DENIED),
  updateEnterprise: row(OK, DENIED, DENIED, DENIED, DENIED),
  getEnterprise: row(OK, OK, OK, DENIED, OK),
  listEnterprises: row(OK, OK, OK, OK, OK),
  registerInstallation: row(OK, DENIED, DENIED, DENIED, DENIED),
  registerMeter: row(OK, OK, DENIED, DENIED, DENIED),
  replaceMeter: row(OK, OK, DENIED, DENIED, DENIED),
  decommissionMeter: row(OK, OK, DENIED, DENIED, DENIED),
  getMeter: row(OK, OK, OK, DENIED, OK),
  listMeters: row(OK, OK, OK, DENIED, OK),
  ingestReadings: row(OK, OK, DENIED, DENIED, DENIED),
  getSeries: row(OK, OK, OK, DENIED, OK),
  correctReading: row(OK, DENIED, DENIED, DENIED, DENIED),
  acceptReading: row(OK, DENIED, DENIED, DENIED, DENIED),
  watchReadings: row(OK, OK, OK, DENIED, OK),
};

function row(...codes: number[]): Record<Caller, number> {
  return Object.fromEntries(CALLERS.map((caller, i) => [caller, codes[i]!])) as Record<
    Caller,
    number
  >;
}

let h: Harness;
let client: Client;

const electricity = (meterId: string, extra: Partial<park.metering.v1.Meter> = {}) =>
  v1.Meter.fromPartial({
    meterId,
    enterpriseId: 'ent-1',
    commodity: v1.Commodity.COMMODITY_ELECTRICITY,
    role: v1.MeterRole.METER_ROLE_GRID_IMPORT,
    unit: Unit.UNIT_KWH,
    registerType: v1.RegisterType.REGISTER_TYPE_INTERVAL,
    intervalMinutes: 15,
    ratedPowerKw: decimal('100'),
    ...extra,
  });

beforeAll(async () => {
  h = await startHarness('metering_grpc_access', NOW);
  client = h.client;
  await h.registry.configurePark({
    parkId: 'park-1',
    name: 'Shenyang pilot park',
    latitude: 41.8,
    longitude: 123.4,
    gridRegion: 'northeast_china',
    sizeBand: 'below_200k_tce',
  });
  for (const enterpriseId of ['ent-1', 'ent-2']) {
    await h.registry.registerEnterprise({
      enterpriseId,
      parkId: 'park-1',
      name: `Enterprise ${enterpriseId}`,
      creditCode: '91210106MA0Y5K7R5J',
      industryCode: 'C3411',
      exporter: false,
      energyUsing: true,
      keyEnergyConsumingUnit: false,
    });
  }
  const md = await bearer('operator');
  const register = (meter: park.metering.v1.Meter) =>
    unary((done) => client.registerMeter({ meter }, md, done));
  await register(electricity('m-1'));
  for (const caller of CALLERS) {
    await register(electricity(`rep-${caller}`));
    await register(electricity(`dec-${caller}`));
  }
  // Stored readings for the reads, a spike held for AcceptReading.
  await h.ingest.ingest({
    source: 'gateway:gw-1',
    now: NOW,
    readings: [
      { meterId: 'm-1', intervalStart: q(0).toISOString(), value: '10', unit: 'kWh' },
      { meterId: 'm-1', intervalStart: q(1).toISOString(), value: '11', unit: 'kWh' },
      { meterId: 'm-1', intervalStart: q(2).toISOString(), value: '500', unit: 'kWh' },
    ],
  });
});
afterAll(async () => {
  await h?.stop();
});

/** One call per RPC, built so that an allowed caller succeeds; `n` makes its ids unique. */
function call(method: MeteringMethod, md: grpc.Metadata, n: number): Promise<unknown> {
  const unique = `${method}-${n}`;
  switch (method) {
    case 'configurePark':
      return unary((done) =>
        client.configurePark(
          {
            park: {
              parkId: 'park-1',
              name: 'Shenyang pilot park',
              timeZone: 'Asia/Shanghai',
              latitude: decimal('41.8'),
              longitude: decimal('123.4'),
              gridRegion: 'northeast_china',
              sizeBand: v1.SizeBand.SIZE_BAND_BELOW_200K_TCE,
            },
          },
          md,
          done,
        ),
      );
    case 'getPark':
      return unary((done) => client.getPark({ parkId: 'park-1' }, md, done));
    case 'registerEnterprise':
      return unary((done) =>
        client.registerEnterprise(
          {
            enterprise: {
              enterpriseId: `ent-${unique}`,
              parkId: 'park-1',
              name: 'New Works',
              creditCode: '91210106MA0Y5K7R5J',
              industryCode: 'C3411',
              exporter: false,
              energyUsing: true,
              keyEnergyConsumingUnit: false,
            },
          },
          md,
          done,
        ),
      );
    case 'updateEnterprise':
      return unary((done) =>
        client.updateEnterprise(
          {
            enterprise: {
              enterpriseId: 'ent-1',
              parkId: '',
              name: `Enterprise ent-1 (${unique})`,
              creditCode: '',
              industryCode: '',
              exporter: false,
              energyUsing: true,
              keyEnergyConsumingUnit: false,
            },
          },
          md,
          done,
        ),
      );
    case 'getEnterprise':
      return unary((done) => client.getEnterprise({ enterpriseId: 'ent-1' }, md, done));
    case 'listEnterprises':
      return unary((done) =>
        client.listEnterprises({ parkId: 'park-1', page: undefined }, md, done),
      );
    case 'registerInstallation':
      return unary((done) =>
        client.registerInstallation(
          {
            installation: {
              installationId: `inst-${unique}`,
              enterpriseId: 'ent-1',
              name: 'Hardening line',
              meterIds: ['m-1'],
            },
          },
          md,
          done,
        ),
      );
    case 'registerMeter':
      return unary((done) => client.registerMeter({ meter: electricity(`m-${unique}`) }, md, done));
    case 'replaceMeter':
      return unary((done) =>
        client.replaceMeter(
          {
            meterId: `rep-${CALLERS[n]}`,
            newSerialNumber: 'SN-2',
            oldFinalRegister: undefined,
            newFirstRegister: undefined,
            replacedAt: q(4),
          },
          md,
          done,
        ),
      );
    case 'decommissionMeter':
      return unary((done) =>
        client.decommissionMeter(
          { meterId: `dec-${CALLERS[n]}`, decommissionedAt: q(8), reason: 'removed' },
          md,
          done,
        ),
      );
    case 'getMeter':
      return unary((done) => client.getMeter({ meterId: 'm-1' }, md, done));
    case 'listMeters':
      return unary((done) =>
        client.listMeters(
          {
            enterpriseId: 'ent-1',
            commodity: v1.Commodity.COMMODITY_UNSPECIFIED,
            role: v1.MeterRole.METER_ROLE_UNSPECIFIED,
            page: undefined,
          },
          md,
          done,
        ),
      );
    case 'ingestReadings':
      return ingestStream(client, md, [
        {
          batchId: unique,
          source: 'gateway:gw-1',
          readings: [
            {
              meterId: 'm-1',
              intervalStart: q(10 + n),
              value: decimal('12'),
              unit: Unit.UNIT_KWH,
            },
          ],
        },
      ]);
    case 'getSeries':
      return unary((done) =>
        client.getSeries(
          {
            meterId: 'm-1',
            enterpriseId: '',
            commodity: v1.Commodity.COMMODITY_UNSPECIFIED,
            role: v1.MeterRole.METER_ROLE_UNSPECIFIED,
            resolution: v1.Resolution.RESOLUTION_HOUR,
            range: { start: q(0), end: q(96) },
          },
          md,
          done,
        ),
      );
    case 'correctReading':
      return unary((done) =>
        client.correctReading(
          {
            meterId: 'm-1',
            intervalStart: q(1),
            value: decimal('13'),
            reason: 'meter read again on site',
          },
          md,
          done,
        ),
      );
    case 'acceptReading':
      return unary((done) =>
        client.acceptReading(
          { meterId: 'm-1', intervalStart: q(2), reason: 'furnace start-up, confirmed' },
          md,
          done,
        ),
      );
    case 'watchReadings':
      return watchFirst(client, md, { enterpriseId: 'ent-1', from: q(0) }, 1).then((messages) => {
        if (messages.length !== 1) throw new Error('no stored reading was streamed');
      });
  }
}

describe('authorization matrix: every RPC x every caller', () => {
  const methods = Object.keys(METERING_ACCESS) as MeteringMethod[];

  it('has an expectation for every RPC of the service', () => {
    expect(methods.sort()).toEqual(Object.keys(v1.MeteringServiceService).sort());
    expect(Object.keys(EXPECTED).sort()).toEqual(methods);
  });

  it.each(methods)('%s', async (method) => {
    const actual: Record<string, number> = {};
    // Denied callers first, so the one allowed write (e.g. AcceptReading) finds its state intact.
    const order = [...CALLERS].sort(
      (a, b) => Number(EXPECTED[method][a] === OK) - Number(EXPECTED[method][b] === OK),
    );
    for (const caller of order) {
      const [role, enterpriseId] = callerToken[caller];
      const md = await bearer(role, enterpriseId);
      actual[caller] = await statusOf(call(method, md, CALLERS.indexOf(caller)));
    }
    expect(actual).toEqual(EXPECTED[method]);
  });

  it('ListEnterprises shows an enterprise token its own enterprise only', async () => {
    const md = await bearer('enterprise', 'ent-2');
    const response = await unary<park.metering.v1.ListEnterprisesResponse>((done) =>
      client.listEnterprises({ parkId: '', page: undefined }, md, done),
    );
    expect(response.enterprises.map((e) => e.enterpriseId)).toEqual(['ent-2']);
  });

  it('ListMeters without an enterprise id gives an enterprise token its own meters', async () => {
    const md = await bearer('enterprise', 'ent-2');
    const response = await unary<park.metering.v1.ListMetersResponse>((done) =>
      client.listMeters(
        {
          enterpriseId: '',
          commodity: v1.Commodity.COMMODITY_UNSPECIFIED,
          role: v1.MeterRole.METER_ROLE_UNSPECIFIED,
          page: undefined,
        },
        md,
        done,
      ),
    );
    expect(response.meters).toEqual([]);
  });

  it('a call without a token is UNAUTHENTICATED', async () => {
    expect(
      await statusOf(
        unary((done) => client.getPark({ parkId: 'park-1' }, new grpc.Metadata(), done)),
      ),
    ).toBe(grpc.status.UNAUTHENTICATED);
  });
});
