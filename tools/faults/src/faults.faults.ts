// Fault test (`npm run test:faults`, not part of `npm test`): the four services on a PostgreSQL
// cluster and a Kafka broker of the test's own, so that killing and restarting them disturbs
// nothing else. During an ingest of over 200,000 readings by a gateway that resends unanswered
// batches with backoff, faults are injected one after another: the broker killed (kill -9) and
// started again 10 s later, PostgreSQL restarted, each service killed (kill -9) mid-batch and
// restarted; some batches are delivered twice, some out of order, and one poison record is put
// on the readings topic. Then every accepted reading must be in metering's store exactly once,
// carbon's totals must equal the test's own sums of the readings times the seed factors,
// reporting must agree with carbon, and the only dead letters must be the poison's.
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { DEFAULT_REDIS_URL, privateKafkaBroker, type KafkaBroker } from '@park/infra';
import { signDevelopmentToken, type AuthSettings } from '@park/service-kit';
import {
  buildPark,
  canonical,
  electricity,
  exact,
  INTERVAL_MS,
  intervalValues,
  KIND_FIELD,
  registerPark,
  scope1,
  scope2Location,
  scope2Market,
  text,
  UNITS,
  zero,
  type Sums,
} from '@park/simulator';
import {
  bearerMetadata,
  readTopic,
  startParkServices,
  startPrivatePostgres,
  unary,
  type ParkServices,
  type PrivatePostgres,
  type Service,
} from '@park/testing';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { deliveryPlan, type Delivery } from './delivery-plan';
import { formatFaultReport, type FaultRecord, type FinalCheck } from './fault-report';
import { Gateway } from './gateway';

const SERVICES: Service[] = ['metering', 'carbon', 'dispatch', 'reporting'];
const SECRET = 'fault-test-secret-of-at-least-32-chars!!';
const AUTH: AuthSettings = { secret: SECRET, issuer: 'park-dev', audience: 'park' };
const RUN_ID = randomBytes(4).toString('hex');
const PREFIX = `faults.${RUN_ID}.`;
const READINGS_TOPIC = `${PREFIX}park.metering.readings.v1`;

// ---- the ingest: at least 200,000 readings ----

/** 60 enterprises: 143 meters (grid, PV, gas, heat, direct line, plants, storage). */
const ENTERPRISES = 60;
/** 15 days of 96 intervals: 143 x 1440 = 205,920 readings. */
const DAYS = 15;
/**
 * Sixteen intervals a batch (four hours of a gateway's backlog: about 2,300 readings, 90
 * batches), as the e2e test sends: metering's cost is mostly per meter stream and batch, so
 * smaller batches would make the run longer, not harder.
 */
const INTERVALS_PER_BATCH = 16;
/**
 * The ingest is spread over at least this long (a gateway's backlog sent at a steady pace), so
 * every fault lands while batches still flow: the seven are injected one after another, and each
 * consumer's restart waits out its group's 30 s session timeout. Where metering is slower than the
 * pace, the batches simply go out as fast as it answers.
 */
const INGEST_SPAN_MS = 270_000;
const DAY_MS = 86_400_000;
const TZ_OFFSET_MS = 8 * 3_600_000;
/** Park-local midnight DAYS + 1 days ago: every interval is in the past. */
const START =
  Math.floor((Date.now() + TZ_OFFSET_MS) / DAY_MS) * DAY_MS - TZ_OFFSET_MS - (DAYS + 1) * DAY_MS;
const END = START + DAYS * DAY_MS;
const localMonth = (instant: number) => new Date(instant + TZ_OFFSET_MS).toISOString().slice(0, 7);

/**
 * Hard limits: start 90 s, the run 480 s, cleanup 30 s; the whole `npm run test:faults` thus
 * ends within the 10 minutes, passed or failed.
 */
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 480_000;
const CLEANUP_TIMEOUT_MS = 30_000;
/** After the ingest, carbon and reporting get this long to catch up. */
const SETTLE_TIMEOUT_MS = 150_000;

