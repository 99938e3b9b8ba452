import { createTestDatabase, type TestDatabase } from '@park/testing';
import { EventStore } from './event-store';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('append_only');
  store = new EventStore(db.pool);
  await store.append(
    'meter-1',
    [
      { type: 'ReadingRecorded', data: { kwh: 10 } },
      { type: 'ReadingRecorded', data: { kwh: 20 } },
    ],
    'no_stream',
  );
});

afterAll(async () => {
  await db?.drop();
});

async function snapshotOfLog(): Promise<unknown[]> {
  const { rows } = await db.pool.query(
    'SELECT global_position, event_id, stream_id, stream_version, data FROM events ORDER BY global_position',
  );
  return rows;
}

describe('the event log is append-only', () => {
  it('refuses UPDATE', async () => {
    const before = await snapshotOfLog();
    await expect(
      db.pool.query(`UPDATE events SET data = '{"kwh": 99}'::jsonb WHERE stream_id = 'meter-1'`),
    ).rejects.toThrow(/append-only: UPDATE is not allowed/);
    expect(await snapshotOfLog()).toEqual(before);
  });

  it('refuses DELETE', async () => {
    const before = await snapshotOfLog();
    await expect(db.pool.query(`DELETE FROM events WHERE stream_id = 'meter-1'`)).rejects.toThrow(
      /append-only: DELETE is not allowed/,
    );
    expect(await snapshotOfLog()).toEqual(before);
    expect(before).toHaveLength(2);
  });

  it('still accepts appends', async () => {
    const result = await store.append(
      'meter-1',
      [{ type: 'ReadingRecorded', data: { kwh: 30 } }],
      2,
    );
    expect(result.nextVersion).toBe(3);
    expect(await snapshotOfLog()).toHaveLength(3);
  });
});
