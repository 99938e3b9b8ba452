import type * as grpc from '@grpc/grpc-js';
import { meterSpec } from '@park/testing';
import { startReportingHarness, type ReportingHarness } from '../test-support/harness';
import {
  getParkKpis,
  kpiTable,
  publishEnterpriseFlagged,
  type GRANULARITY,
} from '../test-support/reporting-events';

/**
 * Platform coverage (DESIGN.md section 4, Reporting): energy-using enterprises, as flagged in
 * the registry, with a meter whose data reaches into the last 24 h, over all energy-using
 * enterprises; "the last 24 h" as of min(now, the period's end). An interval reported at start s
 * is data up to s + 15 min, its end.
 */

jest.setTimeout(120_000);

const PARK = 'pc';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const QUARTER = 15 * MINUTE;

const meters = {
  c1a: meterSpec('c1-a', 'c-1', 'grid'),
  c1b: meterSpec('c1-b', 'c-1', 'gas'),
  c2: meterSpec('c2', 'c-2', 'grid'),
  c3: meterSpec('c3', 'c-3', 'grid'),
  c4: meterSpec('c4', 'c-4', 'heat'),
  c5: meterSpec('c5', 'c-5', 'grid'),
};

let h: ReportingHarness;
let operator: grpc.Metadata;
/** The quarter hour the test started in (ms): intervals end at or before it. */
const q = Math.floor(Date.now() / QUARTER) * QUARTER;
const at = (ms: number) => new Date(ms).toISOString();
/** An interval that ends at `end` (its start is 15 min earlier). */
const endingAt = (end: number): [string, string] => [at(end - QUARTER), '10'];

const today = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
}).format(new Date());

async function coverage(granularity: keyof typeof GRANULARITY, period: string) {
  return kpiTable(await getParkKpis(h, operator, PARK, granularity, period)).platform_coverage;
}

beforeAll(async () => {
  h = await startReportingHarness('coverage');
  operator = await h.bearer('operator');
  await h.publishPark(PARK);
  const enterprise = (enterpriseId: string, energyUsing: boolean) =>
    publishEnterpriseFlagged(h, { enterpriseId, parkId: PARK, name: enterpriseId, energyUsing });
  await enterprise('c-1', true);
  await enterprise('c-2', true);
  await enterprise('c-3', false);
  await enterprise('c-4', true);
  await enterprise('c-5', true);
  for (const meter of Object.values(meters)) await h.publishMeter(meter);

  // Relative to now (the current day, month and year: as of now).
  await h.publishReadings(meters.c1a, [endingAt(q - 23 * HOUR)]); // 23 h ago: covered
  await h.publishReadings(meters.c1b, [endingAt(q - 30 * HOUR)]); // c-1's other meter: stale
  await h.publishReadings(meters.c2, [endingAt(q - 25 * HOUR)]); // 25 h ago: not covered
  await h.publishReadings(meters.c3, [endingAt(q - HOUR)]); // fresh, but c-3 is not energy-using
  await h.publishReadings(meters.c4, [endingAt(q)]); // the last full quarter hour: covered
  // c-5 reported nothing lately.

  // A past day, 2023-06-30 in park time: as of its end, 2023-06-30T16:00Z; the last 24 h are
  // (2023-06-29T16:00Z, 2023-06-30T16:00Z].
  const asOf = Date.parse('2023-06-30T16:00:00Z');
  await h.publishReadings(meters.c1a, [endingAt(asOf - 24 * HOUR + QUARTER)]); // just inside
  await h.publishReadings(meters.c2, [endingAt(asOf)]); // ends at the instant itself: inside
  await h.publishReadings(meters.c3, [endingAt(asOf - HOUR)]); // not energy-using
  await h.publishReadings(meters.c4, [endingAt(asOf - 24 * HOUR + QUARTER)]); // just inside
  await h.publishReadings(meters.c5, [endingAt(asOf - 24 * HOUR)]); // exactly 24 h before: outside
  await h.server.projections.caughtUp(60_000);
});
afterAll(() => h?.stop());

it('as of now: c-1 (23 h ago) and c-4 (fresh) of the 4 energy-using enterprises, 2 / 4 = 0.5', async () => {
  // c-2 last reported 25 h ago, c-5 not at all; c-3 reported 1 h ago but is not energy-using, so
  // it is in neither count (with it, 3 / 5 = 0.6). c-1's stale second meter does not matter.
  const expected = {
    value: '0.5',
    unit: 'fraction',
    target: '0.9',
    comparison: '>=',
    status: 'not_met',
  };
  expect(await coverage('day', today)).toEqual(expected);
  expect(await coverage('month', today.slice(0, 7))).toEqual(expected);
  expect(await coverage('year', today.slice(0, 4))).toEqual(expected);
});

it('as of the end of a past day: the 24 h before it, whatever came later; 3 / 4 = 0.75', async () => {
  // c-1 (ends 15 min into the window), c-2 (ends at the day's end), c-4 (15 min in) yes; c-5 ends
  // exactly 24 h before: outside. Every one of them reported again later (above): no matter.
  expect((await coverage('day', '2023-06-30'))?.value).toBe('0.75');
  // The day before: as of 2023-06-29T16:00Z, data in (06-28T16:00Z, 06-29T16:00Z]: only c-5.
  expect((await coverage('day', '2023-06-29'))?.value).toBe('0.25');
});

it('an enterprise counts again once its meter reports: c-2 now, 3 / 4 = 0.75', async () => {
  await h.publishReadings(meters.c2, [endingAt(q - QUARTER)]);
  await h.server.projections.caughtUp(60_000);
  expect((await coverage('day', today))?.value).toBe('0.75');
});

it('without energy-using enterprises there is no coverage to speak of', async () => {
  await h.publishPark('pz');
  await publishEnterpriseFlagged(h, {
    enterpriseId: 'z-1',
    parkId: 'pz',
    name: 'z-1',
    energyUsing: false,
  });
  await h.server.projections.caughtUp(60_000);
  const kpis = kpiTable(await getParkKpis(h, operator, 'pz', 'day', today));
  expect(kpis.platform_coverage).toEqual({
    unit: 'fraction',
    target: '0.9',
    comparison: '>=',
    status: 'no_data',
  });
});
