import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { park } from '@park/contracts';
import { CE, messagingMigrationsDir } from '@park/messaging';
import { signDevelopmentToken, type Role } from '@park/service-kit';
import {
  createTestDatabase,
  eventually,
  exitOf,
  nextMessage,
  readTopic,
  spawnTsChild,
  testInfrastructure,
  testKafka,
  type TestDatabase,
} from '@park/testing';
import { meteringMigrationsDir } from '../app';
import { decodeMeteringRecord } from '../integration/decode';
import { METERING_READINGS_TOPIC } from '../integration/topics';
import { MeterStreams } from '../readings/meter-streams';
import { MeterDirectory } from '../registry/meter-directory';
import { RegistryService } from '../registry/registry-service';
import type { BulkUploadSummary } from './http-bulk';

jest.setTimeout(180_000);

const SECRET = 'metering-bulk-test-secret-of-32-chars!';
const LIMIT = 4_096;
const PREFIX = `test.${Math.random().toString(16).slice(2, 10)}.`;
/** Two days ago at midnight UTC: within the late-data window, well before now. */
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
const q = (k: number) => new Date(T0 + k * 15 * 60_000).toISOString();

let db: TestDatabase;
let child: ChildProcess | undefined;
let base: string;

const token = (role: Role) =>
  signDevelopmentToken(
    { secret: SECRET, issuer: 'park-dev', audience: 'park' },
    { role, subject: `test-${role}`, enterpriseId: role === 'enterprise' ? 'ent-1' : undefined },
  );

async function upload(
  body: string | ReadableStream<Uint8Array>,
  contentType: string,
  role: Role = 'operator',
) {
  return fetch(`${base}/v1/readings:bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token(role)}`, 'content-type': contentType },
    body,
    // Streamed bodies need half duplex in fetch.
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);
}

beforeAll(async () => {
  db = await createTestDatabase('metering_server', {
    migrations: [messagingMigrationsDir, meteringMigrationsDir],
  });
  const streams = new MeterStreams(db.store);
  const registry = new RegistryService(db.store, streams, new MeterDirectory(db.pool));
  await registry.configurePark({
    parkId: 'park-1',
    name: 'Zero-carbon pilot park',
    latitude: 41.8,
    longitude: 123.4,
    gridRegion: 'northeast_china',
    sizeBand: 'below_200k_tce',
  });
  await registry.registerEnterprise({
    enterpriseId: 'ent-1',
    parkId: 'park-1',
    name: 'Songbei Steel',
    creditCode: '91210106MA0Y5K7R5J',
    industryCode: 'C3120',
    exporter: false,
    energyUsing: true,
    keyEnergyConsumingUnit: false,
  });
  for (const meterId of ['m-1', 'm-2']) {
    await registry.registerMeter({
      meterId,
      parkId: 'park-1',
      enterpriseId: 'ent-1',
      commodity: 'electricity',
      role: 'grid_import',
      unit: 'kWh',
      registerType: 'interval',
    });
  }

  const infra = testInfrastructure();
  child = spawnTsChild(path.join(__dirname, '..', 'main.ts'), {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    JWT_SECRET: SECRET,
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    METERING_TOPIC_PREFIX: PREFIX,
    METERING_BULK_LIMIT_BYTES: String(LIMIT),
  });
  const serving = await nextMessage<{ type: string; httpPort: number; grpcPort: number }>(
    child,
    120_000,
  );
  expect(serving).toMatchObject({ type: 'serving' });
  base = `http://127.0.0.1:${serving.httpPort}`;
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exitOf(child);
  }
  await db?.drop();
});

