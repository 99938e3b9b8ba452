// The documentation runs: every ```sh block of docs/integrators.md and docs/operators.md is
// executed, in order, in one bash session per document (`set -euo pipefail`), against the four
// services started for this file (fresh databases, a topic prefix of its own, ephemeral loopback
// ports), with the documents' environment variables pointing at them. Each block must run to
// its end, and its output must contain every `# prints:` line of the block. Blocks marked
// ```sh no-run are not run (kubectl against a production cluster): the text before each says
// why. A block marked ```sh needs=<command> runs where that command is installed (grpcurl, which
// Debian does not package) and is reported as not run elsewhere.
//
// What the documents act on is seeded first: the simulator's park (three enterprises) with six
// hours of readings on a day five months back (so that its month can be closed), plans for today
// (setpoints for the EMS section) and tomorrow, and one undecodable record on the readings topic
// (the dead letter the operators' runbook lists and replays).
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { signDevelopmentToken, type AuthSettings } from '@park/service-kit';
import { eventually, startParkServices, testKafka, unary, type ParkServices } from '@park/testing';
import { buildPark } from './park-model';
import { registerPark, streamReadings } from './simulator';
import {
  describeRun,
  fencedBlocks,
  runShellSession,
  type DocBlock,
  type SessionRun,
} from './test-support/doc-blocks';

const REPO = path.resolve(__dirname, '..', '..', '..');
const ID = randomBytes(4).toString('hex');
const PREFIX = `test.docs.${ID}.`;
const SECRET = `docs-test-secret-${ID}-of-32-chars-or-more`;
const AUTH: AuthSettings = {
  secret: SECRET,
  issuer: 'park-dev',
  audience: 'park',
};
const PARK_ID = `park-docs-${ID}`;
const DAY_MS = 86_400_000;
const TZ_OFFSET_MS = 8 * 3_600_000;
const QUARTER_MS = 15 * 60_000;

/** A park-local day: the 15th of the month five months back (its month closes today). */
function seededDay(now: number): string {
  const local = new Date(now + TZ_OFFSET_MS);
  return new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - 5, 15))
    .toISOString()
    .slice(0, 10);
}
const localDay = (instant: number) => new Date(instant + TZ_OFFSET_MS).toISOString().slice(0, 10);

const DAY = seededDay(Date.now());
const DAY_START = Date.parse(`${DAY}T00:00:00+08:00`);

const DOCS = ['docs/integrators.md', 'docs/operators.md'] as const;
const documents = Object.fromEntries(
  DOCS.map((doc) => [doc, fencedBlocks(fs.readFileSync(path.join(REPO, doc), 'utf8'), doc)]),
) as Record<(typeof DOCS)[number], DocBlock[]>;
const NEEDS = /^needs=([\w.-]+)$/;
const installed = (command: string) =>
  spawnSync('bash', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
/** The commands a block needs that this machine lacks. */
const missingFor = (block: DocBlock) =>
  block.flags.flatMap((flag) => NEEDS.exec(flag)?.[1] ?? []).filter((c) => !installed(c));
const shellBlocks = (doc: (typeof DOCS)[number]) =>
  documents[doc].filter(
    (b) => b.lang === 'sh' && !b.flags.includes('no-run') && missingFor(b).length === 0,
  );

let services: ParkServices | undefined;
let scratch: string | undefined;
const timings: Record<string, number> = {};

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const began = Date.now();
  try {
    return await work();
  } finally {
    timings[label] = (Date.now() - began) / 1000;
  }
}

/** The environment both documents read, pointed at this file's services, topics and park. */
function documentEnv(): NodeJS.ProcessEnv {
  const s = services!;
  const env: NodeJS.ProcessEnv = {};
  // Nothing of the developer's own park settings: only what is set here counts.
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(PARK_|JWT_|KAFKA_|DATABASE_URL$|REDIS_URL$|TOKEN$)/.test(key)) env[key] = value;
  }
  const topic = (name: string) => `${PREFIX}${name}`;
  return {
    ...env,
    METERING: s.grpc('metering'),
    CARBON: s.grpc('carbon'),
    DISPATCH: s.grpc('dispatch'),
    REPORTING: s.grpc('reporting'),
    METERING_HTTP: s.http('metering'),
    CARBON_HTTP: s.http('carbon'),
    DISPATCH_HTTP: s.http('dispatch'),
    REPORTING_HTTP: s.http('reporting'),
    KAFKA: s.kafkaBrokers.join(','),
    REGISTRY_TOPIC: topic('park.metering.registry.v1'),
    READINGS_TOPIC: topic('park.metering.readings.v1'),
    EMISSIONS_TOPIC: topic('park.carbon.emissions.v1'),
    PLANS_TOPIC: topic('park.dispatch.plans.v1'),
    SETPOINTS_TOPIC: topic('park.dispatch.setpoints.v1'),
    ACKS_TOPIC: topic('park.dispatch.setpoint-acks.v1'),
    PARK: PARK_ID,
    DAY,
    CLOSE_MONTH: DAY.slice(0, 7),
    SCRATCH: scratch!,
    JWT_SECRET: SECRET,
    // METER and ASSET keep the documents' defaults (the simulator's ids are the same here).
  };
}

