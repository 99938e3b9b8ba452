import type * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { CE, DLQ, ensureTopics } from '@park/messaging';
import { eventually, readTopic, unary } from '@park/testing';
import Decimal from 'decimal.js';
import {
  meterSpec,
  startCarbonHarness,
  type CarbonHarness,
  type MeterSpec,
} from '../test-support/harness';

/**
 * The carbon service end to end (real PostgreSQL and Kafka, metering's events on the readings
 * topic, answers over gRPC): DESIGN.md's reference day with the direct line's attributes kept
 * and sold, a corrected reading, redelivered events and bad records. Every expected figure is
 * worked out by hand in the comments, from the seed factors: Northeast grid 2023 0.5122 and
 * residual 2023 0.6096 kgCO2/kWh, natural gas 2.162188809 tCO2/1000 Nm3 (= kg/Nm3), purchased
 * heat 0.11 tCO2/GJ; electricity 0.1229 kgce/kWh, heat 0.03412 kgce/MJ, gas 38.931 MJ/Nm3 over
 * 29.3076 MJ/kgce.
 */

jest.setTimeout(120_000);

const v1 = park.carbon.v1;
const metering = park.metering.v1;

// The park day 2023-06-01 in Asia/Shanghai (UTC+8): [2023-05-31T16:00Z, 2023-06-01T16:00Z).
const DAY = '2023-06-01';
const DAY_PERIOD = period('2023-05-31T16:00:00Z', '2023-06-01T16:00:00Z');
// The day with its neighbours, to wait for the readings booked outside the day as well.
const AROUND_DAY = period('2023-05-31T00:00:00Z', '2023-06-02T08:00:00Z');
const GRID_FACTOR = { key: 'grid:northeast', setId: 'mee-nbs-grid-2023', version: 1 };
const RESIDUAL_FACTOR = { key: 'residual:national', setId: 'mee-nbs-grid-2023', version: 1 };

let h: CarbonHarness;
let operator: grpc.Metadata;

beforeAll(async () => {
  // The runtime's consumers take about 5 s to leave their groups; the harness's default 5 s
  // shutdown deadline then cuts the stop short and leaves the relay and pools running.
  h = await startCarbonHarness('ledger_accounting', { SHUTDOWN_TIMEOUT_MS: '30000' });
  operator = await h.bearer('operator');
  // Metering creates its readings topic with its dead-letter topic; the harness stands in for
  // metering but creates only the topic.
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ name: `${h.topics.readings}.dlq`, partitions: 3 }]);
  } finally {
    await admin.disconnect();
  }
  await h.publishPark('park-ref');
  for (const enterpriseId of ['ent-ref', 'ent-sold', 'ent-redeliver', 'ent-dlq']) {
    await h.publishEnterprise(enterpriseId, 'park-ref');
  }
});
afterAll(() => h?.stop(), 60_000);

function period(start: string, end: string): park.common.v1.TimeInterval {
  return { start: new Date(start), end: new Date(end) };
}

async function footprint(
  enterpriseId: string,
  interval: park.common.v1.TimeInterval = DAY_PERIOD,
): Promise<park.carbon.v1.Footprint> {
  const answer = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
    h.client.getEnterpriseFootprint({ enterpriseId, period: interval }, operator, done),
  );
  return answer.footprint!;
}

async function ledger(
  enterpriseId: string,
  interval: park.common.v1.TimeInterval,
  meterId = '',
): Promise<park.carbon.v1.LedgerEntry[]> {
  const answer = await unary<park.carbon.v1.GetLedgerEntriesResponse>((done) =>
    h.client.getLedgerEntries(
      {
        enterpriseId,
        period: interval,
        page: { pageSize: 1000, pageToken: '' },
        meterId,
        kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
      },
      operator,
      done,
    ),
  );
  return answer.entries;
}

/** Waits until the enterprise's ledger holds exactly `count` lines in the interval. */
async function waitForEntries(
  enterpriseId: string,
  interval: park.common.v1.TimeInterval,
  count: number,
): Promise<park.carbon.v1.LedgerEntry[]> {
  return eventually(async () => {
    const entries = await ledger(enterpriseId, interval);
    if (entries.length !== count) {
      throw new Error(`${enterpriseId}: ${entries.length} ledger lines so far, expecting ${count}`);
    }
    return entries;
  }, 60_000);
}