it('serves bulk uploads behind auth, publishes the readings, and stops cleanly on SIGTERM', async () => {
  await eventually(async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
  }, 30_000);

  // Good rows, a duplicate, a malformed row, an unknown meter, a wrong unit.
  const csv = [
    'meter_id,interval_start,value,unit',
    `m-1,${q(0)},1.5,kWh`,
    `m-1,${q(1)},2.25,kWh`,
    `m-1,${q(2)},3,kWh`,
    `m-1,${q(2)}`,
    `m-9,${q(0)},1,kWh`,
    `m-1,${q(3)},4,m3`,
  ].join('\n');
  const first = await upload(`${csv}\n`, 'text/csv');
  expect(first.status).toBe(200);
  const summary = (await first.json()) as BulkUploadSummary;
  expect(summary).toMatchObject({
    rows: 6,
    accepted: 3,
    duplicate: 0,
    corrected: 0,
    held: 0,
    rejected: 3,
  });
  expect(summary.uploadId).toMatch(/^[0-9a-f-]{36}$/);
  expect(summary.rejections).toEqual([
    { row: 4, meterId: '', field: 'row', reason: expect.stringContaining('2 fields') },
    {
      row: 5,
      meterId: 'm-9',
      field: 'meter_id',
      reason: expect.stringContaining('not registered'),
    },
    { row: 6, meterId: 'm-1', field: 'unit', reason: expect.any(String) },
  ]);

  // The same rows again are duplicates; a changed value is a correction.
  const again = await upload(
    `meter_id,interval_start,value,unit\nm-1,${q(0)},1.5,kWh\nm-1,${q(1)},2.5,kWh\n`,
    'text/csv',
    'integrator',
  );
  expect(again.status).toBe(200);
  expect(await again.json()).toMatchObject({ rows: 2, duplicate: 1, corrected: 1, rejected: 0 });

  // JSON lines.
  const ndjson = await upload(
    `{"meter_id":"m-1","interval_start":"${q(3)}","value":"4","unit":"kWh"}\n{"meter_id":"m-1"}\n`,
    'application/x-ndjson',
  );
  expect(await ndjson.json()).toMatchObject({
    rows: 2,
    accepted: 1,
    rejected: 1,
    rejections: [{ row: 2, meterId: '', field: 'interval_start', reason: 'is required' }],
  });

  // A bad header names it.
  const header = await upload('meter,when,value\nm-1,x,1\n', 'text/csv');
  expect(header.status).toBe(400);
  expect(header.headers.get('content-type')).toContain('application/problem+json');
  expect(await header.json()).toMatchObject({
    status: 400,
    violations: [{ field: 'header', description: expect.stringContaining('meter') }],
  });

  // Wrong content type; a role that may not upload.
  const wrongType = await upload('{}', 'application/json');
  expect(wrongType.status).toBe(415);
  expect(wrongType.headers.get('content-type')).toContain('application/problem+json');
  expect(await wrongType.json()).toMatchObject({ status: 415 });
  const enterprise = await upload(csv, 'text/csv', 'enterprise');
  expect(enterprise.status).toBe(403);
  expect(enterprise.headers.get('content-type')).toContain('application/problem+json');
  const anonymous = await fetch(`${base}/v1/readings:bulk`, { method: 'POST', body: csv });
  expect(anonymous.status).toBe(401);

  // Beyond the limit, streamed (no Content-Length): what came before it stays ingested.
  const lines = ['meter_id,interval_start,value,unit'];
  for (let k = 0; k < 150; k++) lines.push(`m-2,${q(k)},${k + 1},kWh`);
  const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
  expect(bytes.length).toBeGreaterThan(LIMIT);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 1_000)
        controller.enqueue(bytes.subarray(at, at + 1_000));
      controller.close();
    },
  });
  const tooLarge = await upload(stream, 'text/csv');
  expect(tooLarge.status).toBe(413);
  expect(tooLarge.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await tooLarge.json()) as {
    status: number;
    detail: string;
    upload: BulkUploadSummary;
  };
  expect(problem.status).toBe(413);
  expect(problem.detail).toContain('stay ingested');
  expect(problem.upload.rows).toBeGreaterThan(0);
  expect(problem.upload.rows).toBeLessThan(150);
  expect(problem.upload.accepted).toBe(problem.upload.rows);
  const stored = await db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM readings WHERE meter_id = 'm-2'",
  );
  expect(stored.rows[0]!.n).toBe(problem.upload.accepted);
  // With a declared length beyond the limit, nothing is read.
  const declared = await upload(`${lines.join('\n')}\n`, 'text/csv');
  expect(declared.status).toBe(413);
  expect(((await declared.json()) as { upload: BulkUploadSummary }).upload.rows).toBe(0);

  // The relay publishes the readings to the (prefixed) readings topic.
  const topic = `${PREFIX}${METERING_READINGS_TOPIC}`;
  const published = await eventually(
    async () => {
      const records = (await readTopic(testKafka(), topic)).filter((r) => r.key === 'm-1');
      const starts = new Set<string>();
      for (const record of records) {
        const decoded = decodeMeteringRecord(record.headers[CE.type]!, record.value!);
        if (decoded.type !== 'park.metering.v1.ReadingsRecorded') continue;
        const message = decoded.message as park.metering.v1.ReadingsRecorded;
        for (const reading of message.readings) starts.add(reading.intervalStart!.toISOString());
      }
      expect([...starts].sort()).toEqual([q(0), q(1), q(2), q(3)]);
      return records;
    },
    60_000,
    500,
  );
  expect(published.map((r) => r.headers[CE.source])).toContain('//park/metering');

  child!.kill('SIGTERM');
  expect(await exitOf(child!)).toEqual({ code: 0, signal: null });
});
