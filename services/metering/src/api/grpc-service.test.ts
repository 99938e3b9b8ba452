import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { fieldViolationsOf } from '@park/service-kit';
import {
  bearer,
  decimal,
  failure,
  ingestStream,
  startHarness,
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

let h: Harness;
let client: Client;
let operator: grpc.Metadata;
let integrator: grpc.Metadata;

const meter = (
  meterId: string,
  enterpriseId: string,
  extra: Partial<park.metering.v1.Meter> = {},
) =>
  v1.Meter.fromPartial({
    meterId,
    enterpriseId,
    commodity: v1.Commodity.COMMODITY_ELECTRICITY,
    role: v1.MeterRole.METER_ROLE_GRID_IMPORT,
    unit: Unit.UNIT_KWH,
    registerType: v1.RegisterType.REGISTER_TYPE_INTERVAL,
    // 100 kW over 15 minutes: at most 25 kWh per interval, more is held as a spike.
    ratedPowerKw: decimal('100'),
    ...extra,
  });

const reading = (
  meterId: string,
  at: Date,
  value: string | undefined,
  unit: park.common.v1.Unit = Unit.UNIT_KWH,
): park.metering.v1.ReadingInput => ({
  meterId,
  intervalStart: at,
  value: value === undefined ? undefined : decimal(value),
  unit,
});

beforeAll(async () => {
  h = await startHarness('metering_grpc_service', NOW);
  client = h.client;
  operator = await bearer('operator');
  integrator = await bearer('integrator');
  await unary((done) =>
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
      operator,
      done,
    ),
  );
  for (const enterpriseId of ['ent-1', 'ent-s', 'ent-w']) {
    await unary((done) =>
      client.registerEnterprise(
        {
          enterprise: {
            enterpriseId,
            parkId: 'park-1',
            name: `Enterprise ${enterpriseId}`,
            creditCode: '91210106MA0Y5K7R5J',
            industryCode: 'C3411',
            exporter: false,
            energyUsing: true,
            keyEnergyConsumingUnit: false,
          },
        },
        operator,
        done,
      ),
    );
  }
  for (const [meterId, enterpriseId] of [
    ['m-1', 'ent-1'],
    ['m-2', 'ent-1'],
    ['m-day', 'ent-s'],
    ['m-w', 'ent-w'],
  ] as const) {
    await unary((done) =>
      client.registerMeter({ meter: meter(meterId, enterpriseId) }, integrator, done),
    );
  }
});
afterAll(async () => {
  await h?.stop();
});

