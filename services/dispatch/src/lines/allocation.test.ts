import { park } from '@park/contracts';
import { Dec } from '@park/domain-primitives';
import { eventually, meterSpec, readTopic, unary, type MeterSpec } from '@park/testing';
import type * as grpc from '@grpc/grpc-js';
import type { LineAllocation } from '../allocation';
import { dec, registerPv } from '../test-support/dispatch-fixtures';
import { startDispatchHarness, type DispatchHarness } from '../test-support/harness';

/**
 * Green direct-line allocation against the running service: topology through gRPC, the
 * metering registry and readings on Kafka (the stand-in for metering's relay), the results on
 * `park.dispatch.green-allocations.v1` and in `line_allocations`. Every figure is worked out by
 * hand in the comments (DESIGN.md, Dispatch: green direct-line allocation).
 */

jest.setTimeout(120_000);

const v1 = park.dispatch.v1;
const metering = park.metering.v1;
const PARK = 'park-1';

// 12:00, 12:15, 12:30 and 12:45 park time (UTC+8) on 2026-06-01, and 14:00 for the sentinel.
const T1 = '2026-06-01T04:00:00.000Z';
const T2 = '2026-06-01T04:15:00.000Z';
const T3 = '2026-06-01T04:30:00.000Z';
const T4 = '2026-06-01T04:45:00.000Z';
const T_SENTINEL = '2026-06-01T06:00:00.000Z';

const withRole = (role: park.metering.v1.MeterRole) => ({ role });
const M = {
  // line-1: priority case (A first, then B), with storage-charge and feed-in meters.
  line1: meterSpec('m-line-1', 'gen-co', 'pv', { sourceGeneratorId: 'pv-1' }),
  store1: meterSpec(
    'm-store-1',
    'gen-co',
    'pv',
    withRole(metering.MeterRole.METER_ROLE_STORAGE_CHARGE),
  ),
  export1: meterSpec(
    'm-export-1',
    'gen-co',
    'pv',
    withRole(metering.MeterRole.METER_ROLE_GRID_EXPORT),
  ),
  a: meterSpec('m-a', 'ent-a', 'direct_line', { sourceGeneratorId: 'pv-1' }),
  b: meterSpec('m-b', 'ent-b', 'direct_line', { sourceGeneratorId: 'pv-1' }),
  // line-2: pro-rata case (C and D share priority 1, shares 0.6 and 0.4), no storage or export.
  line2: meterSpec('m-line-2', 'gen-co', 'pv', { sourceGeneratorId: 'pv-1' }),
  c: meterSpec('m-c', 'ent-c', 'direct_line', { sourceGeneratorId: 'pv-1' }),
  d: meterSpec('m-d', 'ent-d', 'direct_line', { sourceGeneratorId: 'pv-1' }),
  // On no line at all.
  gridA: meterSpec('m-grid-a', 'ent-a', 'grid'),
} satisfies Record<string, MeterSpec>;

let h: DispatchHarness;
let operator: grpc.Metadata;

const query = async <T extends object>(sql: string, params: unknown[] = []): Promise<T[]> =>
  (await h.db.pool.query<T>(sql, params)).rows;

async function allocations(): Promise<
  { line_id: string; interval_start: string; revision: number; result: LineAllocation }[]
> {
  return query(
    `SELECT line_id, to_char(interval_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS interval_start,
       revision::int AS revision, result
     FROM line_allocations ORDER BY line_id, interval_start`,
  );
}