function registerGenerator(generatorId: string, status: park.carbon.v1.AttributeStatus) {
  return unary<park.carbon.v1.RegisterGeneratorResponse>((done) =>
    h.client.registerGenerator(
      {
        generator: {
          generatorId,
          name: `${generatorId} wind farm`,
          kind: 'wind',
          capacityKw: { value: '5000' },
          attributeStatus: status,
        },
      },
      operator,
      done,
    ),
  );
}

/** Imports two 1-MWh GECs of May 2023 and retires them for the reference day. */
async function importAndRetire(
  enterpriseId: string,
  serials: [string, string],
): Promise<park.carbon.v1.RetireCertificatesResponse> {
  const imported = await unary<park.carbon.v1.ImportCertificatesResponse>((done) =>
    h.client.importCertificates(
      {
        enterpriseId,
        certificates: serials.map((serial) => ({
          serial,
          vintage: '2023-05',
          generatorId: 'gen-remote-wind',
          mwh: { value: '1' },
        })),
      },
      operator,
      done,
    ),
  );
  expect(imported).toEqual({ imported: 2, mwh: { value: '2' } });
  return unary<park.carbon.v1.RetireCertificatesResponse>((done) =>
    h.client.retireCertificates(
      { enterpriseId, serials, fromDate: DAY, toDate: DAY },
      operator,
      done,
    ),
  );
}

/** kgCO2e or kgce as shown: rounded half-even to the gram (3 decimals). */
function grams(value: park.common.v1.Decimal | undefined): string {
  return new Decimal(value!.value).toFixed(3, Decimal.ROUND_HALF_EVEN);
}

/** tce to the gram of coal equivalent (6 decimals of a tonne). */
function tceGrams(value: park.common.v1.Decimal | undefined): string {
  return new Decimal(value!.value).toFixed(6, Decimal.ROUND_HALF_EVEN);
}

function plain(figures: park.carbon.v1.Figures | undefined): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(figures ?? {}).map(([key, value]) => [
      key,
      (value as park.common.v1.Decimal | undefined)?.value,
    ]),
  );
}

function factorRefs(entry: park.carbon.v1.LedgerEntry) {
  return entry.factors.map(({ key, setId, version, value }) => ({
    key,
    setId,
    version,
    value: value?.value,
  }));
}

interface ReferenceMeters {
  /** The event id of the grid meter's ReadingsRecorded. */
  gridEventId: string;
  grid: MeterSpec;
  directLine: MeterSpec;
  pv: MeterSpec;
  gas: MeterSpec;
  heat: MeterSpec;
}

/**
 * The reference day's readings, in 15-min intervals (times UTC, park time = UTC+8):
 *   grid         16:00Z, 16:15Z (00:00 local), 02:45Z (10:45), 15:45Z (23:45): 4 x 2,500 = 10,000 kWh
 *                plus 555 kWh at 2023-05-31T15:45Z (May 31, 23:45 local) and 777 kWh at
 *                2023-06-01T16:00Z (June 2, 00:00 local): outside the day
 *   direct line  02:00Z, 02:15Z, 02:30Z (10:00-10:45 local): 3 x 1,000 = 3,000 kWh
 *   on-site PV   03:00Z 400 + 03:15Z 600 (11:00 local) = 1,000 kWh, no generator id
 *   natural gas  16:00Z 200 + 08:00Z 300 = 500 Nm3
 *   heat         00:00Z 12.5 + 00:15Z 7.5 (08:00 local) = 20 GJ
 * 15 readings, 13 of them in the day.
 */
