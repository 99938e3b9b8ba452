// The readings read model's month partitions are created on demand by whichever ingest first
// reaches a month. Ingests run concurrently, so several can reach a new month at once.
import { createPool } from '@park/eventstore';
import { createTestDatabase, type TestDatabase } from '@park/testing';
import { messagingMigrationsDir } from '@park/messaging';
import { meteringMigrationsDir } from '../app';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('metering_partitions', {
    migrations: [messagingMigrationsDir, meteringMigrationsDir],
  });
});
afterAll(() => db.drop());

it('creates each month partition once when eight sessions ask for it at the same moment', async () => {
  // One connection per session, as separate ingest transactions would have. createPool listens
  // for 'error': pool.end() resolves before its connections are closed, so the DROP ... WITH
  // (FORCE) of afterAll can end one of them, and an unheard 'error' would fail the test file.
  const sessions = Array.from({ length: 8 }, () =>
    createPool({ connectionString: db.url, max: 1 }),
  );
  try {
    const months = Array.from({ length: 6 }, (_, m) => new Date(Date.UTC(2031, m, 15)));
    for (const at of months) {
      const answers = await Promise.allSettled(
        sessions.map((session) =>
          session.query<{ name: string }>('SELECT metering_ensure_readings_partition($1) AS name', [
            at.toISOString(),
          ]),
        ),
      );
      const month = String(at.getUTCMonth() + 1).padStart(2, '0');
      expect(
        answers.map((answer) =>
          answer.status === 'fulfilled' ? answer.value.rows[0]!.name : String(answer.reason),
        ),
      ).toEqual(Array(8).fill(`readings_y2031m${month}`));
    }
    const { rows } = await db.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'readings'::regclass AND c.relname LIKE 'readings_y2031%'
       ORDER BY 1`,
    );
    expect(rows.map((row) => row.name)).toEqual(
      ['01', '02', '03', '04', '05', '06'].map((m) => `readings_y2031m${m}`),
    );
  } finally {
    await Promise.all(sessions.map((session) => session.end()));
  }
});