const sim = buildPark({ seed: 7, enterprises: ENTERPRISES, parkId: `park-faults-${RUN_ID}` });
const meterById = new Map(sim.meters.map((meter) => [meter.meterId, meter]));

/** The readings of the run, in batches of consecutive intervals, as a gateway buffers them. */
function buildBatches(): park.metering.v1.IngestReadingsRequest[] {
  const batches: park.metering.v1.IngestReadingsRequest[] = [];
  const soc = new Map<string, number>();
  for (let at = START; at < END; at += INTERVALS_PER_BATCH * INTERVAL_MS) {
    const readings: park.metering.v1.ReadingInput[] = [];
    for (
      let interval = at;
      interval < at + INTERVALS_PER_BATCH * INTERVAL_MS;
      interval += INTERVAL_MS
    ) {
      const { values } = intervalValues(sim, interval, soc);
      for (const meter of sim.meters) {
        const value = values.get(meter.meterId);
        if (value === undefined) continue;
        readings.push({
          meterId: meter.meterId,
          intervalStart: new Date(interval),
          value: { value: value.toFixed(3) },
          unit: UNITS[meter.kind],
        });
      }
    }
    batches.push({ batchId: new Date(at).toISOString(), source: 'gateway:faults', readings });
  }
  return batches;
}

const readingKey = (meterId: string, intervalStart: Date | string) =>
  `${meterId}|${new Date(intervalStart).toISOString()}`;

// ---- infrastructure of the test's own ----

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let postgres: PrivatePostgres | undefined;
let broker: KafkaBroker | undefined;
let brokerDir: string | undefined;
let services: ParkServices | undefined;
let gateway: Gateway | undefined;
const runStartedAt = Date.now();
const faults: FaultRecord[] = [];
const checks: FinalCheck[] = [];
const facts: string[] = [];
const log = (line: string) =>
  process.stdout.write(`[faults +${((Date.now() - runStartedAt) / 1000).toFixed(1)} s] ${line}\n`);

const kafka = () =>
  new Kafka({ clientId: 'fault-test', brokers: [broker!.bootstrap], logLevel: logLevel.NOTHING });

/**
 * Should jest end without afterAll (a hard timeout, a crash), the broker and the cluster must
 * not outlive it: the broker is a detached process and the cluster a server of its own.
 */
function stopLeftovers(): void {
  const pid = broker?.pid();
  if (pid !== undefined) process.kill(pid, 'SIGKILL');
  void postgres?.stop();
}

beforeAll(async () => {
  process.once('exit', stopLeftovers);
  postgres = await startPrivatePostgres();
  if (!postgres) throw new Error('no PostgreSQL binaries (/usr/lib/postgresql/*/bin) found');
  brokerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-faults-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  broker = privateKafkaBroker(brokerDir, { port, controllerPort, heapMb: 384 }, log);
  await broker.start();
  log(`private PostgreSQL on port ${postgres.port}, private Kafka at ${broker.bootstrap}`);
  services = await startParkServices({
    infrastructure: {
      postgresUrl: postgres.url,
      kafkaBrokers: [broker.bootstrap],
      redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    },
    prefix: PREFIX,
    label: 'faults',
    jwtSecret: SECRET,
    redisDb: 14,
    env: {
      // No estimates of missing intervals mid-run: the sums must be those of the readings sent.
      metering: { METERING_GAP_FILL_INTERVAL_MS: '3600000', KAFKA_LOG_LEVEL: 'nothing' },
      dispatch: { DISPATCH_TICK_MS: '0', KAFKA_LOG_LEVEL: 'nothing' },
      // The broker's absence is expected here: kafkajs would log every refused connection.
      carbon: { KAFKA_LOG_LEVEL: 'nothing' },
      reporting: { KAFKA_LOG_LEVEL: 'nothing' },
    },
  });
  log('services serving');
}, START_TIMEOUT_MS);