async function bookReferenceDay(
  enterpriseId: string,
  prefix: string,
  generatorId: string,
): Promise<ReferenceMeters> {
  const meters: Omit<ReferenceMeters, 'gridEventId'> = {
    grid: meterSpec(`${prefix}-grid`, enterpriseId, 'grid'),
    directLine: meterSpec(`${prefix}-direct`, enterpriseId, 'direct_line', {
      sourceGeneratorId: generatorId,
    }),
    pv: meterSpec(`${prefix}-pv`, enterpriseId, 'pv'),
    gas: meterSpec(`${prefix}-gas`, enterpriseId, 'gas'),
    heat: meterSpec(`${prefix}-heat`, enterpriseId, 'heat'),
  };
  for (const meter of Object.values(meters)) await h.publishMeter(meter);
  const gridEventId = await h.publishReadings(meters.grid, [
    ['2023-05-31T15:45:00Z', '555'],
    ['2023-05-31T16:00:00Z', '2500'],
    ['2023-05-31T16:15:00Z', '2500'],
    ['2023-06-01T02:45:00Z', '2500'],
    ['2023-06-01T15:45:00Z', '2500'],
    ['2023-06-01T16:00:00Z', '777'],
  ]);
  await h.publishReadings(meters.directLine, [
    ['2023-06-01T02:00:00Z', '1000'],
    ['2023-06-01T02:15:00Z', '1000'],
    ['2023-06-01T02:30:00Z', '1000'],
  ]);
  await h.publishReadings(meters.pv, [
    ['2023-06-01T03:00:00Z', '400'],
    ['2023-06-01T03:15:00Z', '600'],
  ]);
  await h.publishReadings(meters.gas, [
    ['2023-05-31T16:00:00Z', '200'],
    ['2023-06-01T08:00:00Z', '300'],
  ]);
  await h.publishReadings(meters.heat, [
    ['2023-06-01T00:00:00Z', '12.5'],
    ['2023-06-01T00:15:00Z', '7.5'],
  ]);
  await waitForEntries(enterpriseId, AROUND_DAY, 15);
  return { ...meters, gridEventId };
}