async function runDocument(doc: (typeof DOCS)[number], timeoutMs: number): Promise<SessionRun> {
  const blocks = shellBlocks(doc);
  const run = await timed(doc, () =>
    runShellSession(blocks, {
      cwd: REPO,
      env: documentEnv(),
      timeoutMs,
      scriptDir: scratch!,
    }),
  );
  const failed = run.blocks.find((b) => b.started && !b.finished);
  if (run.exitCode !== 0 || failed || run.blocks.some((b) => !b.finished)) {
    const blame = failed ?? run.blocks.find((b) => !b.finished);
    throw new Error(
      `${doc}: bash ended with ${run.timedOut ? 'a timeout' : (run.signal ?? `exit code ${run.exitCode}`)}` +
        (blame ? ` in\n${describeRun(blame)}` : `\n${run.output.slice(-4000)}`),
    );
  }
  for (const block of run.blocks) {
    for (const text of block.block.prints) {
      if (!block.output.includes(text)) {
        throw new Error(`output lacks "${text}":\n${describeRun(block)}`);
      }
    }
  }
  const seconds = run.blocks.map((b) => `${b.block.line}:${b.seconds}`).join(' ');
  console.log(`${doc}: ${run.blocks.length} blocks ran (line:seconds ${seconds})`);
  return run;
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'park-docs-'));
  services = await timed('start', () =>
    startParkServices({
      prefix: PREFIX,
      label: 'docs',
      jwtSecret: SECRET,
      redisDb: 13,
      env: {
        // The seeded day lies five months back: metering takes it, carbon may close its month.
        metering: { METERING_LATE_WINDOW_DAYS: '400' },
        // The runbook closes the month itself.
        carbon: { CARBON_PERIOD_CLOSE_INTERVAL_MS: '0' },
        dispatch: {
          // Setpoints of today's plan every second; acknowledged by the EMS section later.
          DISPATCH_TICK_MS: '1000',
          DISPATCH_ACK_TIMEOUT_MS: '900000',
          // No re-plans from the seeded day's SOC readings, no scheduler plan beside the test's.
          DISPATCH_REPLAN_SOC_DEVIATION: '1',
          DISPATCH_REPLAN_GENERATION_DEVIATION: '1',
          DISPATCH_DAILY_PLAN_AT: '23:59',
        },
      },
    }),
  );
  const s = services;
  const token = await signDevelopmentToken(AUTH, {
    role: 'operator',
    subject: 'docs-test',
    ttlSeconds: 3_600,
  });
  const targets = {
    metering: s.grpc('metering'),
    carbon: s.grpc('carbon'),
    dispatch: s.grpc('dispatch'),
    token,
  };
  const sim = buildPark({ seed: 7, enterprises: 3, parkId: PARK_ID });
  await timed('register', () => registerPark(sim, targets));
  const summary = await timed('stream', () =>
    streamReadings(sim, targets, {
      start: DAY_START,
      days: 0.25,
      speed: 1e9,
      anomalies: { gap: 0, late: 0, duplicate: 0 },
    }),
  );
  expect(summary.rejected).toBe(0);
  expect(summary.accepted).toBeGreaterThan(0);

  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const dispatch = new park.dispatch.v1.DispatchServiceClient(
    s.grpc('dispatch'),
    grpc.credentials.createInsecure(),
  );
  const reporting = new park.reporting.v1.ReportingServiceClient(
    s.grpc('reporting'),
    grpc.credentials.createInsecure(),
  );
  const kafka = testKafka('docs-test');
  try {
    for (const day of [localDay(Date.now()), localDay(Date.now() + DAY_MS)]) {
      await unary((done) => dispatch.planDay({ parkId: PARK_ID, day }, md, done));
    }
    // A producer's mistake: a record whose value is not the message its ce_type names.
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: `${PREFIX}park.metering.readings.v1`,
        messages: [
          {
            key: 'ent-002-grid',
            value: Buffer.from([0xff, 0xff, 0xff]),
            headers: {
              ce_id: `poison-${ID}`,
              ce_type: 'park.metering.v1.ReadingsRecorded',
              ce_source: '//gateway/misconfigured',
              ce_specversion: '1.0',
              'content-type': 'application/protobuf',
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    // Wait until what the documents read is there: reporting's KPIs of the day, today's
    // setpoints, both consumers' dead letters.
    await timed('settle', async () => {
      await eventually(
        async () => {
          const { kpis } = await unary<park.reporting.v1.GetParkKpisResponse>((done) =>
            reporting.getParkKpis(
              {
                parkId: PARK_ID,
                granularity: park.reporting.v1.Granularity.GRANULARITY_DAY,
                period: DAY,
              },
              md,
              done,
            ),
          );
          expect(kpis.find((k) => k.name === 'co2_per_tce')?.value?.value).toBeTruthy();
          const { setpoints } = await unary<park.dispatch.v1.GetSetpointsResponse>((done) =>
            dispatch.getSetpoints({ parkId: PARK_ID, assetId: 'storage-north' }, md, done),
          );
          expect(setpoints.length).toBeGreaterThan(0);
          const admin = kafka.admin();
          await admin.connect();
          try {
            const offsets = await admin.fetchTopicOffsets(`${PREFIX}park.metering.readings.v1.dlq`);
            expect(
              offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0),
            ).toBeGreaterThanOrEqual(2);
          } finally {
            await admin.disconnect();
          }
        },
        60_000,
        500,
      );
    });
  } finally {
    dispatch.close();
    reporting.close();
  }
}, 150_000);

