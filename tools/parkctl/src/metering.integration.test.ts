// parkctl against the metering service, started in this process on a database of its own (the
// service as main builds it: gRPC and the HTTP bulk upload), with the test infrastructure.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CE, deadLetterTopic, DLQ, ensureTopics, MessageProducer } from '@park/messaging';
import {
  meteringConfigSchema,
  startMeteringService,
  type MeteringServer,
} from '@park/metering/server';
import { loadConfig } from '@park/service-kit';
import {
  createTestDatabase,
  eventually,
  readTopic,
  testInfrastructure,
  testKafka,
  type TestDatabase,
} from '@park/testing';
import { EXIT } from './errors';
import { parkctl } from './test-support/io';

jest.setTimeout(120_000);

const SECRET = 'parkctl-integration-secret-of-32-chars!';
const PREFIX = `test.parkctl.${randomBytes(4).toString('hex')}.`;
/** Two days ago at midnight UTC: within the late-data window, before now. */
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
const q = (k: number) => new Date(T0 + k * 15 * 60_000).toISOString();

let db: TestDatabase;
let server: MeteringServer | undefined;
let dir: string;
let global: string[];
/** parkctl signs its own operator token with JWT_SECRET, as in development. */
const env = { JWT_SECRET: SECRET };
const ctl = (...argv: string[]) => parkctl([...global, ...argv], env, { cwd: dir });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parkctl-'));
  db = await createTestDatabase('parkctl');
  const infra = testInfrastructure();
  const config = loadConfig(meteringConfigSchema, {
    SERVICE_NAME: 'metering-parkctl-test',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    JWT_SECRET: SECRET,
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'error',
    DATABASE_POOL_SIZE: '4',
    METERING_TOPIC_PREFIX: PREFIX,
    METERING_GAP_FILL_INTERVAL_MS: '3600000',
  });
  server = await startMeteringService(config, { relayPollIntervalMs: 50 });
  global = [
    '--metering',
    `127.0.0.1:${server.grpcPort}`,
    '--http',
    `http://127.0.0.1:${server.httpPort}`,
    '--timeout',
    '20',
  ];
});