describe('the reference day, direct line attributes retained', () => {
  let meters: ReferenceMeters;

  it('books Scope 1, both Scope 2 methods, tce, renewable share and CFE as computed by hand', async () => {
    // The generator is registered before its power is booked: its status is read at booking.
    const registered = await registerGenerator(
      'gen-line-kept',
      v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED,
    );
    expect(registered.generator?.attributeStatus).toBe(
      v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED,
    );
    meters = await bookReferenceDay('ent-ref', 'ref', 'gen-line-kept');

    // The retirement is checked against the day's grid electricity: 4 x 2,500 = 10,000 kWh
    // (the 555 and 777 kWh lie on May 31 and June 2 in park time).
    const retired = await importAndRetire('ent-ref', [
      'GEC-202305-REF-0001',
      'GEC-202305-REF-0002',
    ]);
    expect(retired).toEqual({ retiredMwh: { value: '2' }, gridKwh: { value: '10000' } });

    const day = await footprint('ent-ref');
    // Scope 1: 500 Nm3 x 2.162188809 kg/Nm3 = 1,081.0944045 kg -> 1,081.094 (next digit 4: down).
    expect(day.scope1Kgco2e?.value).toBe('1081.0944045');
    expect(grams(day.scope1Kgco2e)).toBe('1081.094');
    expect(day.scope1ByFuel).toEqual([{ fuel: 'natural_gas', kgco2e: { value: '1081.0944045' } }]);
    // Scope 2 location: grid 10,000 x 0.5122 = 5,122 + heat 20 GJ x 0.11 t/GJ x 1000 = 2,200
    // -> 7,322 kg. Direct line and PV are not drawn from the grid: nothing.
    expect(day.scope2LocationKgco2e?.value).toBe('7322');
    expect(grams(day.scope2LocationKgco2e)).toBe('7322.000');
    // Scope 2 market: the 2 MWh of certificates cover 2,000 of the 10,000 grid kWh; the rest
    // takes the residual factor: (10,000 - 2,000) x 0.6096 = 4,876.8, + heat 2,200 = 7,076.8 kg.
    // Direct line (retained) and own PV count as zero.
    expect(day.scope2MarketKgco2e?.value).toBe('7076.8');
    expect(grams(day.scope2MarketKgco2e)).toBe('7076.800');
    expect(day.certificateKwh?.value).toBe('2000');
    // Energy: electricity (10,000 + 3,000 + 1,000) x 0.1229 = 1,720.6 kgce, whatever the source;
    // heat 20,000 MJ x 0.03412 = 682.4 kgce; gas 500 x 38.931 = 19,465.5 MJ / 29.3076 =
    // 664.17925... kgce (29.3076 x 664 = 19,460.2464, remainder 5.2536 / 29.3076 = 0.17925...).
    // Total 1,720.6 + 682.4 + 664.17925... = 3,067.17925... kgce -> 3.067179 tce to the gram of
    // coal equivalent (next digit 2: down).
    expect(tceGrams(day.energyTce)).toBe('3.067179');
    expect(grams(day.figures?.energyKgce)).toBe('3067.179');
    expect(
      day.energy.map((entry) => [
        entry.commodity,
        entry.unit,
        entry.quantity?.value,
        grams(entry.energyKgce),
      ]),
    ).toEqual([
      ['electricity', 'kWh', '14000', '1720.600'],
      ['heat', 'GJ', '20', '682.400'],
      ['natural_gas', 'Nm3', '500', '664.179'],
    ]);
    // Renewable share: (direct line 3,000 + PV 1,000 + certificates 2,000) / 14,000 = 3/7
    // = 0.428571 428571 ..., 34 significant digits, the 35th a 7: ...714286.
    expect(day.renewableShare?.value).toBe('0.4285714285714285714285714285714286');
    // CFE, per park hour: min(carbon-free, consumption) over consumption, certificates left out:
    //   00:00  grid 5,000                    consumption 5,000  matched     0
    //   10:00  direct 3,000 + grid 2,500     consumption 5,500  matched 3,000
    //   11:00  PV 1,000                      consumption 1,000  matched 1,000
    //   23:00  grid 2,500                    consumption 2,500  matched     0
    // 4,000 / 14,000 = 2/7 = 0.285714 285714 ... (35th digit 1: down).
    expect(day.cfeScore?.value).toBe('0.2857142857142857142857142857142857');
    // Energy at full precision is checked rounded above.
    const { energyKgce: _energy, ...figures } = plain(day.figures);
    expect(figures).toEqual({
      electricityKwh: '14000',
      gridKwh: '10000',
      // 3,000 + 1,000 metered + 2,000 covered by certificates
      renewableKwh: '6000',
      carbonFreeKwh: '4000',
      scope1Kgco2e: '1081.0944045',
      scope2LocationKgco2e: '7322',
      scope2MarketKgco2e: '7076.8',
    });
    expect(plain(day.priorPeriodAdjustments)).toEqual({
      energyKgce: '0',
      electricityKwh: '0',
      gridKwh: '0',
      renewableKwh: '0',
      carbonFreeKwh: '0',
      scope1Kgco2e: '0',
      scope2LocationKgco2e: '0',
      scope2MarketKgco2e: '0',
    });
    expect(day.closed).toBe(false);

    // The certificates' line: 2,000 kWh off the residual factor, 2,000 x 0.6096 = 1,219.2 kg.
    const coverage = (await ledger('ent-ref', DAY_PERIOD)).filter(
      (entry) => entry.kind === v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE,
    );
    expect(coverage).toHaveLength(1);
    expect(coverage[0]).toMatchObject({
      cause: 'certificates',
      certificateSerials: ['GEC-202305-REF-0001', 'GEC-202305-REF-0002'],
      quantity: { value: '2000' },
    });
    expect(coverage[0]!.figures?.scope2MarketKgco2e?.value).toBe('-1219.2');
    expect(factorRefs(coverage[0]!)).toEqual([{ ...RESIDUAL_FACTOR, value: '0.6096' }]);
  });

  it('restates the totals by exactly the correction times its factors, traced in the ledger', async () => {
    // Metering corrects the grid interval 02:45Z from 2,500 to 2,600 kWh: +100 kWh.
    const correctionId = await h.publishCorrection(
      meters.grid,
      '2023-06-01T02:45:00Z',
      '2500',
      '2600',
    );
    const interval = period('2023-06-01T02:45:00Z', '2023-06-01T03:00:00Z');
    const entries = await eventually(async () => {
      const lines = await ledger('ent-ref', interval, 'ref-grid');
      if (lines.length !== 3) throw new Error(`${lines.length} lines for the corrected interval`);
      return lines;
    }, 60_000);

    const day = await footprint('ent-ref');
    // Location: 7,322 + 100 x 0.5122 = 7,322 + 51.22 = 7,373.22 kg.
    expect(day.scope2LocationKgco2e?.value).toBe('7373.22');
    // Market: 7,076.8 + 100 x 0.6096 = 7,076.8 + 60.96 = 7,137.76 kg (certificates unchanged).
    expect(day.scope2MarketKgco2e?.value).toBe('7137.76');
    // Energy: + 100 x 0.1229 = 12.29 kgce: 3,067.17925... + 12.29 = 3,079.46925... kgce.
    expect(tceGrams(day.energyTce)).toBe('3.079469');
    expect(day.figures?.electricityKwh?.value).toBe('14100');
    expect(day.figures?.gridKwh?.value).toBe('10100');
    // Scope 1 untouched.
    expect(day.scope1Kgco2e?.value).toBe('1081.0944045');

    // The trace: the reading's posting, then the correction's reversal and new posting, each
    // naming the meter, the interval and the factor set version.
    const trace = entries.map((entry) => ({
      kind: entry.kind,
      cause: entry.cause,
      source: entry.source,
      meterId: entry.meterId,
      intervalStart: entry.intervalStart?.toISOString(),
      quantity: entry.quantity?.value,
      quality: entry.quality,
      energyKgce: entry.figures?.energyKgce?.value,
      location: entry.figures?.scope2LocationKgco2e?.value,
      market: entry.figures?.scope2MarketKgco2e?.value,
      factors: factorRefs(entry),
      priorPeriod: entry.priorPeriodAdjustment,
    }));
    const common = {
      meterId: 'ref-grid',
      intervalStart: '2023-06-01T02:45:00.000Z',
      factors: [
        { ...GRID_FACTOR, value: '0.5122' },
        { ...RESIDUAL_FACTOR, value: '0.6096' },
      ],
      priorPeriod: false,
    };
    expect(trace).toEqual([
      // 2,500 x 0.1229 = 307.25 kgce; x 0.5122 = 1,280.5 kg; x 0.6096 = 1,524 kg.
      {
        ...common,
        kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
        cause: 'reading',
        source: meters.gridEventId,
        quantity: '2500',
        quality: 'measured',
        energyKgce: '307.25',
        location: '1280.5',
        market: '1524',
      },
      {
        ...common,
        kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_REVERSAL,
        cause: 'correction',
        source: correctionId,
        quantity: '-2500',
        quality: 'measured',
        energyKgce: '-307.25',
        location: '-1280.5',
        market: '-1524',
      },
      // 2,600 x 0.1229 = 319.54 kgce; x 0.5122 = 1,331.72 kg; x 0.6096 = 1,584.96 kg.
      {
        ...common,
        kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
        cause: 'correction',
        source: correctionId,
        quantity: '2600',
        quality: 'edited',
        energyKgce: '319.54',
        location: '1331.72',
        market: '1584.96',
      },
    ]);
    // Reversal + new posting = exactly the correction: 1,331.72 - 1,280.5 = 51.22 and
    // 1,584.96 - 1,524 = 60.96.
  });
});