afterAll(async () => {
  gateway?.close();
  await services?.cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  await broker?.kill('SIGKILL').catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
  if (brokerDir) fs.rmSync(brokerDir, { recursive: true, force: true });
  process.removeListener('exit', stopLeftovers);
  process.stdout.write(`\n${formatFaultReport({ runStartedAt, faults, checks, facts })}\n\n`);
}, CLEANUP_TIMEOUT_MS);

// ---- health ----

async function readyz(service: Service): Promise<boolean> {
  try {
    const response = await fetch(`${services!.http(service)}/readyz`, {
      signal: AbortSignal.timeout(2_000),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

const allReady = async () => (await Promise.all(SERVICES.map(readyz))).every(Boolean);

// ---- the run ----

it(
  'ingests 200,000 readings through broker, database and service crashes; nothing lost or doubled',
  async () => {
    const token = await signDevelopmentToken(AUTH, {
      role: 'operator',
      subject: 'fault-test',
      ttlSeconds: 3_600,
    });
    await registerPark(sim, {
      metering: services!.grpc('metering'),
      carbon: services!.grpc('carbon'),
      dispatch: services!.grpc('dispatch'),
      token,
    });

    const batches = buildBatches();
    const readingCount = batches.reduce((n, b) => n + b.readings.length, 0);
    const plan = deliveryPlan(batches.length, { duplicateEvery: 10, swapEvery: 12 });
    facts.push(
      `${readingCount} readings of ${sim.meters.length} meters over ${DAYS} days, ${batches.length} batches of ${INTERVALS_PER_BATCH} intervals`,
      `${plan.length} deliveries: ${plan.filter((d) => d.kind === 'duplicate').length} batches delivered twice, ${plan.filter((d) => d.kind === 'ahead').length} pairs out of order`,
    );
    log(facts.join('; '));

    // Every reading metering answered for (accepted, or a duplicate of one it holds): its value.
    const accepted = new Map<string, string>();
    const progress = { delivered: 0, lastAnsweredAt: 0, retried: 0, done: false };
    const irregular: string[] = [];
    gateway = new Gateway(services!.grpc('metering'), {
      token,
      // A large batch on a busy machine can take several seconds: only a dead call times out.
      attemptTimeoutMs: 60_000,
      initialBackoffMs: 100,
      maxBackoffMs: 2_000,
      giveUpAfterMs: 120_000,
    });

    const ingest = async () => {
      const ingestStarted = Date.now();
      let tenth = { at: ingestStarted, sent: 0 };
      for (const [index, delivery] of plan.entries()) {
        const due = ingestStarted + (index / plan.length) * INGEST_SPAN_MS;
        if (Date.now() < due) await sleep(due - Date.now());
        const batch = batches[delivery.batch]!;
        const outcome = await gateway!.deliver(batch);
        progress.delivered++;
        tenth.sent += batch.readings.length;
        if (outcome.failures.length > 0) {
          log(
            `batch ${batch.batchId} answered after ${outcome.attempts} attempts (first error: ${outcome.failures[0]})`,
          );
        }
        if (progress.delivered % Math.ceil(plan.length / 10) === 0) {
          const rate = tenth.sent / ((Date.now() - tenth.at) / 1000);
          log(`${progress.delivered} of ${plan.length} deliveries, ${Math.round(rate)} readings/s`);
          tenth = { at: Date.now(), sent: 0 };
        }
        progress.retried += outcome.failures.length;
        progress.lastAnsweredAt = outcome.answeredAt;
        const { result } = outcome;
        const answered = result.accepted + result.duplicate;
        if (
          answered !== batch.readings.length ||
          result.corrected + result.held + result.rejected > 0
        ) {
          irregular.push(`${batch.batchId} (${delivery.kind}): ${JSON.stringify(result)}`);
        }
        if (delivery.kind === 'duplicate' && result.duplicate !== batch.readings.length) {
          irregular.push(`${batch.batchId} delivered again: only ${result.duplicate} duplicates`);
        }
        if (answered === batch.readings.length) {
          for (const reading of batch.readings) {
            accepted.set(readingKey(reading.meterId, reading.intervalStart!), reading.value!.value);
          }
        }
      }
      progress.done = true;
      facts.push(`ingest took ${((Date.now() - ingestStarted) / 1000).toFixed(1)} s`);
    };

    const poisonId = `fault-test-poison-${RUN_ID}`;
    const faultRun = runFaults(plan, progress, poisonId);
    await Promise.all([ingest(), faultRun]);
    log(`ingest done: ${accepted.size} readings accepted, ${progress.retried} attempts retried`);

    await settleAndCheck({ accepted, irregular, poisonId });
    const failed = checks.filter((c) => !c.passed);
    expect(failed).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

// ---- the faults ----

interface Progress {
  delivered: number;
  lastAnsweredAt: number;
  retried: number;
  done: boolean;
}

/**
 * Injects the faults one after another at set shares of the ingest; each is timed from its
 * injection until every service is ready and a batch sent after the restore was answered.
 */
async function runFaults(plan: Delivery[], progress: Progress, poisonId: string): Promise<void> {
  const at = async (share: number) => {
    while (progress.delivered < plan.length * share && !progress.done) await sleep(50);
  };
  const inject = async (
    share: number,
    fault: string,
    act: (record: FaultRecord) => Promise<void>,
  ): Promise<void> => {
    await at(share);
    if (progress.done) throw new Error(`the ingest ended before "${fault}"`);
    const record: FaultRecord = {
      fault,
      injectedAt: Date.now(),
      progress: progress.delivered / plan.length,
      retriedAttempts: 0,
    };
    faults.push(record);
    const retriedBefore = progress.retried;
    log(`${fault} ...`);
    await act(record);
    record.restoredAt ??= Date.now();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (progress.lastAnsweredAt > record.restoredAt && (await allReady())) {
        record.recoveredAt = Date.now();
        break;
      }
      await sleep(100);
    }
    record.retriedAttempts = progress.retried - retriedBefore;
    log(
      record.recoveredAt
        ? `${fault}: recovered after ${((record.recoveredAt - record.injectedAt) / 1000).toFixed(1)} s`
        : `${fault}: not recovered within 120 s`,
    );
    if (!record.recoveredAt) throw new Error(`no recovery from "${fault}" within 120 s`);
  };

  // (d) A poison record on the readings topic: undecodable, it must reach the dead letters of
  // the readings topic (one per consumer group that reads it) and nothing else.
  await inject(0.03, 'poison record on the readings topic', async () => {
    // Field 13 with wire type 6, which protobuf does not have: undecodable by construction.
    const payload = Buffer.from('not a protobuf payload');
    expect(() => park.metering.v1.ReadingsRecorded.decode(payload)).toThrow();
    // Headers as the relay writes them (CloudEvents binary mode), so only the payload is bad.
    const headers = {
      ce_id: poisonId,
      ce_type: 'park.metering.v1.ReadingsRecorded',
      ce_source: '//park/fault-test',
      ce_specversion: '1.0',
      'content-type': 'application/protobuf',
    };
    const producer = kafka().producer();
    await producer.connect();
    try {
      await producer.send({
        topic: READINGS_TOPIC,
        messages: [{ key: 'no-such-meter', value: payload, headers }],
      });
    } finally {
      await producer.disconnect();
    }
  });

  // (a) The broker dies without warning; it comes back 10 s later with the same data.
  await inject(0.06, 'kill -9 the Kafka broker, start it again 10 s later', async (record) => {
    await broker!.kill('SIGKILL');
    await sleep(10_000);
    await broker!.start();
    record.restoredAt = Date.now();
  });

  // (b) PostgreSQL restarted (fast shutdown: sessions cut) while the services run.
  await inject(0.2, 'restart PostgreSQL (pg_ctl restart -m fast)', async (record) => {
    await postgres!.restart();
    record.restoredAt = Date.now();
  });

  // (c) Each service killed while a batch is in flight, then started again on the same ports.
  // Early shares: a consumer's restart takes its group's session timeout (30 s) to rejoin, and
  // all four must be done before the ingest is.
  const shares: Record<Service, number> = {
    metering: 0.25,
    carbon: 0.3,
    dispatch: 0.35,
    reporting: 0.4,
  };
  for (const service of SERVICES) {
    await inject(shares[service], `kill -9 ${service} mid-batch, restart it`, async (record) => {
      await once(gateway!, 'sent');
      await services!.kill(service);
      await services!.restart(service);
      record.restoredAt = Date.now();
    });
  }
}

// ---- the checks ----

function check(name: string, passed: boolean, detail: string): void {
  checks.push({ check: name, passed, detail });
  log(`${passed ? 'ok' : 'FAILED'}: ${name}: ${detail}`);
}

interface Expected {
  enterprises: Map<string, Sums>;
  /** Per enterprise and park-local month. */
  months: Map<string, Map<string, Sums>>;
}

/** The test's own sums of the accepted readings, per enterprise and per month. */
function expectedSums(accepted: Map<string, string>): Expected {
  const expected: Expected = { enterprises: new Map(), months: new Map() };
  for (const [key, value] of accepted) {
    const [meterId, start] = key.split('|') as [string, string];
    const meter = meterById.get(meterId)!;
    if (!(meter.kind in KIND_FIELD)) continue;
    const field = KIND_FIELD[meter.kind as keyof typeof KIND_FIELD];
    const month = localMonth(Date.parse(start));
    const byMonth = expected.months.get(meter.enterpriseId) ?? new Map<string, Sums>();
    expected.months.set(meter.enterpriseId, byMonth);
    const total = expected.enterprises.get(meter.enterpriseId) ?? zero();
    expected.enterprises.set(meter.enterpriseId, total);
    const monthly = byMonth.get(month) ?? zero();
    byMonth.set(month, monthly);
    total[field] += exact(value);
    monthly[field] += exact(value);
  }
  return expected;
}

async function settleAndCheck(run: {
  accepted: Map<string, string>;
  irregular: string[];
  poisonId: string;
}): Promise<void> {
  const { accepted } = run;
  check(
    'metering answered every delivery',
    run.irregular.length === 0,
    run.irregular.length === 0
      ? 'accepted or duplicate, each reading'
      : run.irregular.slice(0, 5).join('; '),
  );

  // 1. Metering's store: each accepted reading once in the read model and once in the events.
  const db = new pg.Client({ connectionString: services!.databaseUrl('metering') });
  await db.connect();
  try {
    const { rows: stored } = await db.query<{ meter_id: string; start: Date; value: string }>(
      `SELECT meter_id, interval_start AS start, value::text AS value FROM readings`,
    );
    const wrong = stored.filter((r) => {
      const value = accepted.get(readingKey(r.meter_id, r.start));
      return value === undefined || canonical(value) !== canonical(r.value);
    });
    check(
      'read model: every accepted reading once, with its value',
      stored.length === accepted.size && wrong.length === 0,
      `${stored.length} rows for ${accepted.size} accepted readings, ${wrong.length} unknown or different`,
    );
    const { rows: recorded } = await db.query<{ meter_id: string; start: string; times: string }>(
      `SELECT e.data->'meter'->>'meterId' AS meter_id, r->>'intervalStart' AS start,
              count(*)::text AS times
       FROM events e CROSS JOIN LATERAL jsonb_array_elements(e.data->'readings') r
       WHERE e.event_type = 'ReadingsRecorded'
       GROUP BY 1, 2`,
    );
    const twice = recorded.filter((r) => r.times !== '1').length;
    const unknown = recorded.filter((r) => !accepted.has(readingKey(r.meter_id, r.start))).length;
    check(
      'events: every accepted reading recorded exactly once',
      recorded.length === accepted.size && twice === 0 && unknown === 0,
      `${recorded.length} recorded of ${accepted.size}, ${twice} more than once, ${unknown} not accepted`,
    );
    const { rows: others } = await db.query<{ event_type: string; n: string }>(
      `SELECT event_type, count(*)::text AS n FROM events
       WHERE event_type IN ('ReadingCorrected', 'ReadingsEstimated', 'ReadingsHeld', 'GapDetected')
       GROUP BY 1`,
    );
    check(
      'no corrections, estimates, held values or gaps',
      others.length === 0,
      others.length === 0 ? 'none' : others.map((o) => `${o.event_type} ${o.n}`).join(', '),
    );
  } finally {
    await db.end();
  }

  // 2. Carbon's totals against the test's sums; 3. reporting's statements against carbon's.
  const expected = expectedSums(accepted);
  const operator = await bearerMetadata(AUTH, 'operator');
  const credentials = grpc.credentials.createInsecure();
  const carbon = new park.carbon.v1.CarbonServiceClient(services!.grpc('carbon'), credentials);
  const reporting = new park.reporting.v1.ReportingServiceClient(
    services!.grpc('reporting'),
    credentials,
  );
  const deadline = () => ({ deadline: Date.now() + 30_000 });
  const period = { start: new Date(START), end: new Date(END) };
  const settleStarted = Date.now();
  const compare = async () => {
    const differences: string[] = [];
    let parkKg = { scope1: 0n, location: 0n, market: 0n };
    for (const enterprise of sim.enterprises) {
      const id = enterprise.enterpriseId;
      const sums = expected.enterprises.get(id)!;
      const { footprint } = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
        carbon.getEnterpriseFootprint({ enterpriseId: id, period }, operator, deadline(), done),
      );
      const actual = {
        electricity: canonical(footprint?.figures?.electricityKwh?.value),
        scope1: canonical(footprint?.scope1Kgco2e?.value),
        location: canonical(footprint?.scope2LocationKgco2e?.value),
        market: canonical(footprint?.scope2MarketKgco2e?.value),
      };
      const wanted = {
        electricity: text(electricity(sums)),
        scope1: text(scope1(sums)),
        location: text(scope2Location(sums)),
        market: text(scope2Market(sums)),
      };
      if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
        differences.push(`carbon ${id}: ${JSON.stringify(actual)} != ${JSON.stringify(wanted)}`);
      }
      parkKg = {
        scope1: parkKg.scope1 + scope1(sums),
        location: parkKg.location + scope2Location(sums),
        market: parkKg.market + scope2Market(sums),
      };
      // Reporting's monthly statement: carbon's figures of the same month, in t (6 decimals).
      for (const month of expected.months.get(id)!.keys()) {
        const [year, monthNumber] = month.split('-').map(Number) as [number, number];
        const monthStart = Date.UTC(year, monthNumber - 1, 1) - TZ_OFFSET_MS;
        const monthEnd = Date.UTC(year, monthNumber, 1) - TZ_OFFSET_MS;
        const { footprint: ofMonth } = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>(
          (done) =>
            carbon.getEnterpriseFootprint(
              {
                enterpriseId: id,
                period: {
                  start: new Date(Math.max(START, monthStart)),
                  end: new Date(Math.min(END, monthEnd)),
                },
              },
              operator,
              deadline(),
              done,
            ),
        );
        const statement = await unary<park.reporting.v1.GetEnterpriseStatementResponse>((done) =>
          reporting.getEnterpriseStatement({ enterpriseId: id, month }, operator, deadline(), done),
        );
        const row = (label: string) => statement.rows.find((r) => r.label === label)?.value;
        const tonnes = (kg: string | undefined) => text(exact(kg ?? '0') / 1000n, 6);
        const reported = {
          kwh: row('Electricity consumed'),
          scope1: row('Scope 1 emissions'),
          location: row('Scope 2 emissions (location-based)'),
          market: row('Scope 2 emissions (market-based)'),
        };
        const carbonSays = {
          kwh: text(exact(ofMonth?.figures?.electricityKwh?.value ?? '0'), 3),
          scope1: tonnes(ofMonth?.scope1Kgco2e?.value),
          location: tonnes(ofMonth?.scope2LocationKgco2e?.value),
          market: tonnes(ofMonth?.scope2MarketKgco2e?.value),
        };
        if (JSON.stringify(reported) !== JSON.stringify(carbonSays)) {
          differences.push(
            `reporting ${id} ${month}: ${JSON.stringify(reported)} != carbon ${JSON.stringify(carbonSays)}`,
          );
        }
      }
    }
    const { balance } = await unary<park.carbon.v1.GetParkBalanceResponse>((done) =>
      carbon.getParkBalance({ parkId: sim.parkId, period }, operator, deadline(), done),
    );
    const parkActual = {
      scope1: canonical(balance?.scope1Kgco2e?.value),
      location: canonical(balance?.scope2LocationKgco2e?.value),
      market: canonical(balance?.scope2MarketKgco2e?.value),
    };
    const parkWanted = {
      scope1: text(parkKg.scope1),
      location: text(parkKg.location),
      market: text(parkKg.market),
    };
    if (JSON.stringify(parkActual) !== JSON.stringify(parkWanted)) {
      differences.push(
        `park balance: ${JSON.stringify(parkActual)} != ${JSON.stringify(parkWanted)}`,
      );
    }
    return { differences, parkWanted };
  };
  let last: { differences: string[]; parkWanted?: Record<string, string> } | undefined;
  try {
    const settleDeadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      last = await compare().catch((error: unknown) => ({
        differences: [`asking carbon and reporting failed: ${String(error)}`],
        parkWanted: undefined,
      }));
      if (last.differences.length === 0 || Date.now() > settleDeadline) break;
      await sleep(3_000);
    }
  } finally {
    carbon.close();
    reporting.close();
  }
  facts.push(
    `carbon and reporting settled ${((Date.now() - settleStarted) / 1000).toFixed(1)} s after the ingest`,
  );
  const differences = last?.differences ?? ['not compared'];
  const carbonDiffs = differences.filter((d) => !d.startsWith('reporting'));
  const reportingDiffs = differences.filter((d) => d.startsWith('reporting'));
  check(
    "carbon's totals = the test's sum of readings x factors (per enterprise and park)",
    carbonDiffs.length === 0,
    carbonDiffs.length === 0 && last?.parkWanted
      ? `${sim.enterprises.length} enterprises; park kgCO2e scope 1 ${last.parkWanted.scope1}, scope 2 location ${last.parkWanted.location}, market ${last.parkWanted.market}`
      : carbonDiffs.slice(0, 3).join('; '),
  );
  check(
    "reporting's monthly statements = carbon's figures",
    reportingDiffs.length === 0,
    reportingDiffs.length === 0
      ? 'electricity and scope 1/2 of every enterprise and month'
      : reportingDiffs.slice(0, 3).join('; '),
  );

  // 4. Dead letters: the poison only, and only on the readings topic's.
  const admin = kafka().admin();
  await admin.connect();
  let dlqTopics: string[];
  try {
    dlqTopics = (await admin.listTopics()).filter(
      (t) => t.startsWith(PREFIX) && t.endsWith('.dlq'),
    );
  } finally {
    await admin.disconnect();
  }
  const unexpected: string[] = [];
  const poisonGroups: string[] = [];
  for (const topic of dlqTopics) {
    for (const record of await readTopic(kafka(), topic)) {
      if (topic === `${READINGS_TOPIC}.dlq` && record.headers.ce_id === run.poisonId) {
        poisonGroups.push(record.headers.dlq_consumer_group ?? '?');
      } else {
        unexpected.push(`${topic}: ${record.headers.ce_type} (${record.headers.dlq_error})`);
      }
    }
  }
  check(
    'dead letters: only the injected poison, on the readings topic',
    unexpected.length === 0 && poisonGroups.length > 0,
    unexpected.length === 0
      ? `poison dead-lettered by ${poisonGroups.sort().join(', ') || 'no consumer group'}; ${dlqTopics.length} dead-letter topics otherwise empty`
      : `${unexpected.length} others: ${unexpected.slice(0, 3).join('; ')}`,
  );
  check(
    'no service exited unexpectedly',
    services!.unexpectedExits.length === 0,
    services!.unexpectedExits.join(', ') || 'none',
  );
}
