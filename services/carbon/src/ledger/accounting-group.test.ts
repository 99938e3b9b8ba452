import { park } from '@park/contracts';
import { EventStore, inTransaction } from '@park/eventstore';
import { CE, cloudEventRecord, DLQ, MessageProducer, type OutgoingRecord } from '@park/messaging';
import { eventually, readTopic } from '@park/testing';
import type { MeterFacts } from '../accounting/model';
import { applyRegistryFact } from '../directory/directory';
import { FactorCatalogCache } from '../factors/catalog-store';
import { meterSpec, startCarbonHarness, type CarbonHarness } from '../test-support/harness';
import { AccountingService, type ReadingsBooking, type ReadingsToBook } from './accounting-service';

/**
 * A consumer's group of readings messages booked at once (one basis lock, one append, one insert
 * of lines) books what booking them one after the other books; through Kafka, a redelivery
 * within a group is applied once and a bad record sends its group back to one by one. Seed
 * factors: Northeast grid 2023 0.5122 and residual 2023 0.6096 kgCO2/kWh, electricity 0.1229
 * kgce/kWh.
 */

jest.setTimeout(120_000);

const metering = park.metering.v1;

let h: CarbonHarness;

beforeAll(async () => {
  h = await startCarbonHarness('ledger_groups', { SHUTDOWN_TIMEOUT_MS: '30000' });
});
afterAll(() => h?.stop(), 60_000);