describe('the reference day, direct line attributes sold', () => {
  it('moves the direct-line 3,000 kWh to the residual factor and leaves the certificates out of CFE', async () => {
    await registerGenerator('gen-line-sold', v1.AttributeStatus.ATTRIBUTE_STATUS_SOLD);
    await bookReferenceDay('ent-sold', 'sold', 'gen-line-sold');
    const retired = await importAndRetire('ent-sold', [
      'GEC-202305-SOLD-0001',
      'GEC-202305-SOLD-0002',
    ]);
    expect(retired).toEqual({ retiredMwh: { value: '2' }, gridKwh: { value: '10000' } });

    const day = await footprint('ent-sold');
    // Market: the retained day's 7,076.8 kg + 3,000 x 0.6096 = 1,828.8 kg = 8,905.6 kg; in full,
    // (10,000 - 2,000) x 0.6096 = 4,876.8 + 3,000 x 0.6096 = 1,828.8 + heat 2,200 = 8,905.6.
    expect(day.scope2MarketKgco2e?.value).toBe('8905.6');
    expect(grams(day.scope2MarketKgco2e)).toBe('8905.600');
    // Location, Scope 1 and energy do not depend on attributes.
    expect(day.scope2LocationKgco2e?.value).toBe('7322');
    expect(day.scope1Kgco2e?.value).toBe('1081.0944045');
    expect(tceGrams(day.energyTce)).toBe('3.067179');
    // Renewable: PV 1,000 + certificates 2,000 = 3,000 / 14,000 = 3/14 = 0.2 142857 142857 ...
    // (35th digit 8: up, ...143).
    expect(day.renewableShare?.value).toBe('0.2142857142857142857142857142857143');
    // CFE per park hour; the sold direct line is not carbon-free, certificates never count:
    //   00:00  grid 5,000                    consumption 5,000  matched     0
    //   10:00  direct 3,000 + grid 2,500     consumption 5,500  matched     0
    //   11:00  PV 1,000                      consumption 1,000  matched 1,000
    //   23:00  grid 2,500                    consumption 2,500  matched     0
    // 1,000 / 14,000 = 1/14 = 0.0 714285 714285 ... (35th significant digit 8: up, ...143).
    expect(day.cfeScore?.value).toBe('0.07142857142857142857142857142857143');
    expect(day.figures?.carbonFreeKwh?.value).toBe('1000');

    // Each direct-line interval: 1,000 kWh x 0.6096 = 609.6 kg at the residual factor.
    const direct = await ledger('ent-sold', DAY_PERIOD, 'sold-direct');
    expect(
      direct.map((entry) => [
        entry.intervalStart?.toISOString(),
        entry.category,
        entry.figures?.scope2MarketKgco2e?.value,
        entry.figures?.scope2LocationKgco2e?.value,
        entry.figures?.renewableKwh?.value,
      ]),
    ).toEqual([
      ['2023-06-01T02:00:00.000Z', 'direct_line_electricity', '609.6', '0', '0'],
      ['2023-06-01T02:15:00.000Z', 'direct_line_electricity', '609.6', '0', '0'],
      ['2023-06-01T02:30:00.000Z', 'direct_line_electricity', '609.6', '0', '0'],
    ]);
    expect(direct.map(factorRefs)).toEqual(
      Array(3).fill([{ ...RESIDUAL_FACTOR, value: '0.6096' }]),
    );
  });
});

