// A soak at 5,000 readings/s found it: reading a few streams' tails by joining the events table
// to the wanted ids let the planner estimate the rows per stream from the column statistics. On a
// log with long streams it scanned the whole table for every command, so each command got slower
// as the log grew. The plan must stay one index range scan per wanted stream.
import { createTestDatabase, type TestDatabase } from '@park/testing';
import { EventStore, READ_STREAMS_SQL } from './event-store';

let db: TestDatabase;
let store: EventStore;

const STREAMS = 20;
const EVENTS_PER_STREAM = 3_000;

beforeAll(async () => {
  db = await createTestDatabase('read_streams_plan');
  store = new EventStore(db.pool);
  // Long streams, as a busy meter's: the statistics then say each stream id has thousands of
  // rows, which is what made a whole-table scan look cheaper than 2 index scans.
  await db.pool.query(
    `INSERT INTO events (event_id, stream_id, stream_version, event_type, data)
     SELECT gen_random_uuid(), 'meter-' || s, v, 'Happened', jsonb_build_object('n', v)
     FROM generate_series(1, $1::int) AS s, generate_series(1, $2::int) AS v`,
    [STREAMS, EVENTS_PER_STREAM],
  );
  await db.pool.query('ANALYZE events');
});

afterAll(() => db?.drop());

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scansOfEvents(node: PlanNode): string[] {
  const own = node['Relation Name'] === 'events' ? [node['Node Type']] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scansOfEvents)];
}

it('reads two long streams by index, never by scanning the whole log', async () => {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${READ_STREAMS_SQL}`,
    [
      ['meter-3', 'meter-17'],
      [EVENTS_PER_STREAM - 2, EVENTS_PER_STREAM - 1],
    ],
  );
  const scans = scansOfEvents(rows[0]!['QUERY PLAN'][0].Plan);
  expect(scans.length).toBeGreaterThan(0);
  expect(scans.filter((scan) => scan.includes('Seq Scan'))).toEqual([]);
});

it('returns each stream after its own version, in stream order', async () => {
  const read = await store.readStreams([
    { streamId: 'meter-17', afterVersion: EVENTS_PER_STREAM - 1 },
    { streamId: 'meter-3', afterVersion: EVENTS_PER_STREAM - 2 },
    { streamId: 'meter-none' },
  ]);
  // meter-3 after 2,998: versions 2,999 and 3,000; meter-17 after 2,999: version 3,000.
  expect(read.get('meter-3')!.map((e) => [e.streamVersion, e.data])).toEqual([
    [2_999, { n: 2_999 }],
    [3_000, { n: 3_000 }],
  ]);
  expect(read.get('meter-17')!.map((e) => e.streamVersion)).toEqual([3_000]);
  expect(read.has('meter-none')).toBe(false);
});