afterAll(async () => {
  await services?.cleanup();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  console.log(`docs test timings (s): ${JSON.stringify(timings)}`);
}, 60_000);

describe('the documents', () => {
  it.each(DOCS)('%s has runnable shell blocks and few that are not run, each explained', (doc) => {
    const blocks = documents[doc];
    // Commands are in ```sh blocks, where the test finds them; no other shell dialect tag.
    expect(blocks.filter((b) => /^(bash|shell|console|zsh|shell-session)$/.test(b.lang))).toEqual(
      [],
    );
    expect(shellBlocks(doc).length).toBeGreaterThanOrEqual(8);
    const notRun = blocks.filter((b) => b.lang === 'sh' && b.flags.includes('no-run'));
    expect(notRun.length).toBeLessThanOrEqual(1);
    for (const block of notRun) {
      expect({ line: block.line, says: /not run/.test(block.before) }).toEqual({
        line: block.line,
        says: true,
      });
    }
    expect(
      blocks.every((b) => b.lang !== 'sh' || b.flags.every((f) => f === 'no-run' || NEEDS.test(f))),
    ).toBe(true);
    for (const block of blocks.filter((b) => b.lang === 'sh' && missingFor(b).length > 0)) {
      console.log(
        `${doc}:${block.line} not run: ${missingFor(block).join(', ')} is not installed here`,
      );
    }
  });

  it("integrators.md's KafkaUsers are shaped like the prod overlay's and name real topics", () => {
    const users = fs.readFileSync(
      path.join(REPO, 'deploy/k8s/overlays/prod/kafka/users.yaml'),
      'utf8',
    );
    const addresses = new Set(
      fs
        .readdirSync(path.join(REPO, 'docs/asyncapi'))
        .flatMap((file) => [
          ...fs
            .readFileSync(path.join(REPO, 'docs/asyncapi', file), 'utf8')
            .matchAll(/^\s+address: (\S+)$/gm),
        ])
        .map((m) => m[1]!),
    );
    const yamls = documents['docs/integrators.md'].filter(
      (b) => b.lang === 'yaml' && /kind: KafkaUser/.test(b.code),
    );
    expect(yamls.length).toBeGreaterThanOrEqual(2);
    for (const { code, line } of yamls) {
      for (const shape of [
        /^apiVersion: (\S+)$/m,
        /^ {4}strimzi\.io\/cluster: (\S+)$/m,
        /^ {4}type: (scram-sha-512)$/m,
      ]) {
        expect({ line, value: shape.exec(code)?.[1] }).toEqual({
          line,
          value: shape.exec(users)?.[1],
        });
      }
      const topics = [
        ...code.matchAll(/type: topic\n\s+name: (\S+)\n\s+patternType: (literal|prefix)/g),
      ];
      expect(topics.length).toBeGreaterThan(0);
      for (const [, name, pattern] of topics) {
        const known =
          pattern === 'literal'
            ? addresses.has(name!)
            : [...addresses].some((a) => a.startsWith(name!));
        expect({ line, topic: name, known }).toEqual({ line, topic: name, known: true });
        // Integrators write only the acknowledgements topic, and never touch dead letters.
        expect(name!.endsWith('.dlq')).toBe(false);
      }
    }
  });
});

describe('every command of the documents runs', () => {
  // Integrators first: its EMS section acknowledges the setpoint of the quarter hour in
  // progress, which must not be superseded meanwhile; so it starts well before a quarter hour
  // ends (at most 45 s of waiting).
  it('docs/integrators.md', async () => {
    const left = QUARTER_MS - (Date.now() % QUARTER_MS);
    if (left < 45_000) {
      await timed('quarter-hour wait', () => new Promise((r) => setTimeout(r, left + 5_000)));
    }
    await runDocument('docs/integrators.md', 150_000);
  }, 210_000);

  it('docs/operators.md', async () => {
    // About 75 s on a quiet machine; CI runs it beside another test file's services, where one
    // run took more than 140 s (each block about 2.3 times as long).
    await runDocument('docs/operators.md', 300_000);
    expect(services!.unexpectedExits).toEqual([]);
  }, 320_000);
});