describe('redelivered metering events', () => {
  it('change nothing, whether redelivered with the same event id or repeated under a new one', async () => {
    const grid = meterSpec('redeliver-grid', 'ent-redeliver', 'grid');
    await h.publishMeter(grid);
    const readings = metering.ReadingsRecorded.encode({
      meter: {
        meterId: grid.meterId,
        enterpriseId: grid.enterpriseId,
        commodity: grid.commodity,
        role: grid.role,
        unit: grid.unit,
        intervalMinutes: 15,
        sourceGeneratorId: '',
        sourceEntityId: '',
      },
      readings: [
        ['2023-06-01T05:00:00Z', '100'],
        ['2023-06-01T05:15:00Z', '200'],
      ].map(([start, value]) => ({
        intervalStart: new Date(start!),
        value: { value: value! },
        quality: metering.Quality.QUALITY_MEASURED,
        source: 'gateway:test',
      })),
    }).finish();
    const publish = (id: string) =>
      h.publish(h.topics.readings, grid.meterId, 'park.metering.v1.ReadingsRecorded', readings, id);

    await publish('redeliver-evt-1');
    await waitForEntries('ent-redeliver', DAY_PERIOD, 2);
    const before = await footprint('ent-redeliver');
    // 300 kWh: x 0.5122 = 153.66 kg location, x 0.6096 = 182.88 kg market, x 0.1229 = 36.87 kgce.
    expect([
      before.figures?.electricityKwh?.value,
      before.scope2LocationKgco2e?.value,
      before.scope2MarketKgco2e?.value,
      before.figures?.energyKgce?.value,
    ]).toEqual(['300', '153.66', '182.88', '36.87']);

    // The same event again (a relay's redelivery), then the same values under a new id (a
    // repeated upload), then a new reading on the same meter: same key, same partition, so
    // once that one is booked the two before it have been handled.
    await publish('redeliver-evt-1');
    await publish('redeliver-evt-2');
    const nextId = await h.publishReadings(grid, [['2023-06-01T05:30:00Z', '50']]);
    const entries = await waitForEntries('ent-redeliver', DAY_PERIOD, 3);

    // Only the new 50 kWh were added: 350 kWh, 153.66 + 50 x 0.5122 = 25.61 -> 179.27 kg
    // location, 182.88 + 50 x 0.6096 = 30.48 -> 213.36 kg market.
    const after = await footprint('ent-redeliver');
    expect([
      after.figures?.electricityKwh?.value,
      after.scope2LocationKgco2e?.value,
      after.scope2MarketKgco2e?.value,
    ]).toEqual(['350', '179.27', '213.36']);
    expect(entries.map((entry) => [entry.kind, entry.source, entry.quantity?.value])).toEqual([
      [v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING, 'redeliver-evt-1', '100'],
      [v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING, 'redeliver-evt-1', '200'],
      [v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING, nextId, '50'],
    ]);
    // The new id was applied (it is in the inbox) and booked nothing; the redelivery of the
    // first id was recognised before it reached the ledger.
    const { rows } = await h.db.pool.query<{ message_id: string; n: number }>(
      `SELECT message_id, count(*)::int AS n FROM inbox
       WHERE message_id IN ('redeliver-evt-1', 'redeliver-evt-2') GROUP BY message_id ORDER BY 1`,
    );
    expect(rows).toEqual([
      { message_id: 'redeliver-evt-1', n: 1 },
      { message_id: 'redeliver-evt-2', n: 1 },
    ]);
  });
});