afterAll(async () => {
  if (server) {
    server.stopGapFilling();
    await server.runtime.shutdown('parkctl test done').catch(() => undefined);
  }
  await db?.drop();
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(PREFIX));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('registers, imports a CSV with a bad row, lists meters and reads the series', async () => {
  const configured = await ctl(
    'parks',
    'configure',
    'park-1',
    '--name',
    'Shenyang pilot park',
    '--latitude',
    '41.8',
    '--longitude',
    '123.4',
    '--grid-region',
    'northeast_china',
  );
  expect(configured).toMatchObject({ code: 0, stderr: '' });
  expect(configured.stdout).toMatch(/^time zone: +Asia\/Shanghai$/m);

  // The service's validation: INVALID_ARGUMENT with the field at fault, exit 1, no stack.
  const bad = await ctl(
    'enterprises',
    'register',
    'ent-1',
    '--park',
    'park-1',
    '--name',
    'Songbei Steel',
    '--credit-code',
    'not-a-credit-code',
    '--industry-code',
    'C3120',
  );
  expect(bad.code).toBe(EXIT.failed);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toMatch(/^parkctl: INVALID_ARGUMENT: .+\n {2}enterprise\.credit_code: .+\n$/);

  const registered = await ctl(
    'enterprises',
    'register',
    'ent-1',
    '--park',
    'park-1',
    '--name',
    'Songbei Steel',
    '--credit-code',
    '91210106MA0Y5K7R5J',
    '--industry-code',
    'C3120',
    '--exporter',
  );
  expect(registered).toMatchObject({ code: 0, stderr: '' });
  expect(registered.stdout).toMatch(/^exporter: +yes$/m);
  expect(registered.stdout).toMatch(/^energy using: +yes$/m);

  const meter = await ctl(
    '-o',
    'json',
    'meters',
    'register',
    'm-1',
    '--enterprise',
    'ent-1',
    '--commodity',
    'electricity',
    '--role',
    'grid_import',
    '--unit',
    'kWh',
    '--rated-power-kw',
    '100',
  );
  expect(meter).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(meter.stdout)).toMatchObject({
    meterId: 'm-1',
    enterpriseId: 'ent-1',
    role: 'METER_ROLE_GRID_IMPORT',
    ratedPowerKw: { value: '100' },
  });

  // Three good rows and one for an unknown meter.
  fs.writeFileSync(
    path.join(dir, 'readings.csv'),
    [
      'meter_id,interval_start,value,unit',
      `m-1,${q(0)},1.5,kWh`,
      `m-1,${q(1)},2.25,kWh`,
      `m-9,${q(0)},1,kWh`,
      `m-1,${q(2)},3,kWh`,
      '',
    ].join('\n'),
  );
  const size = fs.statSync(path.join(dir, 'readings.csv')).size;
  const imported = await ctl('import', 'readings.csv');
  expect(imported.code).toBe(0);
  // The progress bar on stderr, the report on stdout.
  expect(imported.stderr).toMatch(
    new RegExp(`^readings\\.csv -> \\[#+\\] 100%  ${size} B / ${size} B .*\\n$`),
  );
  expect(imported.stdout).toMatch(/^rows: +4$/m);
  expect(imported.stdout).toMatch(/^accepted: +3$/m);
  expect(imported.stdout).toMatch(/^duplicates: +0$/m);
  expect(imported.stdout).toMatch(/^rejected: +1$/m);
  expect(imported.stdout).toMatch(
    /^rejected rows:\nROW +METER +FIELD +REASON\n +3 +m-9 +meter_id +\S.*\n/m,
  );

  // The same file again: duplicates; with --strict the rejected row makes it exit 3.
  const again = await ctl('-o', 'json', 'import', 'readings.csv', '--strict');
  expect(again.code).toBe(EXIT.rowsRejected);
  expect(JSON.parse(again.stdout)).toMatchObject({
    rows: 4,
    accepted: 0,
    duplicate: 3,
    rejected: 1,
    rejections: [{ row: 3, meterId: 'm-9', field: 'meter_id' }],
  });

  // The HTTP side's refusal (problem+json) as the user sees it.
  const refused = await parkctl(
    [...global, '--token', 'not-a-jwt', 'import', 'readings.csv'],
    {},
    { cwd: dir },
  );
  expect(refused.code).toBe(EXIT.failed);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(
    /^parkctl: http:\/\/127\.0\.0\.1:\d+\/v1\/readings:bulk: HTTP 401 Unauthorized: .+\npass a token with --token/m,
  );

  const listed = await ctl('meters', 'list', '--enterprise', 'ent-1', '--output', 'json');
  expect(listed).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(listed.stdout)).toEqual([
    expect.objectContaining({
      meterId: 'm-1',
      enterpriseId: 'ent-1',
      commodity: 'COMMODITY_ELECTRICITY',
      unit: 'UNIT_KWH',
      registerType: 'REGISTER_TYPE_INTERVAL',
      status: 'METER_STATUS_ACTIVE',
    }),
  ]);
  const table = await ctl('meters', 'list');
  expect(table.stdout.split('\n')[0]).toMatch(/^METER +ENTERPRISE +COMMODITY +ROLE +UNIT/);
  expect(table.stdout).toMatch(
    /^m-1 +ent-1 +electricity +grid_import +kWh +interval +15 +100 +active$/m,
  );

  const quarterHours = await ctl(
    '-o',
    'csv',
    'series',
    'm-1',
    '--from',
    q(0),
    '--to',
    q(4),
    '--resolution',
    'quarter_hour',
  );
  expect(quarterHours).toMatchObject({ code: 0, stderr: '' });
  expect(quarterHours.stdout).toBe(
    [
      'start,value,unit,measured,estimated,edited',
      `${q(0)},1.5,kWh,1,0,0`,
      `${q(1)},2.25,kWh,1,0,0`,
      `${q(2)},3,kWh,1,0,0`,
      '',
    ].join('\n'),
  );
  const hour = await ctl('-o', 'json', 'series', 'm-1', '--from', q(0), '--to', q(4));
  expect(JSON.parse(hour.stdout)).toMatchObject({
    unit: 'UNIT_KWH',
    resolution: 'RESOLUTION_HOUR',
    points: [{ start: q(0), value: { value: '6.75' }, measuredIntervals: 3 }],
  });

  const missing = await ctl('meters', 'get', 'm-404');
  expect(missing.code).toBe(EXIT.failed);
  expect(missing.stderr).toMatch(/^parkctl: NOT_FOUND: .*m-404/);
});