describe('IngestReadings', () => {
  it('answers each batch with counts and the rejected readings, in order, with totals', async () => {
    const response = await ingestStream(client, integrator, [
      {
        batchId: 'b-1',
        source: 'gateway:gw-7',
        readings: [
          reading('m-1', q(0), '10'),
          reading('m-1', q(1), '0.011', Unit.UNIT_MWH), // 11 kWh, converted
          reading('m-1', q(2), '12', Unit.UNIT_NM3), // a gas unit on an electricity meter
          reading('m-unknown', q(0), '5'),
        ],
      },
      {
        batchId: 'b-2',
        source: 'gateway:gw-7',
        readings: [
          reading('m-1', q(3), '-4'), // negative consumption
          reading('m-1', new Date(Date.parse(NOW) + 3_600_000), '3'), // ends in the future
          reading('m-1', q(5), '500'), // above 25 kWh: a spike, held
          reading('m-2', q(0), '7'),
        ],
      },
      {
        batchId: 'b-3',
        source: '',
        readings: [reading('m-2', q(1), '8', Unit.UNIT_UNSPECIFIED), reading('m-2', q(2), '9')],
      },
    ]);

    expect(response.batches.map((b) => b.batchId)).toEqual(['b-1', 'b-2', 'b-3']);
    const [b1, b2, b3] = response.batches;
    expect(b1).toMatchObject({ accepted: 2, duplicate: 0, corrected: 0, held: 0, rejected: 2 });
    expect(b1!.rejections).toEqual([
      { index: 2, meterId: 'm-1', field: 'unit', reason: expect.stringMatching(/unit|Nm3/) },
      {
        index: 3,
        meterId: 'm-unknown',
        field: 'meter_id',
        reason: 'meter m-unknown is not registered',
      },
    ]);
    expect(b2).toMatchObject({ accepted: 1, held: 1, rejected: 2 });
    expect(b2!.rejections).toEqual([
      { index: 0, meterId: 'm-1', field: 'value', reason: expect.stringContaining('negative') },
      {
        index: 1,
        meterId: 'm-1',
        field: 'interval_start',
        reason: expect.stringContaining('after now'),
      },
    ]);
    expect(b3).toMatchObject({ accepted: 1, rejected: 1 });
    expect(b3!.rejections).toEqual([
      { index: 0, meterId: 'm-2', field: 'unit', reason: expect.any(String) },
    ]);
    expect(response).toMatchObject({
      accepted: 4,
      duplicate: 0,
      corrected: 0,
      held: 1,
      rejected: 5,
    });

    const { rows } = await h.db.pool.query<{ meter_id: string; value: string; source: string }>(
      `SELECT meter_id, value::text, source FROM readings ORDER BY meter_id, interval_start`,
    );
    expect(rows).toEqual([
      { meter_id: 'm-1', value: '10', source: 'gateway:gw-7' },
      { meter_id: 'm-1', value: '11', source: 'gateway:gw-7' },
      { meter_id: 'm-2', value: '7', source: 'gateway:gw-7' },
      // A batch without a source is the caller's.
      { meter_id: 'm-2', value: '9', source: 'integrator:test-integrator' },
    ]);
  });

  it('takes the same batch again as duplicates, and a changed value as a correction', async () => {
    const batch = {
      batchId: 'again',
      source: 'gateway:gw-7',
      readings: [reading('m-1', q(0), '10'), reading('m-1', q(1), '11')],
    };
    const again = await ingestStream(client, integrator, [batch]);
    expect(again.batches[0]).toMatchObject({ duplicate: 2, accepted: 0, rejected: 0 });

    const changed = await ingestStream(client, integrator, [
      { ...batch, batchId: 'changed', readings: [reading('m-1', q(1), '11.5')] },
    ]);
    expect(changed.batches[0]).toMatchObject({ corrected: 1, duplicate: 0 });
    expect(changed).toMatchObject({ corrected: 1 });
    const { rows } = await h.db.pool.query<{ value: string }>(
      `SELECT value::text FROM readings WHERE meter_id = 'm-1' AND interval_start = $1`,
      [q(1)],
    );
    expect(rows).toEqual([{ value: '11.5' }]);
  });
});

describe('GetSeries', () => {
  it('sums days in the park time zone (Asia/Shanghai), for a meter and for an enterprise', async () => {
    // Local midnight of 2025-03-11 in Shanghai is 2025-03-10T16:00Z.
    const response = await ingestStream(client, integrator, [
      {
        batchId: 'day',
        source: 'gateway:gw-7',
        readings: [
          reading('m-day', new Date('2025-03-10T15:30:00Z'), '1'), // 10th, 23:30 local
          reading('m-day', new Date('2025-03-10T15:45:00Z'), '2'), // 10th, 23:45 local
          reading('m-day', new Date('2025-03-10T16:00:00Z'), '4'), // 11th, 00:00 local
          reading('m-day', new Date('2025-03-10T16:15:00Z'), '8.25'), // 11th, 00:15 local
        ],
      },
    ]);
    expect(response.accepted).toBe(4);
    const range = {
      start: new Date('2025-03-09T16:00:00Z'),
      end: new Date('2025-03-11T16:00:00Z'),
    };
    const expected = {
      unit: Unit.UNIT_KWH,
      resolution: v1.Resolution.RESOLUTION_DAY,
      points: [
        {
          start: new Date('2025-03-09T16:00:00Z'),
          value: { value: '3' }, // 1 + 2
          measuredIntervals: 2,
          estimatedIntervals: 0,
          editedIntervals: 0,
        },
        {
          start: new Date('2025-03-10T16:00:00Z'),
          value: { value: '12.25' }, // 4 + 8.25
          measuredIntervals: 2,
          estimatedIntervals: 0,
          editedIntervals: 0,
        },
      ],
    };
    const enterprise = await bearer('enterprise', 'ent-s');
    const byMeter = await unary<park.metering.v1.GetSeriesResponse>((done) =>
      client.getSeries(
        {
          meterId: 'm-day',
          enterpriseId: '',
          commodity: v1.Commodity.COMMODITY_UNSPECIFIED,
          role: v1.MeterRole.METER_ROLE_UNSPECIFIED,
          resolution: v1.Resolution.RESOLUTION_DAY,
          range,
        },
        enterprise,
        done,
      ),
    );
    expect(byMeter).toEqual(expected);
    const byEnterprise = await unary<park.metering.v1.GetSeriesResponse>((done) =>
      client.getSeries(
        {
          meterId: '',
          enterpriseId: 'ent-s',
          commodity: v1.Commodity.COMMODITY_ELECTRICITY,
          role: v1.MeterRole.METER_ROLE_GRID_IMPORT,
          resolution: v1.Resolution.RESOLUTION_DAY,
          range,
        },
        enterprise,
        done,
      ),
    );
    expect(byEnterprise).toEqual(expected);
  });
});