describe('bad reading records', () => {
  it('go to the dead-letter topic at once and write nothing', async () => {
    const grid = meterSpec('dlq-grid', 'ent-dlq', 'grid');
    await h.publishMeter(grid);
    // Field 1 (the meter descriptor) claiming a length far beyond the payload.
    await h.publish(
      h.topics.readings,
      grid.meterId,
      'park.metering.v1.ReadingsRecorded',
      Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      'dlq-evt-undecodable',
    );
    // A commodity this service does not know (99).
    await h.publish(
      h.topics.readings,
      grid.meterId,
      'park.metering.v1.ReadingsRecorded',
      metering.ReadingsRecorded.encode({
        meter: {
          meterId: grid.meterId,
          enterpriseId: grid.enterpriseId,
          commodity: 99 as park.metering.v1.Commodity,
          role: grid.role,
          unit: grid.unit,
          intervalMinutes: 15,
          sourceGeneratorId: '',
          sourceEntityId: '',
        },
        readings: [
          {
            intervalStart: new Date('2023-06-01T06:00:00Z'),
            value: { value: '10' },
            quality: metering.Quality.QUALITY_MEASURED,
            source: 'gateway:test',
          },
        ],
      }).finish(),
      'dlq-evt-commodity',
    );
    // A good reading behind them on the same partition: the consumer moves on.
    const goodId = await h.publishReadings(grid, [['2023-06-01T06:15:00Z', '10']]);

    const dlq = `${h.topics.readings}.dlq`;
    const deadLetters = await eventually(async () => {
      const records = await readTopic(h.kafka, dlq);
      if (records.length < 2) throw new Error(`${records.length} dead letters so far`);
      return records;
    }, 60_000);
    expect(
      deadLetters
        .map((record) => ({
          id: record.headers[CE.id],
          key: record.key,
          originalTopic: record.headers[DLQ.originalTopic],
          errorType: record.headers[DLQ.errorType],
          // Bad input is not retried: dead-lettered at the first attempt.
          attempts: record.headers[DLQ.attempts],
        }))
        .sort((a, b) => a.id!.localeCompare(b.id!)),
    ).toEqual([
      {
        id: 'dlq-evt-commodity',
        key: 'dlq-grid',
        originalTopic: h.topics.readings,
        errorType: 'PermanentMessageError',
        attempts: '1',
      },
      {
        id: 'dlq-evt-undecodable',
        key: 'dlq-grid',
        originalTopic: h.topics.readings,
        errorType: 'PermanentMessageError',
        attempts: '1',
      },
    ]);
    const commodityError = deadLetters.find((r) => r.headers[CE.id] === 'dlq-evt-commodity');
    expect(commodityError?.headers[DLQ.error]).toContain('unknown commodity 99');

    // Only the good reading reached the ledger: 10 kWh x 0.5122 = 5.122 kg.
    const entries = await waitForEntries('ent-dlq', DAY_PERIOD, 1);
    expect(entries[0]).toMatchObject({ source: goodId, quantity: { value: '10' } });
    expect((await footprint('ent-dlq')).scope2LocationKgco2e?.value).toBe('5.122');
    const { rows } = await h.db.pool.query<{ lines: number; inbox: number }>(
      `SELECT (SELECT count(*)::int FROM ledger_lines WHERE source = ANY($1)) AS lines,
              (SELECT count(*)::int FROM inbox WHERE message_id = ANY($1)) AS inbox`,
      [['dlq-evt-undecodable', 'dlq-evt-commodity']],
    );
    // Nothing booked, and no inbox row: a replay from the dead-letter topic is applied afresh.
    expect(rows).toEqual([{ lines: 0, inbox: 0 }]);
  });
});
