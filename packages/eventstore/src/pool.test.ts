import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@park/testing';
import type pg from 'pg';
import { createPool, inTransaction } from './pool';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('pool');
  pool = createPool({ connectionString: db.url, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** Ends a session from the server's side, as a restart (pg_ctl -m fast) does: 57P01. */
async function terminate(pid: number): Promise<void> {
  const { rows } = await db.pool.query<{ done: boolean }>(
    'SELECT pg_terminate_backend($1) AS done',
    [pid],
  );
  expect(rows[0]?.done).toBe(true);
}

// A fault test found it: PostgreSQL restarted while a service held a client between two queries
// of a transaction; the client emitted 'error' with no listener and the process died.
it('survives a checked-out client whose connection the server ends between two queries', async () => {
  const failure = inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await terminate(rows[0]!.pid);
    // No query in flight while the server's message arrives: only the client's 'error' event
    // reports it, and an 'error' event without a listener would end the process.
    await sleep(300);
    await tx.query('SELECT 1');
  });
  await expect(failure).rejects.toThrow();
  // The broken client was not returned for reuse: the pool answers with a fresh one.
  const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
  expect(rows).toEqual([{ one: 1 }]);
});
