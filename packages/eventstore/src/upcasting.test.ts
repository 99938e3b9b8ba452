import { createTestDatabase, eventually, type TestDatabase } from '@park/testing';
import { UnknownEventShapeError } from './errors';
import { EventStore } from './event-store';
import { LOG_START, type JsonObject, type RecordedEvent } from './types';
import type { Upcaster } from './upcasting';

/*
 * ReadingRecorded went through three shapes:
 *   v1 { kwh: number }
 *   v2 { energy: number, unit: 'kWh' }             (renamed, unit made explicit)
 *   v3 { energy: { wh: number }, source: string } (watt-hours, source added, default 'meter')
 */
const v1ToV2: Upcaster = {
  eventType: 'ReadingRecorded',
  fromSchemaVersion: 1,
  upcast: (data) => ({ energy: data.kwh as number, unit: 'kWh' }),
};
const v2ToV3: Upcaster = {
  eventType: 'ReadingRecorded',
  fromSchemaVersion: 2,
  upcast: (data) => ({
    energy: { wh: Math.round((data.energy as number) * 1000) },
    source: 'meter',
  }),
};

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('upcasting');
  // Registered in reverse order: the chain is found by version, not by list order.
  store = new EventStore(db.pool, { upcasters: [v2ToV3, v1ToV2] });
});

afterAll(async () => {
  await db?.drop();
});

async function rawRow(eventId: string): Promise<{ schema_version: number; data: JsonObject }> {
  const { rows } = await db.pool.query<{ schema_version: number; data: JsonObject }>(
    'SELECT schema_version, data FROM events WHERE event_id = $1',
    [eventId],
  );
  return rows[0]!;
}

/** readAll from the start until the given events are below the watermark. */
async function readAllUntil(eventIds: string[]): Promise<RecordedEvent[]> {
  return eventually(async () => {
    const events = await store.readAll(LOG_START, 1000);
    const found = eventIds.map((id) => events.find((e) => e.eventId === id));
    expect(found.every((e) => e !== undefined)).toBe(true);
    return found as RecordedEvent[];
  });
}

describe('upcasting on read', () => {
  it('reads a v1 event in its v3 shape through two upcasters and leaves the row as stored', async () => {
    const { events } = await store.append(
      'meter-1',
      [{ type: 'ReadingRecorded', schemaVersion: 1, data: { kwh: 12.5 } }],
      'no_stream',
    );
    const eventId = events[0]!.eventId;
    // 12.5 kWh * 1000 = 12500 Wh.
    const v3 = { energy: { wh: 12500 }, source: 'meter' };

    const [fromStream] = await store.readStream('meter-1');
    expect(fromStream).toMatchObject({ eventId, schemaVersion: 3, data: v3 });

    const [fromLog] = await readAllUntil([eventId]);
    expect(fromLog).toMatchObject({ eventId, schemaVersion: 3, data: v3 });

    expect(await rawRow(eventId)).toEqual({ schema_version: 1, data: { kwh: 12.5 } });
  });

  it('upcasts a v2 event once and passes a v3 event and other types through', async () => {
    const { events } = await store.append(
      'meter-2',
      [
        { type: 'ReadingRecorded', schemaVersion: 2, data: { energy: 0.75, unit: 'kWh' } },
        {
          type: 'ReadingRecorded',
          schemaVersion: 3,
          data: { energy: { wh: 40 }, source: 'estimate' },
        },
        // No upcasters for this type: any schema version is read as stored.
        { type: 'MeterInstalled', schemaVersion: 2, data: { serial: 'X-1' } },
      ],
      'no_stream',
    );
    const read = await store.readStream('meter-2');
    expect(read.map((e) => [e.schemaVersion, e.data])).toEqual([
      // 0.75 kWh * 1000 = 750 Wh.
      [3, { energy: { wh: 750 }, source: 'meter' }],
      [3, { energy: { wh: 40 }, source: 'estimate' }],
      [2, { serial: 'X-1' }],
    ]);
    const fromLog = await readAllUntil(events.map((e) => e.eventId));
    expect(fromLog.map((e) => e.data)).toEqual(read.map((e) => e.data));
    expect(await rawRow(events[0]!.eventId)).toEqual({
      schema_version: 2,
      data: { energy: 0.75, unit: 'kWh' },
    });
  });

  it('fails with UnknownEventShapeError where an upcaster of the chain is missing', async () => {
    await store.append(
      'meter-3',
      [{ type: 'ReadingRecorded', schemaVersion: 1, data: { kwh: 1 } }],
      'no_stream',
    );
    const withoutFirstStep = new EventStore(db.pool, { upcasters: [v2ToV3] });
    await expect(withoutFirstStep.readStream('meter-3')).rejects.toThrow(UnknownEventShapeError);
    await expect(withoutFirstStep.readStream('meter-3')).rejects.toThrow(/no upcaster/);
  });

  it('refuses two upcasters for the same step', () => {
    expect(() => new EventStore(db.pool, { upcasters: [v1ToV2, { ...v1ToV2 }] })).toThrow(
      /two upcasters for ReadingRecorded@1/,
    );
  });

  // Last in this file: once this event is in the log, readAll from the start fails on it.
  it('throws UnknownEventShapeError for a schema version newer than the code knows', async () => {
    const { events } = await store.append(
      'meter-4',
      [{ type: 'ReadingRecorded', schemaVersion: 4, data: { future: true } }],
      'no_stream',
    );
    const readStream = store.readStream('meter-4');
    await expect(readStream).rejects.toThrow(UnknownEventShapeError);
    await expect(store.readStream('meter-4')).rejects.toThrow(/ReadingRecorded v4 .* newer/);
    // The global log reader fails the same way once the event is readable, rather than skip it.
    await eventually(async () => {
      await expect(store.readAll(LOG_START, 1000)).rejects.toThrow(UnknownEventShapeError);
    });
    expect(await rawRow(events[0]!.eventId)).toEqual({
      schema_version: 4,
      data: { future: true },
    });
  });
});