describe('WatchReadings', () => {
  it('streams the stored readings in time order, then one ingested while watching', async () => {
    await ingestStream(client, integrator, [
      {
        batchId: 'w-1',
        source: 'gateway:gw-9',
        readings: [reading('m-w', q(1), '2'), reading('m-w', q(0), '1')],
      },
    ]);
    const md = await bearer('enterprise', 'ent-w');
    let ingested: Promise<unknown> | undefined;
    const messages = await watchFirst(client, md, { enterpriseId: 'ent-w', from: q(0) }, 3, (n) => {
      // Once the stored readings are through, a gateway sends a new one.
      if (n === 2) {
        ingested = ingestStream(client, integrator, [
          {
            batchId: 'w-2',
            source: 'gateway:gw-9',
            readings: [reading('m-w', q(2), '3')],
          },
        ]);
      }
    });
    await ingested;
    expect(
      messages.map((m) => [m.meter!.meterId, m.reading!.intervalStart, m.reading!.value!.value]),
    ).toEqual([
      ['m-w', q(0), '1'],
      ['m-w', q(1), '2'],
      ['m-w', q(2), '3'],
    ]);
    expect(messages[2]).toMatchObject({
      meter: {
        enterpriseId: 'ent-w',
        commodity: v1.Commodity.COMMODITY_ELECTRICITY,
        unit: Unit.UNIT_KWH,
        intervalMinutes: 15,
      },
      reading: { quality: v1.Quality.QUALITY_MEASURED, source: 'gateway:gw-9' },
      correction: false,
    });
  });
});

describe('CorrectReading', () => {
  it('lets an operator edit a held spike, with a reason', async () => {
    // m-1's reading at q(5) (500 kWh against a 25 kWh limit) was held by the first ingest test;
    // here it is held again on a meter of its own so the test stands alone.
    await unary((done) =>
      client.registerMeter({ meter: meter('m-spike', 'ent-1') }, operator, done),
    );
    const held = await ingestStream(client, integrator, [
      { batchId: 's', source: 'gateway:gw-7', readings: [reading('m-spike', q(4), '480')] },
    ]);
    expect(held).toMatchObject({ held: 1, accepted: 0 });

    const withoutReason = await failure(
      unary((done) =>
        client.correctReading(
          { meterId: 'm-spike', intervalStart: q(4), value: decimal('18'), reason: '' },
          operator,
          done,
        ),
      ),
    );
    expect(withoutReason.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(withoutReason).map((v) => v.field)).toEqual(['reason']);

    const corrected = await unary<park.metering.v1.CorrectReadingResponse>((done) =>
      client.correctReading(
        {
          meterId: 'm-spike',
          intervalStart: q(4),
          value: decimal('18'),
          reason: 'CT ratio misconfigured in the gateway',
        },
        operator,
        done,
      ),
    );
    expect(corrected.reading).toEqual({
      intervalStart: q(4),
      value: { value: '18' },
      quality: v1.Quality.QUALITY_EDITED,
      source: 'operator:test-operator',
    });
    const { rows } = await h.db.pool.query(
      `SELECT value::text, quality FROM readings WHERE meter_id = 'm-spike'`,
    );
    expect(rows).toEqual([{ value: '18', quality: 'edited' }]);
    const resolved = await h.db.pool.query(
      `SELECT resolution FROM held_readings WHERE meter_id = 'm-spike'`,
    );
    expect(resolved.rows).toEqual([{ resolution: 'corrected' }]);
  });
});