it('lists and replays dead letters on Kafka', async () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${PREFIX}orders.v1`;
  await ensureTopics(admin, [{ name: topic, partitions: 2, withDeadLetterTopic: true }]);
  // A new topic's leaders take a moment to reach every broker's metadata.
  await eventually(() => admin.fetchTopicOffsets(deadLetterTopic(topic)));
  await admin.disconnect();
  const brokers = ['--kafka', testInfrastructure().kafkaBrokers.join(',')];

  const none = await parkctl([...brokers, 'dlq', 'list', topic]);
  expect(none).toEqual({ code: 0, stdout: `(no dead letters on ${topic}.dlq)\n`, stderr: '' });

  // A dead letter as the consumer runner writes one.
  const producer = new MessageProducer(kafka);
  await producer.send([
    {
      topic: deadLetterTopic(topic),
      key: 'm-1',
      value: Buffer.from('poison'),
      headers: {
        [CE.id]: 'evt-1',
        [CE.type]: 'park.test.Poison',
        [DLQ.originalTopic]: topic,
        [DLQ.consumerGroup]: 'carbon',
        [DLQ.attempts]: '5',
        [DLQ.error]: 'cannot decode, the payload is not protobuf',
      },
    },
  ]);
  await producer.disconnect();

  const listed = await parkctl([...brokers, 'dlq', 'list', topic]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^PARTITION +OFFSET +KEY +TYPE +GROUP +ATTEMPTS +FAILED +ERROR\n/);
  expect(listed.stdout).toMatch(
    /^ +\d +0 +m-1 +park\.test\.Poison +carbon +5 +cannot decode, the payload is not protobuf\n$/m,
  );
  const json = await parkctl([...brokers, '-o', 'json', 'dlq', 'list', topic]);
  expect(JSON.parse(json.stdout)).toEqual([
    expect.objectContaining({
      key: 'm-1',
      originalTopic: topic,
      valueBase64: Buffer.from('poison').toString('base64'),
    }),
  ]);

  const group = `parkctl-test-${randomBytes(4).toString('hex')}`;
  const replayed = await parkctl([...brokers, 'dlq', 'replay', topic, '--group', group]);
  expect(replayed.code).toBe(0);
  expect(replayed.stdout).toMatch(/^replayed: +1$/m);
  expect(replayed.stderr).toMatch(/replaying .*\.dlq \[#+\] 100% {2}1 \/ 1/);
  const back = await readTopic(kafka, topic);
  expect(back).toEqual([expect.objectContaining({ key: 'm-1', value: Buffer.from('poison') })]);
  // Each dead letter is replayed once.
  const again = await parkctl([...brokers, 'dlq', 'replay', topic, '--group', group]);
  expect(again.stdout).toMatch(/^replayed: +0$/m);

  const unknown = await parkctl([...brokers, 'dlq', 'list', `${PREFIX}nothing.v1`]);
  expect(unknown.code).toBe(EXIT.failed);
  expect(unknown.stderr).toMatch(/^parkctl: there is no topic .*nothing\.v1\.dlq on /);
});
