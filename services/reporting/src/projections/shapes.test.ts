import { randomBytes } from 'node:crypto';
import type { Queryable } from '@park/eventstore';
import { ensureTopics, MessageProducer, messagingMigrationsDir } from '@park/messaging';
import {
  createTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  recordPublisher,
  testKafka,
  type Publish,
  type TestDatabase,
} from '@park/testing';
import type { Kafka } from 'kafkajs';
import { reportingMigrationsDir } from '../app';
import { ProjectionManager } from './manager';
import { schemaOf, type Projection } from './projection';

/**
 * A release that changes a projection's tables raises its shape: the service then rebuilds the
 * projection into a new version when it starts, blue-green. The old version keeps answering,
 * frozen (the new code cannot feed tables it lacks), until the new one has caught up and
 * switches in; an older release meeting a newer shape answers from it without feeding it.
 */

jest.setTimeout(120_000);

const TOPIC = 'park.test.widgets.v1';

/** A projection of widgets: shape 1 keeps the value, shape 2 its double too. */
function widgets(shape: 1 | 2, gate?: Promise<void>): Projection {
  return {
    name: 'widgets',
    shape,
    topics: [TOPIC],
    async createTables(db: Queryable, schema: string) {
      await db.query(
        shape === 1
          ? `CREATE TABLE ${schema}.widgets (id text PRIMARY KEY, value integer NOT NULL)`
          : `CREATE TABLE ${schema}.widgets (id text PRIMARY KEY, value integer NOT NULL, doubled integer)`,
      );
    },
    async apply(db, schema, message) {
      await gate;
      const value = Number(Buffer.from(message.value).toString());
      if (shape === 1) {
        await db.query(`INSERT INTO ${schema}.widgets VALUES ($1, $2)`, [message.id, value]);
      } else {
        await db.query(`INSERT INTO ${schema}.widgets VALUES ($1, $2, $3)`, [
          message.id,
          value,
          value * 2,
        ]);
      }
    },
  };
}

let db: TestDatabase;
let kafka: Kafka;
let producer: MessageProducer;
let publish: Publish;
const prefix = `test.shapes.${randomBytes(4).toString('hex')}.`;

async function widgetRows(schema: string, columns: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db.pool.query(`SELECT ${columns} FROM ${schema}.widgets ORDER BY value`);
  return rows;
}

async function versions() {
  const { rows } = await db.pool.query<{ version: number; status: string; shape: number }>(
    `SELECT version, status, shape FROM projection_versions WHERE projection = 'widgets' ORDER BY version`,
  );
  return rows;
}

async function schemas(): Promise<string[]> {
  const { rows } = await db.pool.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rp\\_widgets\\_%' ORDER BY nspname`,
  );
  return rows.map((row) => row.nspname);
}

const widget = (value: number) =>
  publish(`${prefix}${TOPIC}`, `w${value}`, 'test.Widget', Buffer.from(String(value)));

beforeAll(async () => {
  db = await createTestDatabase('shapes', {
    migrations: [messagingMigrationsDir, reportingMigrationsDir],
  });
  kafka = testKafka('reporting-shapes');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ name: `${prefix}${TOPIC}`, partitions: 2 }]);
  await admin.disconnect();
  producer = new MessageProducer(kafka);
  await producer.connect();
  publish = recordPublisher(producer);
});
afterAll(async () => {
  await producer?.disconnect();
  await deleteTopicsWithPrefix(kafka, prefix);
  await db?.drop();
});

it('a newer shape is rebuilt blue-green at start; the old version answers, frozen, until then', async () => {
  // The previous release: shape 1, three widgets.
  const before = new ProjectionManager(db.pool, kafka, [widgets(1)], prefix);
  await before.start();
  for (const value of [1, 2, 3]) await widget(value);
  await before.caughtUp();
  await before.stop();
  expect(await versions()).toEqual([{ version: 1, status: 'active', shape: 1 }]);

  // The new release, shape 2, whose rebuild is held until the test lets it go.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const after = new ProjectionManager(db.pool, kafka, [widgets(2, gate)], prefix);
  await after.start();
  try {
    expect(await after.activeSchemas()).toEqual({ widgets: schemaOf('widgets', 1) });
    expect(await versions()).toEqual([
      { version: 1, status: 'active', shape: 1 },
      { version: 2, status: 'building', shape: 2 },
    ]);
    // Version 1 answers as it was and is not fed: a widget published now is not in it.
    await widget(4);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await widgetRows(schemaOf('widgets', 1), 'value')).toEqual([
      { value: 1 },
      { value: 2 },
      { value: 3 },
    ]);

    release();
    await eventually(async () => {
      expect(await after.activeSchemas()).toEqual({ widgets: schemaOf('widgets', 2) });
    }, 60_000);
    await after.caughtUp();
    // Version 2 holds every widget with the new column; version 1 is retired and dropped.
    expect(await widgetRows(schemaOf('widgets', 2), 'value, doubled')).toEqual(
      [1, 2, 3, 4].map((value) => ({ value, doubled: value * 2 })),
    );
    await eventually(async () => expect(await schemas()).toEqual([schemaOf('widgets', 2)]));
    expect(await versions()).toEqual([
      { version: 1, status: 'retired', shape: 1 },
      { version: 2, status: 'active', shape: 2 },
    ]);
  } finally {
    release();
    await after.stop();
  }

  // A replica still on the previous release meets shape 2: it answers from it as it is and does
  // not feed it (its inserts are of the old shape); an operator's rebuild builds its own shape.
  const older = new ProjectionManager(db.pool, kafka, [widgets(1)], prefix);
  await older.start();
  try {
    await widget(5);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await older.activeSchemas()).toEqual({ widgets: schemaOf('widgets', 2) });
    expect(await widgetRows(schemaOf('widgets', 2), 'value')).toHaveLength(4);
    await older.rebuild('widgets');
    await eventually(async () => {
      expect(await older.activeSchemas()).toEqual({ widgets: schemaOf('widgets', 3) });
    }, 60_000);
    await older.caughtUp();
    expect(await widgetRows(schemaOf('widgets', 3), 'value')).toEqual(
      [1, 2, 3, 4, 5].map((value) => ({ value })),
    );
    expect(await versions()).toEqual([
      { version: 1, status: 'retired', shape: 1 },
      { version: 2, status: 'retired', shape: 2 },
      { version: 3, status: 'active', shape: 1 },
    ]);
  } finally {
    await older.stop();
  }
});
