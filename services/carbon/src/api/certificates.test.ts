import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { eventually, failure, readTopic, unary } from '@park/testing';
import { meterSpec, startCarbonHarness, type CarbonHarness } from '../test-support/harness';

/**
 * Certificates through gRPC against the running service: a retirement covers grid MWh of its
 * period at the residual factor; a double retirement, an over-retirement and an import of a
 * serial another enterprise holds are FAILED_PRECONDITION and change nothing.
 */

jest.setTimeout(120_000);

const v1 = park.carbon.v1;

// One park day, 2023-06-15 in Asia/Shanghai (UTC+8): [2023-06-14T16:00Z, 2023-06-15T16:00Z).
const DAY = '2023-06-15';
const DAY_PERIOD = {
  start: new Date('2023-06-14T16:00:00Z'),
  end: new Date('2023-06-15T16:00:00Z'),
};
// GEC serials: 1 certificate = 1 MWh, generated in May 2023 (one month before the day).
const GEC = (n: number) => `GEC-2023-05-WND-000${n}`;

let h: CarbonHarness;
let ent1: grpc.Metadata;
let ent2: grpc.Metadata;
let operator: grpc.Metadata;

beforeAll(async () => {
  h = await startCarbonHarness('certificates_api');
  ent1 = await h.bearer('enterprise', 'ent-1');
  ent2 = await h.bearer('enterprise', 'ent-2');
  operator = await h.bearer('operator');
  await h.publishPark('park-1');
  await h.publishEnterprise('ent-1', 'park-1');
  await h.publishEnterprise('ent-2', 'park-1');
  const grid = meterSpec('m-grid-1', 'ent-1', 'grid');
  await h.publishMeter(grid);
  // Three 15-min intervals at 10:00, 10:15 and 10:30 park time, 1,000 kWh each: 3,000 kWh.
  await h.publishReadings(grid, [
    ['2023-06-15T02:00:00Z', '1000'],
    ['2023-06-15T02:15:00Z', '1000'],
    ['2023-06-15T02:30:00Z', '1000'],
  ]);
  await eventually(async () => {
    const footprint = await footprintOf();
    if (footprint.figures?.gridKwh?.value !== '3000') {
      throw new Error(`grid kWh so far: ${footprint.figures?.gridKwh?.value}`);
    }
  }, 30_000);
});
afterAll(() => h?.stop());

async function footprintOf(): Promise<park.carbon.v1.Footprint> {
  const answer = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
    h.client.getEnterpriseFootprint({ enterpriseId: 'ent-1', period: DAY_PERIOD }, ent1, done),
  );
  return answer.footprint!;
}

async function ledgerOf(
  kind = v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
): Promise<park.carbon.v1.LedgerEntry[]> {
  const answer = await unary<park.carbon.v1.GetLedgerEntriesResponse>((done) =>
    h.client.getLedgerEntries(
      { enterpriseId: 'ent-1', period: DAY_PERIOD, page: undefined, meterId: '', kind },
      ent1,
      done,
    ),
  );
  return answer.entries;
}

function retire(md: grpc.Metadata, serials: string[], enterpriseId = 'ent-1') {
  return unary<park.carbon.v1.RetireCertificatesResponse>((done) =>
    h.client.retireCertificates({ enterpriseId, serials, fromDate: DAY, toDate: DAY }, md, done),
  );
}

function importCertificates(md: grpc.Metadata, enterpriseId: string, serials: string[]) {
  return unary<park.carbon.v1.ImportCertificatesResponse>((done) =>
    h.client.importCertificates(
      {
        enterpriseId,
        certificates: serials.map((serial) => ({
          serial,
          vintage: '2023-05',
          generatorId: 'gen-wind-1',
          mwh: { value: '1' },
        })),
      },
      md,
      done,
    ),
  );
}

/** Everything a refused command must leave as it was. */
async function snapshot() {
  const { rows: certificates } = await h.db.pool.query<{
    serial: string;
    enterprise_id: string;
    retired: string | null;
  }>(
    `SELECT serial, enterprise_id, retired_from::text || '/' || retired_to::text AS retired
     FROM certificates ORDER BY serial`,
  );
  const { rows: events } = await h.db.pool.query<{ count: string }>(
    'SELECT count(*)::text AS count FROM events',
  );
  return {
    footprint: await footprintOf(),
    ledger: await ledgerOf(),
    ent1Stream: await h.db.store.streamVersion('certificates-ent-1'),
    ent2Stream: await h.db.store.streamVersion('certificates-ent-2'),
    certificates,
    storedEvents: events[0]!.count,
  };
}