describe('bad requests', () => {
  it('a meter without a unit is INVALID_ARGUMENT naming meter.unit, and changes nothing', async () => {
    const error = await failure(
      unary((done) =>
        client.registerMeter(
          { meter: meter('m-bad', 'ent-1', { unit: Unit.UNIT_UNSPECIFIED }) },
          operator,
          done,
        ),
      ),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(error)).toEqual([{ field: 'meter.unit', description: 'is required' }]);
    expect(error.details).toContain('meter.unit');
    const { rows } = await h.db.pool.query(`SELECT 1 FROM meters WHERE meter_id = 'm-bad'`);
    expect(rows).toEqual([]);
  });

  it("names the domain's violations with the message's path", async () => {
    const error = await failure(
      unary((done) =>
        client.registerMeter(
          {
            meter: meter('m-bad', 'ent-1', {
              commodity: v1.Commodity.COMMODITY_NATURAL_GAS,
              unit: Unit.UNIT_KWH,
            }),
          },
          operator,
          done,
        ),
      ),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(error).map((v) => v.field)).toContain('meter.unit');
  });

  it('pages ListMeters with an opaque token', async () => {
    const list = (pageToken: string) =>
      unary<park.metering.v1.ListMetersResponse>((done) =>
        client.listMeters(
          {
            enterpriseId: 'ent-1',
            commodity: v1.Commodity.COMMODITY_ELECTRICITY,
            role: v1.MeterRole.METER_ROLE_UNSPECIFIED,
            page: { pageSize: 2, pageToken },
          },
          operator,
          done,
        ),
      );
    const first = await list('');
    expect(first.meters.map((m) => m.meterId)).toEqual(['m-1', 'm-2']);
    const second = await list(first.page!.nextPageToken);
    expect(second.meters.map((m) => m.meterId)).toEqual(['m-spike']);
    expect(second.page!.nextPageToken).toBe('');
    const bad = await failure(list('not-a-token'));
    expect(fieldViolationsOf(bad).map((v) => v.field)).toEqual(['page.page_token']);
  });
});

describe('meter registry', () => {
  it('keeps the serial number through a replacement, and when the meter was registered', async () => {
    const registered = await unary<park.metering.v1.RegisterMeterResponse>((done) =>
      client.registerMeter(
        {
          meter: meter('m-sn', 'ent-s', {
            role: v1.MeterRole.METER_ROLE_SUB_METER,
            serialNumber: 'SN-1',
          }),
        },
        integrator,
        done,
      ),
    );
    expect(registered.meter).toMatchObject({
      serialNumber: 'SN-1',
      status: v1.MeterStatus.METER_STATUS_ACTIVE,
    });
    expect(registered.meter!.registeredAt).toBeInstanceOf(Date);
    const replaced = await unary<park.metering.v1.ReplaceMeterResponse>((done) =>
      client.replaceMeter(
        {
          meterId: 'm-sn',
          newSerialNumber: 'SN-2',
          oldFinalRegister: undefined,
          newFirstRegister: undefined,
          replacedAt: q(4),
        },
        integrator,
        done,
      ),
    );
    expect(replaced.meter).toMatchObject({ serialNumber: 'SN-2' });
    const decommissioned = await unary<park.metering.v1.DecommissionMeterResponse>((done) =>
      client.decommissionMeter(
        { meterId: 'm-sn', decommissionedAt: q(8), reason: 'line closed' },
        integrator,
        done,
      ),
    );
    expect(decommissioned.meter).toMatchObject({
      serialNumber: 'SN-2',
      status: v1.MeterStatus.METER_STATUS_DECOMMISSIONED,
      registeredAt: registered.meter!.registeredAt,
    });
    const withoutTime = await failure(
      unary((done) =>
        client.replaceMeter(
          {
            meterId: 'm-sn',
            newSerialNumber: '',
            oldFinalRegister: undefined,
            newFirstRegister: undefined,
            replacedAt: undefined,
          },
          integrator,
          done,
        ),
      ),
    );
    expect(fieldViolationsOf(withoutTime).map((v) => v.field)).toEqual(['replaced_at']);
  });
});