describe('a group of readings messages', () => {
  const gridMeter = (meterId: string, enterpriseId: string): MeterFacts => ({
    meterId,
    enterpriseId,
    commodity: 'electricity',
    role: 'grid_import',
    unit: 'kWh',
  });
  const readings = (
    cause: ReadingsToBook['cause'],
    meter: MeterFacts,
    values: [string, string][],
    quality: 'measured' | 'edited' = 'measured',
  ): ReadingsToBook => ({
    meter,
    cause,
    readings: values.map(([intervalStart, value]) => ({
      intervalStart,
      value,
      quality,
      source: 'gateway:test',
    })),
  });
  /**
   * The same five messages for an enterprise's two grid meters (park time UTC+8):
   *   m1 reading     meter 1: 2023-05-31T15:45Z (May 31, 23:45 local) 555, 02:45Z 2,500,
   *                  03:00Z 1,000 kWh
   *   m4 reading     meter 2: 02:45Z 400 kWh
   *   m2 correction  meter 1: 02:45Z 2,500 -> 2,600 kWh (edited), after m1 in the same group
   *   m3 reading     meter 1: 03:00Z 1,000 kWh again, under a new id: books nothing
   */
  function messages(prefix: string, enterpriseId: string): ReadingsBooking[] {
    const one = gridMeter(`${prefix}-grid-1`, enterpriseId);
    const two = gridMeter(`${prefix}-grid-2`, enterpriseId);
    return [
      {
        source: `${prefix}-m1`,
        values: readings('reading', one, [
          ['2023-05-31T15:45:00.000Z', '555'],
          ['2023-06-01T02:45:00.000Z', '2500'],
          ['2023-06-01T03:00:00.000Z', '1000'],
        ]),
      },
      {
        source: `${prefix}-m4`,
        values: readings('reading', two, [['2023-06-01T02:45:00.000Z', '400']]),
      },
      {
        source: `${prefix}-m2`,
        values: readings('correction', one, [['2023-06-01T02:45:00.000Z', '2600']], 'edited'),
      },
      {
        source: `${prefix}-m3`,
        values: readings('reading', one, [['2023-06-01T03:00:00.000Z', '1000']]),
      },
    ];
  }

  async function register(enterpriseId: string): Promise<void> {
    await applyRegistryFact(h.db.pool, {
      kind: 'park',
      parkId: 'park-groups',
      timeZone: 'Asia/Shanghai',
      gridRegion: 'northeast_china',
      sizeBand: 'below_200k_tce',
      latitude: '41.8',
      longitude: '123.4',
    });
    await applyRegistryFact(h.db.pool, {
      kind: 'enterprise',
      enterpriseId,
      parkId: 'park-groups',
      name: enterpriseId,
      energyUsing: true,
      exporter: false,
    });
  }

  /** The enterprise's ledger lines, meter and message named without their prefix. */
  async function lines(enterpriseId: string, prefix: string) {
    const { rows } = await h.db.pool.query<{
      month: string;
      version: string;
      index: string;
      kind: string;
      cause: string;
      source: string;
      meter_id: string;
      prior_period: boolean;
      interval_start: string;
      hour_start: string;
      quantity: string;
      quality: string;
      kwh: string;
      kgce: string;
      location: string;
      market: string;
      factors: string;
    }>(
      `SELECT right(stream_id, 7) AS month, stream_version::text AS version,
         line_index::text AS index, kind, cause, source, meter_id, prior_period,
         to_char(interval_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS interval_start,
         to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS hour_start,
         quantity::text AS quantity, quality, electricity_kwh::text AS kwh,
         energy_kgce::text AS kgce, scope2_location_kgco2e::text AS location,
         scope2_market_kgco2e::text AS market, factors::text AS factors
       FROM ledger_lines WHERE enterprise_id = $1
       ORDER BY stream_id, stream_version, line_index`,
      [enterpriseId],
    );
    return rows.map((row) => ({
      ...row,
      source: row.source.replace(`${prefix}-`, ''),
      meter_id: row.meter_id.replace(`${prefix}-`, ''),
    }));
  }

  async function basis(enterpriseId: string, prefix: string) {
    const { rows } = await h.db.pool.query<{
      meter_id: string;
      at: string;
      value: string;
      quality: string;
      posting: unknown;
      uses_fallback: boolean;
    }>(
      `SELECT meter_id, to_char(interval_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS at,
         reading->>'value' AS value, reading->>'quality' AS quality,
         posting - 'meterId' - 'enterpriseId' AS posting, uses_fallback
       FROM ledger_basis WHERE enterprise_id = $1 ORDER BY meter_id, interval_start`,
      [enterpriseId],
    );
    return rows.map((row) => ({ ...row, meter_id: row.meter_id.replace(`${prefix}-`, '') }));
  }

  async function events(enterpriseId: string, prefix: string) {
    const { rows } = await h.db.pool.query<{ source: string }>(
      `SELECT right(stream_id, 7) AS month, stream_version::text AS version,
         data->>'cause' AS cause, data->>'source' AS source,
         jsonb_array_length(data->'lines') AS lines
       FROM events WHERE stream_id LIKE $1 ORDER BY stream_id, stream_version`,
      [`ledger-${enterpriseId}-%`],
    );
    return rows.map((row) => ({ ...row, source: row.source.replace(`${prefix}-`, '') }));
  }

  it('books the lines, events and basis that booking its messages one by one books', async () => {
    await register('ent-group');
    await register('ent-serial');
    const accounting = new AccountingService(new EventStore(h.db.pool), new FactorCatalogCache());

    const grouped = await inTransaction(h.db.pool, (tx) =>
      accounting.accountReadingsGroup(tx, messages('grp', 'ent-group'), new Map()),
    );
    const serial = [];
    for (const { values, source } of messages('ser', 'ent-serial')) {
      serial.push(
        await inTransaction(h.db.pool, (tx) => accounting.accountReadings(tx, values, source)),
      );
    }
    // m1 books 3 postings, m4 one, m2 the reversal of 2,500 and the posting of 2,600 (it sees
    // m1's posting, booked earlier in the same group), m3 nothing: 1,000 stands already.
    const outcomes = [
      { lines: 3, unchanged: 0 },
      { lines: 1, unchanged: 0 },
      { lines: 2, unchanged: 0 },
      { lines: 0, unchanged: 1 },
    ];
    expect(grouped).toEqual(outcomes);
    expect(serial).toEqual(outcomes);

    const booked = await lines('ent-group', 'grp');
    expect(await lines('ent-serial', 'ser')).toEqual(booked);
    expect(
      booked.map(({ month, version, index, kind, cause, source, meter_id, interval_start }) => [
        month,
        version,
        index,
        kind,
        cause,
        source,
        meter_id,
        interval_start,
      ]),
    ).toEqual([
      // May 31 23:45 local: the May stream.
      ['2023-05', '1', '0', 'posting', 'reading', 'm1', 'grid-1', '2023-05-31T15:45'],
      ['2023-06', '1', '0', 'posting', 'reading', 'm1', 'grid-1', '2023-06-01T02:45'],
      ['2023-06', '1', '1', 'posting', 'reading', 'm1', 'grid-1', '2023-06-01T03:00'],
      ['2023-06', '2', '0', 'posting', 'reading', 'm4', 'grid-2', '2023-06-01T02:45'],
      ['2023-06', '3', '0', 'reversal', 'correction', 'm2', 'grid-1', '2023-06-01T02:45'],
      ['2023-06', '3', '1', 'posting', 'correction', 'm2', 'grid-1', '2023-06-01T02:45'],
    ]);
    // kWh x 0.1229 kgce, x 0.5122 location, x 0.6096 market:
    //   555:   68.2095 (61.45 + 6.7595), 284.271 (256.1 + 28.171), 338.328 (304.8 + 33.528)
    //   2,500: 307.25, 1,280.5, 1,524
    //   1,000: 122.9, 512.2, 609.6
    //   400:   49.16, 204.88, 243.84
    //   2,600: 319.54, 1,331.72 (1,280.5 + 100 x 0.5122), 1,584.96 (1,524 + 100 x 0.6096)
    expect(
      booked.map(({ quantity, quality, kgce, location, market }) => [
        quantity,
        quality,
        kgce,
        location,
        market,
      ]),
    ).toEqual([
      ['555', 'measured', '68.2095', '284.271', '338.328'],
      ['2500', 'measured', '307.25', '1280.5', '1524'],
      ['1000', 'measured', '122.9', '512.2', '609.6'],
      ['400', 'measured', '49.16', '204.88', '243.84'],
      ['-2500', 'measured', '-307.25', '-1280.5', '-1524'],
      ['2600', 'edited', '319.54', '1331.72', '1584.96'],
    ]);
    // June stands at 2,600 + 1,000 + 400 = 4,000 kWh: 4,000 x 0.5122 = 2,048.8 kg, the lines'
    // sum 1,280.5 + 512.2 + 204.88 - 1,280.5 + 1,331.72.
    const { rows: june } = await h.db.pool.query<{ location: string }>(
      `SELECT trim_scale(sum(scope2_location_kgco2e))::text AS location FROM ledger_lines
       WHERE enterprise_id = 'ent-group' AND stream_id LIKE '%-2023-06'`,
    );
    expect(june[0]!.location).toBe('2048.8');
    expect(booked.every((line) => line.prior_period === false)).toBe(true);
    // Each line's park hour: 02:45Z is 10:45 local, in the hour from 02:00Z.
    expect(booked.map((line) => line.hour_start)).toEqual([
      '2023-05-31T15:00',
      '2023-06-01T02:00',
      '2023-06-01T03:00',
      '2023-06-01T02:00',
      '2023-06-01T02:00',
      '2023-06-01T02:00',
    ]);

    // One PostingsRecorded per message and month, naming the message and its cause.
    const recorded = await events('ent-group', 'grp');
    expect(await events('ent-serial', 'ser')).toEqual(recorded);
    expect(recorded).toEqual([
      { month: '2023-05', version: '1', cause: 'reading', source: 'm1', lines: 1 },
      { month: '2023-06', version: '1', cause: 'reading', source: 'm1', lines: 2 },
      { month: '2023-06', version: '2', cause: 'reading', source: 'm4', lines: 1 },
      { month: '2023-06', version: '3', cause: 'correction', source: 'm2', lines: 2 },
    ]);

    // What stands: the corrected 2,600 (edited), the 1,000 once, 555 and meter 2's 400.
    const standing = await basis('ent-group', 'grp');
    expect(await basis('ent-serial', 'ser')).toEqual(standing);
    expect(
      standing.map(({ meter_id, at, value, quality, posting }) => [
        meter_id,
        at,
        value,
        quality,
        (posting as { quantity: string }).quantity,
      ]),
    ).toEqual([
      ['grid-1', '2023-05-31T15:45', '555', 'measured', '555'],
      ['grid-1', '2023-06-01T02:45', '2600', 'edited', '2600'],
      ['grid-1', '2023-06-01T03:00', '1000', 'measured', '1000'],
      ['grid-2', '2023-06-01T02:45', '400', 'measured', '400'],
    ]);
  });

  it('lets two transactions book into the same ledger stream, the second after the first commits', async () => {
    // Two partitions' groups at once (the readings consumer runs two): both book June lines
    // of one enterprise. An append with version 'any' would take the same stream version in
    // both and fail the second; the stream locks make the second wait and append after.
    await register('ent-concurrent');
    const accounting = new AccountingService(new EventStore(h.db.pool), new FactorCatalogCache());
    const booking = (meterId: string, value: string, source: string): ReadingsBooking => ({
      source,
      values: readings('reading', gridMeter(meterId, 'ent-concurrent'), [
        ['2023-06-01T06:00:00.000Z', value],
      ]),
    });
    const first = await h.db.pool.connect();
    const second = await h.db.pool.connect();
    try {
      await first.query('BEGIN');
      await accounting.accountReadingsGroup(first, [booking('conc-grid-1', '10', 'conc-1')]);
      await second.query('BEGIN');
      const { rows: pids } = await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const booked = accounting.accountReadingsGroup(second, [
        booking('conc-grid-2', '20', 'conc-2'),
      ]);
      // The second waits on the stream's lock while the first is open.
      await eventually(async () => {
        const { rows } = await h.db.pool.query<{ wait: string | null }>(
          'SELECT wait_event AS wait FROM pg_stat_activity WHERE pid = $1',
          [pids[0]!.pid],
        );
        if (rows[0]?.wait !== 'advisory') throw new Error(`second is at ${rows[0]?.wait}`);
      }, 10_000);
      await first.query('COMMIT');
      expect(await booked).toEqual([{ lines: 1, unchanged: 0 }]);
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    const { rows } = await h.db.pool.query<{ version: string; source: string; lines: string }>(
      `SELECT e.stream_version::text AS version, e.data->>'source' AS source,
         (SELECT count(*) FROM ledger_lines l
          WHERE l.stream_id = e.stream_id AND l.stream_version = e.stream_version)::text AS lines
       FROM events e WHERE e.stream_id = 'ledger-ent-concurrent-2023-06' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { version: '1', source: 'conc-1', lines: '1' },
      { version: '2', source: 'conc-2', lines: '1' },
    ]);
  });

  it('refuses a message that books one interval twice, as the basis upsert did', async () => {
    await register('ent-twice');
    const accounting = new AccountingService(new EventStore(h.db.pool), new FactorCatalogCache());
    const meter = gridMeter('twice-grid', 'ent-twice');
    const twice = readings('reading', meter, [
      ['2023-06-01T04:00:00.000Z', '10'],
      ['2023-06-01T04:00:00.000Z', '20'],
    ]);
    await expect(
      inTransaction(h.db.pool, (tx) =>
        accounting.accountReadingsGroup(tx, [{ values: twice, source: 'twice-1' }]),
      ),
    ).rejects.toThrow('books interval 2023-06-01T04:00:00.000Z twice');
    const { rows } = await h.db.pool.query(
      "SELECT 1 FROM ledger_lines WHERE enterprise_id = 'ent-twice'",
    );
    expect(rows).toHaveLength(0);
  });
});

describe('groups of records on the readings topic', () => {
  let producer: MessageProducer;

  beforeAll(async () => {
    producer = new MessageProducer(h.kafka);
    await producer.connect();
    await h.publishPark('park-kafka');
    await h.publishEnterprise('ent-kafka', 'park-kafka');
    await h.publishMeter(meterSpec('kafka-grid', 'ent-kafka', 'grid'));
    // The registry first: a reading ahead of its meter would be retried, one by one.
    await eventually(async () => {
      const { rows } = await h.db.pool.query(
        "SELECT 1 FROM carbon_meters WHERE meter_id = 'kafka-grid'",
      );
      if (rows.length === 0) throw new Error('registry not mirrored yet');
    }, 60_000);
  });
  afterAll(() => producer?.disconnect());

  const descriptor = (commodity = metering.Commodity.COMMODITY_ELECTRICITY) => ({
    meterId: 'kafka-grid',
    enterpriseId: 'ent-kafka',
    commodity,
    role: metering.MeterRole.METER_ROLE_GRID_IMPORT,
    unit: park.common.v1.Unit.UNIT_KWH,
    intervalMinutes: 15,
    sourceGeneratorId: '',
    sourceEntityId: '',
  });
  function readingsRecord(
    id: string,
    values: [string, string][],
    commodity?: park.metering.v1.Commodity,
  ): OutgoingRecord {
    return cloudEventRecord({
      topic: h.topics.readings,
      key: 'kafka-grid',
      type: 'park.metering.v1.ReadingsRecorded',
      id,
      source: '//park/metering',
      payload: metering.ReadingsRecorded.encode({
        meter: descriptor(commodity),
        readings: values.map(([start, value]) => ({
          intervalStart: new Date(start),
          value: { value },
          quality: metering.Quality.QUALITY_MEASURED,
          source: 'gateway:test',
        })),
      }).finish(),
    });
  }
  async function ledgerOf(sources: string[], count: number) {
    return eventually(async () => {
      const { rows } = await h.db.pool.query<{ source: string; quantity: string }>(
        `SELECT source, quantity::text AS quantity FROM ledger_lines WHERE source = ANY($1)
         ORDER BY stream_version, line_index`,
        [sources],
      );
      if (rows.length < count) throw new Error(`${rows.length} lines so far`);
      return rows;
    }, 60_000);
  }
  async function inbox(ids: string[]) {
    const { rows } = await h.db.pool.query<{ message_id: string; xid: string }>(
      `SELECT message_id, xmin::text AS xid FROM inbox WHERE message_id = ANY($1)
       ORDER BY message_id`,
      [ids],
    );
    return rows;
  }

  it('apply a record redelivered within the group once', async () => {
    // One send: the records reach the consumer in one fetch, so in one group of up to 100.
    await producer.send([
      readingsRecord('kafka-redeliver-1', [['2023-06-01T05:00:00Z', '100']]),
      readingsRecord('kafka-redeliver-1', [['2023-06-01T05:00:00Z', '100']]),
      readingsRecord('kafka-redeliver-2', [['2023-06-01T05:15:00Z', '200']]),
    ]);
    const lines = await ledgerOf(['kafka-redeliver-1', 'kafka-redeliver-2'], 2);
    await eventually(async () => {
      if ((await inbox(['kafka-redeliver-2'])).length === 0) throw new Error('not applied yet');
    }, 60_000);
    expect(lines).toEqual([
      { source: 'kafka-redeliver-1', quantity: '100' },
      { source: 'kafka-redeliver-2', quantity: '200' },
    ]);
    // Once in the inbox each, both in one transaction: the group's.
    const applied = await inbox(['kafka-redeliver-1', 'kafka-redeliver-2']);
    expect(applied.map((row) => row.message_id)).toEqual([
      'kafka-redeliver-1',
      'kafka-redeliver-2',
    ]);
    expect(applied[0]!.xid).toBe(applied[1]!.xid);
    // 300 kWh x 0.5122 = 153.66 kg location.
    const { rows } = await h.db.pool.query<{ location: string }>(
      `SELECT trim_scale(sum(scope2_location_kgco2e))::text AS location FROM ledger_lines
       WHERE source = ANY($1)`,
      [['kafka-redeliver-1', 'kafka-redeliver-2']],
    );
    expect(rows[0]!.location).toBe('153.66');
  });

  it('apply the good records of a group with a bad one one by one and dead-letter the bad one', async () => {
    await producer.send([
      readingsRecord('kafka-good-1', [['2023-06-01T05:30:00Z', '10']]),
      // A commodity this service does not know (99): bad input, dead-lettered at once.
      readingsRecord(
        'kafka-bad',
        [['2023-06-01T05:30:00Z', '30']],
        99 as park.metering.v1.Commodity,
      ),
      readingsRecord('kafka-good-2', [['2023-06-01T05:45:00Z', '20']]),
    ]);
    const deadLetters = await eventually(async () => {
      const records = await readTopic(h.kafka, `${h.topics.readings}.dlq`);
      const bad = records.filter((record) => record.headers[CE.id] === 'kafka-bad');
      if (bad.length === 0) throw new Error('no dead letter yet');
      return bad;
    }, 60_000);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.headers[DLQ.errorType]).toBe('PermanentMessageError');
    expect(deadLetters[0]!.headers[DLQ.attempts]).toBe('1');
    expect(deadLetters[0]!.headers[DLQ.error]).toContain('unknown commodity 99');

    const lines = await ledgerOf(['kafka-good-1', 'kafka-good-2', 'kafka-bad'], 2);
    expect(lines).toEqual([
      { source: 'kafka-good-1', quantity: '10' },
      { source: 'kafka-good-2', quantity: '20' },
    ]);
    // The good records applied, each in a transaction of its own; the bad one not at all.
    const applied = await eventually(async () => {
      const rows = await inbox(['kafka-good-1', 'kafka-good-2', 'kafka-bad']);
      if (rows.length < 2) throw new Error('not applied yet');
      return rows;
    }, 60_000);
    expect(applied.map((row) => row.message_id)).toEqual(['kafka-good-1', 'kafka-good-2']);
    expect(applied[0]!.xid).not.toBe(applied[1]!.xid);
  });
});