describe('certificates: retirement against the grid electricity of the period', () => {
  let afterFirstRetirement: Awaited<ReturnType<typeof snapshot>>;

  it('imports four 1-MWh GECs and retires two of them for the day', async () => {
    const imported = await importCertificates(ent1, 'ent-1', [1, 2, 3, 4].map(GEC));
    // 4 certificates x 1 MWh = 4 MWh.
    expect(imported).toEqual({ imported: 4, mwh: { value: '4' } });

    const retired = await retire(ent1, [GEC(1), GEC(2)]);
    // 2 x 1 MWh; checked against the day's grid electricity 3 x 1,000 kWh = 3,000 kWh.
    expect(retired).toEqual({ retiredMwh: { value: '2' }, gridKwh: { value: '3000' } });

    const footprint = await footprintOf();
    // Location-based: 3,000 kWh x 0.5122 kg/kWh (Northeast 2023) = 1,536.6 kg, untouched.
    expect(footprint.scope2LocationKgco2e?.value).toBe('1536.6');
    // Covered: 2 MWh x 1,000 = 2,000 kWh.
    expect(footprint.certificateKwh?.value).toBe('2000');
    // Market-based: 3,000 x 0.6096 (residual 2023) = 1,828.8 kg, less the covered
    // 2,000 x 0.6096 = 1,219.2 kg: 609.6 kg.
    expect(footprint.scope2MarketKgco2e?.value).toBe('609.6');
    // Renewable share 2,000 / 3,000 = 2/3, at 34 significant digits (half-even).
    expect(footprint.renewableShare?.value).toBe('0.6666666666666666666666666666666667');
    // Certificates do not count in hourly matching: no carbon-free kWh metered in the hour.
    expect(footprint.cfeScore?.value).toBe('0');

    const ledger = await ledgerOf();
    // Three reading postings and one certificate coverage line.
    expect(ledger.map((entry) => entry.kind)).toEqual([
      v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE, // booked at the day's start
      v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
      v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
      v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
    ]);
    const coverage = ledger[0]!;
    expect(coverage).toMatchObject({
      cause: 'certificates',
      intervalStart: DAY_PERIOD.start,
      quantity: { value: '2000' },
      unit: 'kWh',
      certificateSerials: [GEC(1), GEC(2)],
      figures: expect.objectContaining({
        renewableKwh: { value: '2000' },
        // -(2,000 x 0.6096) = -1,219.2 kg.
        scope2MarketKgco2e: { value: '-1219.2' },
      }),
    });
    expect(coverage.factors).toEqual([
      expect.objectContaining({
        key: 'residual:national',
        setId: 'mee-nbs-grid-2023',
        version: 1,
        value: { value: '0.6096' },
      }),
    ]);
    // Asked for that kind alone (a dashboard listing retirements), the ledger gives that line only.
    expect(await ledgerOf(v1.LedgerEntryKind.LEDGER_ENTRY_KIND_CERTIFICATE_COVERAGE)).toEqual([
      coverage,
    ]);

    afterFirstRetirement = await snapshot();
    // The book's stream: CertificatesImported, CertificatesRetired.
    expect(afterFirstRetirement.ent1Stream).toBe(2);
    expect(afterFirstRetirement.certificates).toEqual([
      { serial: GEC(1), enterprise_id: 'ent-1', retired: `${DAY}/${DAY}` },
      { serial: GEC(2), enterprise_id: 'ent-1', retired: `${DAY}/${DAY}` },
      { serial: GEC(3), enterprise_id: 'ent-1', retired: null },
      { serial: GEC(4), enterprise_id: 'ent-1', retired: null },
    ]);
  });

  it('refuses a double retirement of the same serial, naming it, and changes nothing', async () => {
    const again = await failure(retire(ent1, [GEC(1)]));
    expect(again.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(again.details).toContain(`GEC ${GEC(1)} was already retired for ${DAY}/${DAY}`);

    // With an unretired serial beside it: nothing is retired, not even the good one.
    const mixed = await failure(retire(ent1, [GEC(3), GEC(1)]));
    expect(mixed.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(mixed.details).toContain(GEC(1));
    expect(mixed.details).not.toContain(GEC(3));

    // Operators are held to the same rule.
    const byOperator = await failure(retire(operator, [GEC(2)]));
    expect(byOperator.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(byOperator.details).toContain(GEC(2));

    expect(await snapshot()).toEqual(afterFirstRetirement);
  });

  it('refuses an over-retirement beyond the day grid MWh and changes nothing', async () => {
    // Already retired 2 MWh + 2 MWh now = 4 MWh = 4,000 kWh > 3,000 kWh / 1,000 = 3 MWh.
    const over = await failure(retire(ent1, [GEC(3), GEC(4)]));
    expect(over.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(over.details).toContain('over-retirement');
    expect(over.details).toContain('(2 MWh before, 2 MWh now) would cover 4000 kWh of 3000 kWh');

    expect(await snapshot()).toEqual(afterFirstRetirement);
  });

  it('refuses to import a serial another enterprise holds, and changes nothing', async () => {
    // GEC 1 is ent-1's and retired, GEC 3 ent-1's and not retired; GEC 9 is new.
    const taken = await failure(importCertificates(ent2, 'ent-2', [GEC(9), GEC(1), GEC(3)]));
    expect(taken.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(taken.details).toContain(`GEC ${GEC(1)} is already held by another enterprise`);
    expect(taken.details).toContain(`GEC ${GEC(3)} is already held by another enterprise`);
    expect(taken.details).not.toContain(GEC(9));

    // ent-1 importing its own serial again is refused too.
    const own = await failure(importCertificates(ent1, 'ent-1', [GEC(4)]));
    expect(own.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(own.details).toContain(`GEC ${GEC(4)} is already held by enterprise ent-1`);

    const after = await snapshot();
    expect(after).toEqual(afterFirstRetirement);
    expect(after.ent2Stream).toBe(0);
  });

  it('still retires up to exactly the day grid MWh after the refusals', async () => {
    // 2 MWh retired + 1 MWh = 3 MWh = 3,000 kWh: equal to the grid electricity, allowed.
    const retired = await retire(ent1, [GEC(3)]);
    expect(retired).toEqual({ retiredMwh: { value: '1' }, gridKwh: { value: '3000' } });
    const footprint = await footprintOf();
    // 3,000 kWh covered: 1,828.8 - 3,000 x 0.6096 = 1,828.8 - 1,828.8 = 0 kg market-based.
    expect(footprint.certificateKwh?.value).toBe('3000');
    expect(footprint.scope2MarketKgco2e?.value).toBe('0');
    // 3,000 / 3,000.
    expect(footprint.renewableShare?.value).toBe('1');
    // Location-based still 1,536.6 kg.
    expect(footprint.scope2LocationKgco2e?.value).toBe('1536.6');

    // The 4th MWh has nothing left to cover: 3 + 1 = 4 MWh > 3 MWh.
    const last = await failure(retire(ent1, [GEC(4)]));
    expect(last.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(last.details).toContain('would cover 4000 kWh of 3000 kWh');
  });

  it('publishes each accepted retirement, and no refused one, on the emissions topic', async () => {
    const coverage = await eventually(async () => {
      const records = await readTopic(h.kafka, h.topics.emissions);
      const messages = records
        .filter((record) => record.headers.ce_type === 'park.carbon.v1.HourlyEmissionsAccounted')
        .map((record) => ({
          key: record.key,
          message: v1.HourlyEmissionsAccounted.decode(record.value!),
        }))
        .filter(({ message }) => message.cause === 'certificates');
      if (messages.length < 2) throw new Error(`${messages.length} certificate messages so far`);
      return messages;
    }, 30_000);
    // Two accepted retirements (GEC 1+2, then GEC 3); the five refused commands left no trace.
    expect(
      coverage.map(({ key, message }) => ({
        key,
        hours: message.hours.map((hour) => ({
          hourStart: hour.hourStart,
          renewableKwh: hour.change?.renewableKwh?.value,
          scope2MarketKgco2e: hour.change?.scope2MarketKgco2e?.value,
        })),
      })),
    ).toEqual([
      // 2 MWh: -(2,000 kWh x 0.6096) = -1,219.2 kg in the day's first hour (00:00 park time).
      {
        key: 'ent-1',
        hours: [
          { hourStart: DAY_PERIOD.start, renewableKwh: '2000', scope2MarketKgco2e: '-1219.2' },
        ],
      },
      // 1 MWh: -(1,000 x 0.6096) = -609.6 kg.
      {
        key: 'ent-1',
        hours: [
          { hourStart: DAY_PERIOD.start, renewableKwh: '1000', scope2MarketKgco2e: '-609.6' },
        ],
      },
    ]);
  });
});