async function lineEventCount(): Promise<number> {
  const [row] = await query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'line-%'`,
  );
  return row!.n;
}

async function meteredValue(meterId: string, at: string): Promise<string | undefined> {
  const [row] = await query<{ value: string }>(
    'SELECT value::text AS value FROM metered_values WHERE meter_id = $1 AND interval_start = $2',
    [meterId, at],
  );
  return row?.value;
}

/** Waits until the readings consumer has stored each (meter, interval, value). */
async function stored(expected: [MeterSpec, string, string][]): Promise<void> {
  await eventually(async () => {
    for (const [meter, at, value] of expected) {
      const actual = await meteredValue(meter.meterId, at);
      if (actual === undefined || !new Dec(actual).eq(value)) {
        throw new Error(`${meter.meterId} at ${at}: ${actual} (want ${value})`);
      }
    }
  }, 30_000);
}

interface GreenRecord {
  key: string | null;
  type: string | undefined;
  lineId: string;
  enterpriseId: string;
  meterId: string;
  intervalStart: string;
  revision: number;
  allocatedKwh: string;
  lineMeteredKwh: string;
}

async function greenRecords(): Promise<GreenRecord[]> {
  const records = await readTopic(h.kafka, `${h.prefix}park.dispatch.green-allocations.v1`);
  return records.map((record) => {
    const event = v1.GreenPowerAllocated.decode(record.value!);
    expect(event.parkId).toBe(PARK);
    expect(event.generatorId).toBe('pv-1');
    expect(event.intervalMinutes).toBe(15);
    return {
      key: record.key,
      type: record.headers.ce_type,
      lineId: event.lineId,
      enterpriseId: event.enterpriseId,
      meterId: event.meterId,
      intervalStart: event.intervalStart!.toISOString(),
      revision: Number(event.revision),
      allocatedKwh: event.allocatedKwh!.value,
      lineMeteredKwh: event.lineMeteredKwh!.value,
    };
  });
}

const byIdentity = (a: GreenRecord, b: GreenRecord) =>
  a.lineId.localeCompare(b.lineId) ||
  a.intervalStart.localeCompare(b.intervalStart) ||
  a.revision - b.revision ||
  a.enterpriseId.localeCompare(b.enterpriseId);

/** An expected GreenPowerAllocated record (key = enterprise id, meter = its direct-line meter). */
function green(
  lineId: string,
  meter: MeterSpec,
  intervalStart: string,
  revision: number,
  allocatedKwh: string,
  lineMeteredKwh: string,
): GreenRecord {
  return {
    key: meter.enterpriseId,
    type: 'park.dispatch.v1.GreenPowerAllocated',
    lineId,
    enterpriseId: meter.enterpriseId,
    meterId: meter.meterId,
    intervalStart,
    revision,
    allocatedKwh,
    lineMeteredKwh,
  };
}

/**
 * Every stored allocation: allocations + stored + exported + curtailed equals the line's metered
 * energy exactly (decimal arithmetic, no tolerance), and no enterprise gets more than its
 * metered consumption in the interval.
 */
async function expectBalancedAndCapped(): Promise<void> {
  const consumers: Record<string, MeterSpec> = {
    'ent-a': M.a,
    'ent-b': M.b,
    'ent-c': M.c,
    'ent-d': M.d,
  };
  const lineMeter: Record<string, MeterSpec> = { 'line-1': M.line1, 'line-2': M.line2 };
  for (const row of await allocations()) {
    const r = row.result;
    const total = r.allocations
      .reduce((sum, a) => sum.plus(a.kwh), new Dec(0))
      .plus(r.storedKwh)
      .plus(r.exportedKwh)
      .plus(r.curtailedKwh);
    const metered = await meteredValue(lineMeter[row.line_id]!.meterId, row.interval_start);
    expect({ line: row.line_id, at: row.interval_start, total: total.toString() }).toEqual({
      line: row.line_id,
      at: row.interval_start,
      total: new Dec(metered!).toString(),
    });
    expect(new Dec(r.lineMeteredKwh).eq(metered!)).toBe(true);
    for (const allocation of r.allocations) {
      const consumption = await meteredValue(
        consumers[allocation.enterpriseId]!.meterId,
        row.interval_start,
      );
      expect(new Dec(allocation.kwh).lte(consumption!)).toBe(true);
      expect(new Dec(allocation.kwh).gte(0)).toBe(true);
    }
  }
}

beforeAll(async () => {
  h = await startDispatchHarness('line_allocation');
  operator = await h.bearer('operator');

  // The registry first: the GreenPowerAllocated meter id comes from the registry mirror.
  await h.publishPark(PARK);
  for (const enterprise of ['gen-co', 'ent-a', 'ent-b', 'ent-c', 'ent-d']) {
    await h.publishEnterprise(enterprise, PARK);
  }
  for (const meter of Object.values(M)) await h.publishMeter(meter);
  await eventually(async () => {
    const [row] = await query<{ n: number }>('SELECT count(*)::int AS n FROM dispatch_meters');
    if (row!.n !== Object.keys(M).length) throw new Error(`${row!.n} meters mirrored`);
  }, 30_000);

  await registerPv(h.client, operator, PARK, 'pv-1');
  const consumer = (meter: MeterSpec, priority: number, share: string) => ({
    enterpriseId: meter.enterpriseId,
    priority,
    share: dec(share),
    consumptionMeterIds: [meter.meterId],
  });
  await unary((done) =>
    h.client.registerDirectLine(
      {
        parkId: PARK,
        line: {
          lineId: 'line-1',
          plantId: 'pv-1',
          capacityKw: dec('1000'),
          lineMeterId: M.line1.meterId,
          consumers: [consumer(M.a, 1, '1'), consumer(M.b, 2, '1')],
          storageMeterId: M.store1.meterId,
          exportMeterId: M.export1.meterId,
        },
      },
      operator,
      done,
    ),
  );
  const answer = await unary<park.dispatch.v1.RegisterDirectLineResponse>((done) =>
    h.client.registerDirectLine(
      {
        parkId: PARK,
        line: {
          lineId: 'line-2',
          plantId: 'pv-1',
          capacityKw: dec('1000'),
          lineMeterId: M.line2.meterId,
          consumers: [consumer(M.c, 1, '0.6'), consumer(M.d, 1, '0.4')],
          storageMeterId: '',
          exportMeterId: '',
        },
      },
      operator,
      done,
    ),
  );
  expect(answer.topology?.directLines.map((line) => line.lineId)).toEqual(['line-1', 'line-2']);

  // Consumption, storage and feed-in first, and only once they are in, the line readings: so
  // each interval is allocated once, from complete inputs (revision 1).
  await h.publishReadings(M.a, [
    [T1, '70'],
    [T2, '70'],
  ]);
  await h.publishReadings(M.b, [
    [T1, '50'],
    [T2, '50'],
  ]);
  await h.publishReadings(M.store1, [
    [T1, '10'],
    [T2, '10'],
  ]);
  await h.publishReadings(M.export1, [
    [T1, '5'],
    [T2, '5'],
  ]);
  await h.publishReadings(M.c, [
    [T1, '80'],
    [T2, '50'],
    [T3, '50.25'],
    [T4, '80'],
  ]);
  await h.publishReadings(M.d, [
    [T1, '80'],
    [T2, '80'],
    [T3, '30'],
    [T4, '80'],
  ]);
  await stored([
    [M.a, T2, '70'],
    [M.b, T2, '50'],
    [M.store1, T2, '10'],
    [M.export1, T2, '5'],
    [M.c, T4, '80'],
    [M.d, T4, '80'],
  ]);
  await h.publishReadings(M.line1, [
    [T1, '100'],
    [T2, '150'],
  ]);
  await h.publishReadings(M.line2, [
    [T1, '100'],
    [T2, '100'],
    [T3, '120.5'],
    [T4, '10.000001'],
  ]);
  await eventually(async () => {
    if ((await allocations()).length !== 6) throw new Error('not every interval allocated yet');
  }, 30_000);
});
afterAll(() => h?.stop());

describe('green direct-line allocation', () => {
  it('priority case: A (priority 1) is served first, B (priority 2) gets what is left', async () => {
    const line1 = (await allocations()).filter((row) => row.line_id === 'line-1');
    expect(line1.map((row) => [row.interval_start, row.revision])).toEqual([
      [T1, 1],
      [T2, 1],
    ]);
    // T1: line 100 kWh. A (priority 1) needs 70 <= 100: A = 70, 100 - 70 = 30 left.
    //     B (priority 2) needs 50 > 30: B = 30, 0 left, so storage (read 10) and feed-in (read 5)
    //     are recorded as 0 and nothing is curtailed: 70 + 30 + 0 + 0 + 0 = 100.
    //     (Pro rata 1:1 would have given 50 and 50: the priority is what makes it 70 / 30.)
    expect(line1[0]!.result).toMatchObject({
      lineMeteredKwh: '100',
      allocations: [
        { enterpriseId: 'ent-a', kwh: '70' },
        { enterpriseId: 'ent-b', kwh: '30' },
      ],
      storedKwh: '0',
      exportedKwh: '0',
      curtailedKwh: '0',
    });
    // T2: line 150 kWh. A = 70 (150 - 70 = 80 left), B = 50 (its whole consumption; 30 left),
    //     stored min(30, 10) = 10 (20 left), exported min(20, 5) = 5 (15 left), curtailed 15:
    //     70 + 50 + 10 + 5 + 15 = 150.
    expect(line1[1]!.result).toMatchObject({
      lineMeteredKwh: '150',
      allocations: [
        { enterpriseId: 'ent-a', kwh: '70' },
        { enterpriseId: 'ent-b', kwh: '50' },
      ],
      storedKwh: '10',
      exportedKwh: '5',
      curtailedKwh: '15',
    });
  });

  it('pro-rata case: equal priority shares 0.6 / 0.4, capped by consumption', async () => {
    const line2 = (await allocations()).filter((row) => row.line_id === 'line-2');
    const split = line2.map((row) => [
      row.interval_start,
      row.result.allocations.map((a) => `${a.enterpriseId}=${a.kwh}`),
      row.result.curtailedKwh,
    ]);
    expect(split).toEqual([
      // T1: 100 kWh, C and D need 80 each (160 > 100): 100 x 0.6 = 60 < 80 and 100 x 0.4 = 40
      //     < 80, nobody capped: C = 60, D = 40, curtailed 0.
      [T1, ['ent-c=60', 'ent-d=40'], '0'],
      // T2: 100 kWh, C needs 50, D 80: C's part 100 x 0.6 = 60 >= 50, so C is capped at 50;
      //     the 50 left go to D (50 < 80): C = 50, D = 50 (more than D's 40 % of the line).
      [T2, ['ent-c=50', 'ent-d=50'], '0'],
      // T3: 120.5 kWh, needs 50.25 + 30 = 80.25 <= 120.5: each gets its consumption, and
      //     120.5 - 80.25 = 40.25 is curtailed (no storage or feed-in meter on line-2).
      [T3, ['ent-c=50.25', 'ent-d=30'], '40.25'],
      // T4: 10.000001 kWh, needs 80 each: C = 10.000001 x 0.6 = 6.0000006 -> 6.000001 (6 dp,
      //     half-even), D = 10.000001 x 0.4 = 4.0000004 -> 4.000000; 6.000001 + 4 = 10.000001:
      //     no rounding remainder.
      [T4, ['ent-c=6.000001', 'ent-d=4'], '0'],
    ]);
    expect(line2.every((row) => row.revision === 1)).toBe(true);
  });

  it('never allocates beyond consumption, and the split adds up to the metered energy exactly', async () => {
    await expectBalancedAndCapped();
  });

  it('publishes GreenPowerAllocated per enterprise (key enterprise id) with those kWh', async () => {
    const expected = [
      green('line-1', M.a, T1, 1, '70', '100'),
      green('line-1', M.b, T1, 1, '30', '100'),
      green('line-1', M.a, T2, 1, '70', '150'),
      green('line-1', M.b, T2, 1, '50', '150'),
      green('line-2', M.c, T1, 1, '60', '100'),
      green('line-2', M.d, T1, 1, '40', '100'),
      green('line-2', M.c, T2, 1, '50', '100'),
      green('line-2', M.d, T2, 1, '50', '100'),
      green('line-2', M.c, T3, 1, '50.25', '120.5'),
      green('line-2', M.d, T3, 1, '30', '120.5'),
      green('line-2', M.c, T4, 1, '6.000001', '10.000001'),
      green('line-2', M.d, T4, 1, '4', '10.000001'),
    ].sort(byIdentity);
    const records = await eventually(async () => {
      const all = await greenRecords();
      if (all.length < expected.length) throw new Error(`${all.length} records so far`);
      return all;
    }, 30_000);
    expect(records.sort(byIdentity)).toEqual(expected);
  });

  it('a reading of a meter on no line allocates nothing', async () => {
    const before = { events: await lineEventCount(), rows: await allocations() };
    // 18 = 6 LineAllocated + 12 GreenPowerAllocated (2 consumers x 6 line intervals).
    expect(before.events).toBe(18);
    await h.publishReadings(M.gridA, [[T1, '999']]);
    await stored([[M.gridA, T1, '999']]);
    // The handler stores the value and allocates in one transaction: once the value is in, any
    // allocation would be too.
    expect(await lineEventCount()).toBe(before.events);
    expect(await allocations()).toEqual(before.rows);
  });

  it('redelivered readings change nothing', async () => {
    const before = { events: await lineEventCount(), rows: await allocations() };
    // The same record again (same CloudEvents id: the inbox drops it) and the same values in a
    // new record (same values: nothing changed, nothing re-allocated).
    const payload = metering.ReadingsRecorded.encode({
      meter: {
        meterId: M.a.meterId,
        enterpriseId: M.a.enterpriseId,
        commodity: M.a.commodity,
        role: M.a.role,
        unit: M.a.unit,
        intervalMinutes: 15,
        sourceGeneratorId: 'pv-1',
        sourceEntityId: '',
      },
      readings: [T1, T2].map((at) => ({
        intervalStart: new Date(at),
        value: { value: '70' },
        quality: metering.Quality.QUALITY_MEASURED,
        source: 'gateway:test',
      })),
    }).finish();
    const id = await h.publish(
      h.topics.readings,
      M.a.meterId,
      'park.metering.v1.ReadingsRecorded',
      payload,
    );
    await h.publish(
      h.topics.readings,
      M.a.meterId,
      'park.metering.v1.ReadingsRecorded',
      payload,
      id,
    );
    await h.publishReadings(M.line1, [
      [T1, '100'],
      [T2, '150'],
    ]);
    await h.publishReadings(M.b, [
      [T1, '50'],
      [T2, '50'],
    ]);
    // A sentinel on m-a's partition (same key, so after the replays): an interval no line reading
    // covers, so it allocates nothing itself.
    await h.publishReadings(M.a, [[T_SENTINEL, '1']]);
    await h.publishReadings(M.b, [[T_SENTINEL, '1']]);
    await h.publishReadings(M.line1, [[T_SENTINEL, '0']]);
    await stored([
      [M.a, T_SENTINEL, '1'],
      [M.b, T_SENTINEL, '1'],
      [M.line1, T_SENTINEL, '0'],
    ]);
    const afterSentinel = await allocations();
    // The sentinel interval itself: line 0 kWh -> A 0, B 0, all zero, revision 1.
    const sentinel = afterSentinel.find(
      (row) => row.line_id === 'line-1' && row.interval_start === T_SENTINEL,
    );
    expect(sentinel).toMatchObject({
      revision: 1,
      result: {
        lineMeteredKwh: '0',
        allocations: [
          { enterpriseId: 'ent-a', kwh: '0' },
          { enterpriseId: 'ent-b', kwh: '0' },
        ],
        storedKwh: '0',
        exportedKwh: '0',
        curtailedKwh: '0',
      },
    });
    expect(afterSentinel.filter((row) => row !== sentinel)).toEqual(before.rows);
    // Only the sentinel's LineAllocated + 2 GreenPowerAllocated.
    expect(await lineEventCount()).toBe(before.events + 3);
  });

  it('a corrected consumer reading or line reading re-allocates as revision 2', async () => {
    // B's consumption at T1 corrected 50 -> 20: A = 70 (30 left), B = 20 (10 left), stored
    // min(10, 10) = 10, exported min(0, 5) = 0, curtailed 0: 70 + 20 + 10 + 0 + 0 = 100.
    await h.publishCorrection(M.b, T1, '50', '20');
    // line-2's reading at T1 corrected 100 -> 90: C = 90 x 0.6 = 54 < 80, D = 90 x 0.4 = 36 < 80.
    await h.publishCorrection(M.line2, T1, '100', '90');
    await eventually(async () => {
      const rows = (await allocations()).filter((row) => row.interval_start === T1);
      if (rows.some((row) => row.revision !== 2)) throw new Error('not re-allocated yet');
    }, 30_000);
    const rows = await allocations();
    const at = (line: string, t: string) =>
      rows.find((row) => row.line_id === line && row.interval_start === t)!;
    expect(at('line-1', T1)).toMatchObject({
      revision: 2,
      result: {
        lineMeteredKwh: '100',
        allocations: [
          { enterpriseId: 'ent-a', kwh: '70' },
          { enterpriseId: 'ent-b', kwh: '20' },
        ],
        storedKwh: '10',
        exportedKwh: '0',
        curtailedKwh: '0',
      },
    });
    expect(at('line-2', T1)).toMatchObject({
      revision: 2,
      result: {
        lineMeteredKwh: '90',
        allocations: [
          { enterpriseId: 'ent-c', kwh: '54' },
          { enterpriseId: 'ent-d', kwh: '36' },
        ],
        curtailedKwh: '0',
      },
    });
    // The other intervals keep revision 1.
    expect(rows.filter((row) => row.interval_start !== T1).every((row) => row.revision === 1)).toBe(
      true,
    );
    await expectBalancedAndCapped();

    // The re-allocation is published with revision 2 for every consumer of the line, the
    // unchanged A included (the highest revision per line, enterprise and interval counts).
    const revised = await eventually(async () => {
      const all = (await greenRecords()).filter((r) => r.revision === 2);
      if (all.length < 4) throw new Error(`${all.length} revision-2 records so far`);
      return all;
    }, 30_000);
    expect(revised.sort(byIdentity)).toEqual(
      [
        green('line-1', M.a, T1, 2, '70', '100'),
        green('line-1', M.b, T1, 2, '20', '100'),
        green('line-2', M.c, T1, 2, '54', '90'),
        green('line-2', M.d, T1, 2, '36', '90'),
      ].sort(byIdentity),
    );
  });

  it('a corrected reading that does not change the split records no new revision', async () => {
    const before = { events: await lineEventCount(), rows: await allocations() };
    // line-1 at T1 after B's correction: A 70 + B 20 + stored 10 leave 0 for feed-in. The feed-in
    // reading corrected 5 -> 7: still min(0, 7) = 0 exported; the split is the same.
    await h.publishCorrection(M.export1, T1, '5', '7');
    await stored([[M.export1, T1, '7']]);
    expect(await allocations()).toEqual(before.rows);
    expect(await lineEventCount()).toBe(before.events);
  });
});
