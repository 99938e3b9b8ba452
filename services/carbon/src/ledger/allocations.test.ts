import { park } from '@park/contracts';
import { eventually, unary } from '@park/testing';
import { meterSpec, startCarbonHarness, type CarbonHarness } from '../test-support/harness';

let h: CarbonHarness;
beforeAll(async () => {
  h = await startCarbonHarness('allocations');
});
afterAll(() => h?.stop());

const DAY = { start: new Date('2023-07-31T16:00:00Z'), end: new Date('2023-08-01T16:00:00Z') };

async function footprint(enterpriseId: string) {
  const operator = await h.bearer('operator');
  const answer = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
    h.client.getEnterpriseFootprint({ enterpriseId, period: DAY }, operator, done),
  );
  return answer.footprint!;
}

function allocation(intervalStart: string, kwh: string, revision: bigint): Uint8Array {
  return park.dispatch.v1.GreenPowerAllocated.encode({
    parkId: 'park-a',
    lineId: 'line-1',
    generatorId: 'wind-1',
    enterpriseId: 'ent-a',
    meterId: 'a-dl',
    intervalStart: new Date(intervalStart),
    intervalMinutes: 15,
    allocatedKwh: { value: kwh },
    lineMeteredKwh: { value: '1000' },
    revision,
    lineExportedKwh: { value: '0' },
  }).finish();
}

it("an allocation replaces the enterprise's own direct-line reading as its green supply; the latest revision counts", async () => {
  const operator = await h.bearer('operator');
  await unary((done) =>
    h.client.registerGenerator(
      {
        generator: {
          generatorId: 'wind-1',
          name: 'Wind farm',
          kind: 'wind',
          capacityKw: undefined,
          attributeStatus: park.carbon.v1.AttributeStatus.ATTRIBUTE_STATUS_RETAINED,
        },
      },
      operator,
      done,
    ),
  );
  await h.publishPark('park-a');
  await h.publishEnterprise('ent-a', 'park-a');
  const line = meterSpec('a-dl', 'ent-a', 'direct_line', { sourceGeneratorId: 'wind-1' });
  const grid = meterSpec('a-grid', 'ent-a', 'grid');
  await h.publishMeter(line);
  await h.publishMeter(grid);
  // 2023-08-01 00:00 local = 2023-07-31T16:00Z. Direct-line meter: 400 kWh; grid: 600 kWh.
  await h.publishReadings(line, [['2023-07-31T16:00:00Z', '400']]);
  await h.publishReadings(grid, [['2023-07-31T16:00:00Z', '600']]);
  // Before any allocation the meter's own 400 kWh count: renewable share 400 / 1000 = 0.4.
  await eventually(async () => {
    const f = await footprint('ent-a');
    expect(f.figures?.electricityKwh?.value).toBe('1000');
    expect(f.renewableShare?.value).toBe('0.4');
  }, 30_000);

  // Dispatch allocates 350 kWh (revision 1), then corrects to 380 kWh (revision 2); a late copy
  // of revision 1 must not win. Electricity 350 + 600 = 950 then 380 + 600 = 980.
  await h.publish(
    h.topics.allocations,
    'ent-a',
    'park.dispatch.v1.GreenPowerAllocated',
    allocation('2023-07-31T16:00:00Z', '350', 1n),
  );
  await eventually(async () => {
    const f = await footprint('ent-a');
    expect(f.figures?.electricityKwh?.value).toBe('950');
    // 350 / 950 = 0.3684210526315789473684210526315789 (34 significant digits, half-even)
    expect(f.renewableShare?.value).toBe('0.3684210526315789473684210526315789');
  }, 30_000);
  await h.publish(
    h.topics.allocations,
    'ent-a',
    'park.dispatch.v1.GreenPowerAllocated',
    allocation('2023-07-31T16:00:00Z', '380', 2n),
  );
  await h.publish(
    h.topics.allocations,
    'ent-a',
    'park.dispatch.v1.GreenPowerAllocated',
    allocation('2023-07-31T16:00:00Z', '350', 1n),
  );
  await eventually(async () => {
    const f = await footprint('ent-a');
    expect(f.figures?.electricityKwh?.value).toBe('980');
    // Market-based: the direct line is zero (attributes retained); grid 600 x 0.6096 = 365.76 kg.
    expect(f.scope2MarketKgco2e?.value).toBe('365.76');
  }, 30_000);
  // The late revision 1 behind it changes nothing.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect((await footprint('ent-a')).figures?.electricityKwh?.value).toBe('980');

  // The ledger traces the allocation: reversal of the metered 400 kWh, posting of 350 (basis
  // allocation), reversal of 350, posting of 380.
  const entries = await unary<park.carbon.v1.GetLedgerEntriesResponse>((done) =>
    h.client.getLedgerEntries(
      {
        enterpriseId: 'ent-a',
        period: DAY,
        meterId: 'a-dl',
        page: undefined,
        kind: park.carbon.v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
      },
      operator,
      done,
    ),
  );
  expect(entries.entries.map((e) => [e.cause, e.quantity?.value])).toEqual([
    ['reading', '400'],
    ['allocation', '-400'],
    ['allocation', '350'],
    ['allocation', '-350'],
    ['allocation', '380'],
  ]);
});
