import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { CE } from '@park/messaging';
import { eventually, failure, readTopic, unary } from '@park/testing';
import Decimal from 'decimal.js';
import { meterSpec, startCarbonHarness, type CarbonHarness } from '../test-support/harness';

/**
 * The park balance with an internal heat transfer, a period closed before a correction, and a
 * new factor version for a past year, end to end (real PostgreSQL and Kafka, gRPC). Expected
 * figures are worked out by hand in the comments from the seed factors: Northeast grid 2022
 * 0.5564 and 2023 0.5122, residual 2022 0.5856 and 2023 0.6096 kgCO2/kWh, natural gas
 * 2.162188809 kg/Nm3, heat 0.11 tCO2/GJ; 0.1229 kgce/kWh, 0.03412 kgce/MJ, gas 38.931 MJ/Nm3
 * over 29.3076 MJ/kgce. Each test has its own park, and only the factor test books 2023
 * electricity, so the new 2023 version restates that test's intervals and nobody else's.
 */

jest.setTimeout(120_000);

const v1 = park.carbon.v1;

let h: CarbonHarness;
let operator: grpc.Metadata;

beforeAll(async () => {
  // The runtime's consumers take about 5 s to leave their groups; the harness's default 5 s
  // shutdown deadline then cuts the stop short and leaves the relay and pools running.
  h = await startCarbonHarness('ledger_restatement', { SHUTDOWN_TIMEOUT_MS: '30000' });
  operator = await h.bearer('operator');
});
afterAll(() => h?.stop(), 60_000);

function period(start: string, end: string): park.common.v1.TimeInterval {
  return { start: new Date(start), end: new Date(end) };
}

async function footprint(
  enterpriseId: string,
  interval: park.common.v1.TimeInterval,
): Promise<park.carbon.v1.Footprint> {
  const answer = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
    h.client.getEnterpriseFootprint({ enterpriseId, period: interval }, operator, done),
  );
  return answer.footprint!;
}

async function ledger(
  enterpriseId: string,
  interval: park.common.v1.TimeInterval,
  meterId = '',
): Promise<park.carbon.v1.LedgerEntry[]> {
  const answer = await unary<park.carbon.v1.GetLedgerEntriesResponse>((done) =>
    h.client.getLedgerEntries(
      {
        enterpriseId,
        period: interval,
        page: { pageSize: 1000, pageToken: '' },
        meterId,
        kind: v1.LedgerEntryKind.LEDGER_ENTRY_KIND_UNSPECIFIED,
      },
      operator,
      done,
    ),
  );
  return answer.entries;
}

async function waitForEntries(
  enterpriseId: string,
  interval: park.common.v1.TimeInterval,
  count: number,
): Promise<park.carbon.v1.LedgerEntry[]> {
  return eventually(async () => {
    const entries = await ledger(enterpriseId, interval);
    if (entries.length !== count) {
      throw new Error(`${enterpriseId}: ${entries.length} ledger lines so far, expecting ${count}`);
    }
    return entries;
  }, 60_000);
}

function closePeriod(parkId: string, month: string) {
  return unary<park.carbon.v1.ClosePeriodResponse>((done) =>
    h.client.closePeriod({ parkId, month }, operator, done),
  );
}

function listFactorSets() {
  return unary<park.carbon.v1.ListFactorSetsResponse>((done) =>
    h.client.listFactorSets({ allVersions: false }, operator, done),
  );
}

/** kgCO2e or kgce rounded half-even to the gram. */
function grams(value: park.common.v1.Decimal | undefined): string {
  return new Decimal(value!.value).toFixed(3, Decimal.ROUND_HALF_EVEN);
}

function plain(figures: park.carbon.v1.Figures | undefined): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(figures ?? {}).map(([key, value]) => [
      key,
      (value as park.common.v1.Decimal | undefined)?.value,
    ]),
  );
}

const NO_FIGURES = {
  energyKgce: '0',
  electricityKwh: '0',
  gridKwh: '0',
  renewableKwh: '0',
  carbonFreeKwh: '0',
  scope1Kgco2e: '0',
  scope2LocationKgco2e: '0',
  scope2MarketKgco2e: '0',
};

describe('the park balance', () => {
  // The park day 2022-09-01 in Asia/Shanghai: [2022-08-31T16:00Z, 2022-09-01T16:00Z).
  const DAY = period('2022-08-31T16:00:00Z', '2022-09-01T16:00:00Z');

  it('counts heat one park enterprise supplies to another once', async () => {
    await h.publishPark('park-pair');
    await h.publishEnterprise('ent-chp', 'park-pair');
    await h.publishEnterprise('ent-user', 'park-pair');
    const chpGas = meterSpec('chp-gas', 'ent-chp', 'gas');
    const chpGrid = meterSpec('chp-grid', 'ent-chp', 'grid');
    const userFromChp = meterSpec('user-heat-from-chp', 'ent-user', 'internal_heat', {
      sourceEntityId: 'ent-chp',
    });
    const userHeat = meterSpec('user-heat', 'ent-user', 'heat');
    const userGrid = meterSpec('user-grid', 'ent-user', 'grid');
    for (const meter of [chpGas, chpGrid, userFromChp, userHeat, userGrid]) {
      await h.publishMeter(meter);
    }
    // The supplier burns 600 + 400 = 1,000 Nm3 of gas and draws 2,000 kWh from the grid.
    await h.publishReadings(chpGas, [
      ['2022-08-31T16:00:00Z', '600'],
      ['2022-09-01T04:00:00Z', '400'],
    ]);
    await h.publishReadings(chpGrid, [['2022-09-01T02:00:00Z', '2000']]);
    // The user takes 18 + 12 = 30 GJ of the supplier's heat, 10 GJ of outside heat, 1,000 kWh.
    await h.publishReadings(userFromChp, [
      ['2022-09-01T00:00:00Z', '18'],
      ['2022-09-01T00:15:00Z', '12'],
    ]);
    await h.publishReadings(userHeat, [['2022-09-01T06:00:00Z', '10']]);
    await h.publishReadings(userGrid, [['2022-09-01T03:00:00Z', '1000']]);
    await waitForEntries('ent-chp', DAY, 3);
    await waitForEntries('ent-user', DAY, 4);

    // The supplier's own footprint. Gas: 1,000 x 2.162188809 = 2,162.188809 kg Scope 1;
    // 1,000 x 38.931 = 38,931 MJ / 29.3076 = 1,328.35851... kgce (29.3076 x 1,328 = 38,920.4928,
    // remainder 10.5072 / 29.3076 = 0.35851...). Grid 2,000 kWh (2022): x 0.5564 = 1,112.8 kg
    // location, x 0.5856 = 1,171.2 kg market, x 0.1229 = 245.8 kgce.
    const chp = await footprint('ent-chp', DAY);
    expect(chp.scope1Kgco2e?.value).toBe('2162.188809');
    expect(chp.scope2LocationKgco2e?.value).toBe('1112.8');
    expect(chp.scope2MarketKgco2e?.value).toBe('1171.2');
    // 1,328.35851... + 245.8 = 1,574.158514... -> 1,574.159 (next digits 5145: up).
    expect(grams(chp.figures?.energyKgce)).toBe('1574.159');

    // The user's footprint counts the supplier's heat as purchased heat: 30 GJ x 0.11 x 1000 =
    // 3,300 kg; outside heat 10 x 110 = 1,100 kg; grid 1,000 x 0.5564 = 556.4 kg location,
    // 1,000 x 0.5856 = 585.6 kg market. Location 3,300 + 1,100 + 556.4 = 4,956.4; market
    // 3,300 + 1,100 + 585.6 = 4,985.6. Energy 30,000 MJ x 0.03412 = 1,023.6 + 10,000 x 0.03412 =
    // 341.2 + 1,000 x 0.1229 = 122.9 -> 1,487.7 kgce.
    const user = await footprint('ent-user', DAY);
    expect(user.scope1Kgco2e?.value).toBe('0');
    expect(user.scope2LocationKgco2e?.value).toBe('4956.4');
    expect(user.scope2MarketKgco2e?.value).toBe('4985.6');
    expect(user.figures?.energyKgce?.value).toBe('1487.7');

    const { balance } = await unary<park.carbon.v1.GetParkBalanceResponse>((done) =>
      h.client.getParkBalance({ parkId: 'park-pair', period: DAY }, operator, done),
    );
    // Scope 1 of every park entity: the supplier's gas, 2,162.188809 kg.
    expect(balance?.scope1Kgco2e?.value).toBe('2162.188809');
    // What crosses the park boundary: the two grid draws and the outside heat. The plain sum of
    // the footprints, 1,112.8 + 4,956.4 = 6,069.2 kg location, would count the supplier's heat
    // twice (its gas is Scope 1 already); the park leaves the 3,300 kg out:
    // 1,112.8 + 556.4 + 1,100 = 2,769.2 location, 1,171.2 + 585.6 + 1,100 = 2,856.8 market.
    expect(balance?.scope2LocationKgco2e?.value).toBe('2769.2');
    expect(balance?.scope2MarketKgco2e?.value).toBe('2856.8');
    // Energy once: gas 1,328.35851... + grid 245.8 + 122.9 + outside heat 341.2 =
    // 2,038.25851... kgce (not + the internal 1,023.6) -> 2.038259 tce (next digits 5145: up).
    expect(new Decimal(balance!.energyTce!.value).toFixed(6, Decimal.ROUND_HALF_EVEN)).toBe(
      '2.038259',
    );
    // tCO2 per tce: (2,162.188809 + 2,856.8) / 2,038.25851... = 5,018.988809 / 2,038.25851... =
    // 2.4624 (2,038.2585 x 2.4624 = 5,019.0077, a little over: 2.46239...); location-based
    // (2,162.188809 + 2,769.2) = 4,931.388809 / 2,038.25851... = 2.4194 (2,038.2585 x 2.4194 =
    // 4,931.3626, remainder 0.0262 / 2,038 = 0.0000129: 2.41941...).
    expect(new Decimal(balance!.tco2PerTceMarket!.value).toFixed(4)).toBe('2.4624');
    expect(new Decimal(balance!.tco2PerTceLocation!.value).toFixed(4)).toBe('2.4194');
    // The internal transfer, shown apart: the 30 GJ's 1,023.6 kgce and 3,300 kg.
    expect(plain(balance?.internalTransfers)).toEqual({
      ...NO_FIGURES,
      energyKgce: '1023.6',
      scope2LocationKgco2e: '3300',
      scope2MarketKgco2e: '3300',
    });
    // No renewable electricity among the 3,000 kWh.
    expect(balance?.renewableShare?.value).toBe('0');
    expect(balance?.enterprises).toBe(2);
  });
});

describe('period close', () => {
  // March 2022 in park time: [2022-02-28T16:00Z, 2022-03-31T16:00Z).
  const MARCH = period('2022-02-28T16:00:00Z', '2022-03-31T16:00:00Z');

  it('keeps the closed figures and shows a later correction as a prior-period adjustment', async () => {
    await h.publishPark('park-close');
    await h.publishEnterprise('ent-close', 'park-close');
    const grid = meterSpec('close-grid', 'ent-close', 'grid');
    await h.publishMeter(grid);
    await h.publishReadings(grid, [
      ['2022-02-28T15:45:00Z', '300'], // February 28, 23:45 park time: not March
      ['2022-02-28T16:00:00Z', '200'], // March 1, 00:00 park time
      ['2022-03-10T00:00:00Z', '1000'],
      ['2022-03-10T00:15:00Z', '500'],
    ]);
    await waitForEntries('ent-close', period('2022-02-01T00:00:00Z', '2022-04-01T00:00:00Z'), 4);

    // March: 200 + 1,000 + 500 = 1,700 kWh (2022 factors): x 0.5564 = 945.88 kg location,
    // x 0.5856 = 995.52 kg market, x 0.1229 = 208.93 kgce.
    const march = {
      ...NO_FIGURES,
      energyKgce: '208.93',
      electricityKwh: '1700',
      gridKwh: '1700',
      scope2LocationKgco2e: '945.88',
      scope2MarketKgco2e: '995.52',
    };
    const open = await footprint('ent-close', MARCH);
    expect(plain(open.figures)).toEqual(march);
    expect(open.closed).toBe(false);

    // A month inside its late-data window cannot close yet.
    const early = await failure(closePeriod('park-close', '2099-01'));
    expect(early.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(await closePeriod('park-close', '2022-03')).toEqual({ enterprises: 1 });
    // Closing again changes nothing.
    expect(await closePeriod('park-close', '2022-03')).toEqual({ enterprises: 0 });

    // Metering corrects March 10, 08:15 park time from 500 to 800 kWh: +300 kWh.
    const correctionId = await h.publishCorrection(grid, '2022-03-10T00:15:00Z', '500', '800');
    const closed = await eventually(async () => {
      const answer = await footprint('ent-close', MARCH);
      if (answer.priorPeriodAdjustments?.electricityKwh?.value !== '300') {
        throw new Error(
          `adjustments so far: ${JSON.stringify(plain(answer.priorPeriodAdjustments))}`,
        );
      }
      return answer;
    }, 60_000);
    // The closed figures stay as closed.
    expect(plain(closed.figures)).toEqual(march);
    expect(closed.scope2LocationKgco2e?.value).toBe('945.88');
    expect(closed.scope2MarketKgco2e?.value).toBe('995.52');
    expect(closed.closed).toBe(true);
    // The correction's effect: 300 kWh x 0.5564 = 166.92 kg location, x 0.5856 = 175.68 kg
    // market, x 0.1229 = 36.87 kgce.
    expect(plain(closed.priorPeriodAdjustments)).toEqual({
      ...NO_FIGURES,
      energyKgce: '36.87',
      electricityKwh: '300',
      gridKwh: '300',
      scope2LocationKgco2e: '166.92',
      scope2MarketKgco2e: '175.68',
    });

    // In the ledger: the original posting, then the reversal (-500 x 0.5564 = -278.2) and the new
    // posting (800 x 0.5564 = 445.12), both flagged as prior-period adjustments.
    const entries = await ledger(
      'ent-close',
      period('2022-03-10T00:15:00Z', '2022-03-10T00:30:00Z'),
      'close-grid',
    );
    expect(
      entries.map((entry) => [
        entry.kind,
        entry.cause,
        entry.priorPeriodAdjustment,
        entry.quantity?.value,
        entry.figures?.scope2LocationKgco2e?.value,
        entry.source === correctionId,
      ]),
    ).toEqual([
      [v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING, 'reading', false, '500', '278.2', false],
      [v1.LedgerEntryKind.LEDGER_ENTRY_KIND_REVERSAL, 'correction', true, '-500', '-278.2', true],
      [v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING, 'correction', true, '800', '445.12', true],
    ]);
  });
});

describe('a new factor version for a past year', () => {
  // Park days in Asia/Shanghai: 2022-06-01 and 2023-06-01.
  const DAY_2022 = period('2022-05-31T16:00:00Z', '2022-06-01T16:00:00Z');
  const DAY_2023 = period('2023-05-31T16:00:00Z', '2023-06-01T16:00:00Z');
  // The turn of the year: 2022-12-31 23:45 and 2023-01-01 00:00 park time.
  const NEW_YEAR = period('2022-12-31T15:45:00Z', '2022-12-31T16:15:00Z');
  const EVERYTHING = period('2022-01-01T00:00:00Z', '2024-01-01T00:00:00Z');

  it('restates exactly the 2023 intervals, with before and after on the emissions topic', async () => {
    await h.publishPark('park-restate');
    await h.publishEnterprise('ent-restate', 'park-restate');
    const grid = meterSpec('restate-grid', 'ent-restate', 'grid');
    const gas = meterSpec('restate-gas', 'ent-restate', 'gas');
    await h.publishMeter(grid);
    await h.publishMeter(gas);
    await h.publishReadings(grid, [
      ['2022-05-31T16:00:00Z', '1000'], // 2022-06-01 00:00 park time
      ['2022-06-01T00:00:00Z', '1000'], // 2022-06-01 08:00
      ['2022-12-31T15:45:00Z', '100'], // 2022-12-31 23:45: still 2022
      ['2022-12-31T16:00:00Z', '100'], // 2023-01-01 00:00: 2023
      ['2023-05-31T16:00:00Z', '1500'], // 2023-06-01 00:00
      ['2023-06-01T00:00:00Z', '2500'], // 2023-06-01 08:00
    ]);
    // Gas in 2023: its factor is in another set, so the new version leaves it alone.
    await h.publishReadings(gas, [['2023-06-01T01:00:00Z', '100']]);
    await waitForEntries('ent-restate', EVERYTHING, 7);

    // 2022 day: 2,000 kWh x 0.5564 = 1,112.8 kg location, x 0.5856 = 1,171.2 kg market.
    // 2023 day: 4,000 kWh x 0.5122 = 2,048.8 kg location, x 0.6096 = 2,438.4 kg market; gas
    // 100 x 2.162188809 = 216.2188809 kg Scope 1.
    const before2022 = await footprint('ent-restate', DAY_2022);
    const before2023 = await footprint('ent-restate', DAY_2023);
    expect([before2022.scope2LocationKgco2e?.value, before2022.scope2MarketKgco2e?.value]).toEqual([
      '1112.8',
      '1171.2',
    ]);
    expect([
      before2023.scope2LocationKgco2e?.value,
      before2023.scope2MarketKgco2e?.value,
      before2023.scope1Kgco2e?.value,
    ]).toEqual(['2048.8', '2438.4', '216.2188809']);

    // MEE and NBS revise the 2023 Northeast factor from 0.5122 to 0.5200: version 2 of the set.
    const published = await unary<park.carbon.v1.PublishFactorSetResponse>((done) =>
      h.client.publishFactorSet(
        {
          set: {
            setId: 'mee-nbs-grid-2023',
            version: 0,
            publisher: 'MEE and NBS',
            document: 'Announcement on the 2023 electricity CO2 emission factors (revised)',
            year: 2023,
            validFrom: new Date('2022-12-31T16:00:00Z'), // 2023-01-01T00:00+08:00
            validTo: new Date('2023-12-31T16:00:00Z'), // 2024-01-01T00:00+08:00
            factors: [
              {
                key: 'grid:national',
                value: { value: '0.5306' },
                unit: 'kgCO2/kWh',
                derivation: '',
              },
              {
                key: 'grid:northeast',
                value: { value: '0.5200' },
                unit: 'kgCO2/kWh',
                derivation: '',
              },
              {
                key: 'residual:national',
                value: { value: '0.6096' },
                unit: 'kgCO2/kWh',
                derivation: '',
              },
            ],
            publishedAt: undefined,
            publishedBy: '',
            restatementStatus: v1.RestatementStatus.RESTATEMENT_STATUS_UNSPECIFIED,
            restatedIntervals: 0n,
          },
        },
        operator,
        done,
      ),
    );
    expect(published.published).toBe(true);
    expect(published.set?.version).toBe(2);

    const restated = await eventually(async () => {
      const set = (await listFactorSets()).sets.find((s) => s.setId === 'mee-nbs-grid-2023');
      if (set?.restatementStatus !== v1.RestatementStatus.RESTATEMENT_STATUS_DONE) {
        throw new Error(`restatement status ${set?.restatementStatus}`);
      }
      return set;
    }, 60_000);
    // Exactly the three 2023 grid intervals (2023-01-01 00:00 and the two of June 1); not the
    // three of 2022, not the gas.
    expect(restated.version).toBe(2);
    expect(restated.restatedIntervals).toBe(3n);

    // 2022 unchanged.
    const after2022 = await footprint('ent-restate', DAY_2022);
    expect(plain(after2022.figures)).toEqual(plain(before2022.figures));
    expect(after2022.scope2LocationKgco2e?.value).toBe('1112.8');
    // 2023 day: 4,000 x 0.5200 = 2,080 kg = 2,048.8 + 4,000 x (0.5200 - 0.5122 = 0.0078) = 31.2.
    // Market (residual unchanged), Scope 1 and energy unchanged.
    const after2023 = await footprint('ent-restate', DAY_2023);
    expect(after2023.scope2LocationKgco2e?.value).toBe('2080');
    expect(
      new Decimal(after2023.scope2LocationKgco2e!.value)
        .minus(before2023.scope2LocationKgco2e!.value)
        .toString(),
    ).toBe('31.2');
    expect(after2023.scope2MarketKgco2e?.value).toBe('2438.4');
    expect(after2023.scope1Kgco2e?.value).toBe('216.2188809');
    // Energy to the last digit: 100 Nm3 x 38.931 = 3,893.1 MJ / 29.3076 = 132.83585... kgce +
    // 4,000 x 0.1229 = 491.6 kgce = 624.43585... -> 624.436 (next digits 85: up).
    expect(after2023.figures?.energyKgce?.value).toBe(before2023.figures?.energyKgce?.value);
    expect(grams(after2023.figures?.energyKgce)).toBe('624.436');
    // The turn of the year: 23:45 stays at 100 x 0.5564 = 55.64; 00:00 goes from
    // 100 x 0.5122 = 51.22 to 100 x 0.5200 = 52.
    const newYear = await ledger('ent-restate', NEW_YEAR, 'restate-grid');
    expect(
      newYear.map((entry) => [
        entry.intervalStart?.toISOString(),
        entry.kind,
        entry.cause,
        entry.figures?.scope2LocationKgco2e?.value,
        entry.factors[0] && `${entry.factors[0].setId}@${entry.factors[0].version}`,
      ]),
    ).toEqual([
      [
        '2022-12-31T15:45:00.000Z',
        v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
        'reading',
        '55.64',
        'mee-nbs-grid-2022@1',
      ],
      [
        '2022-12-31T16:00:00.000Z',
        v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
        'reading',
        '51.22',
        'mee-nbs-grid-2023@1',
      ],
      [
        '2022-12-31T16:00:00.000Z',
        v1.LedgerEntryKind.LEDGER_ENTRY_KIND_REVERSAL,
        'restatement',
        '-51.22',
        'mee-nbs-grid-2023@1',
      ],
      [
        '2022-12-31T16:00:00.000Z',
        v1.LedgerEntryKind.LEDGER_ENTRY_KIND_POSTING,
        'restatement',
        '52',
        'mee-nbs-grid-2023@2',
      ],
    ]);
    // The restatement names the version that caused it.
    const restatementLines = (await ledger('ent-restate', EVERYTHING)).filter(
      (entry) => entry.cause === 'restatement',
    );
    expect(restatementLines).toHaveLength(6);
    expect(new Set(restatementLines.map((entry) => entry.source))).toEqual(
      new Set(['factor-set:mee-nbs-grid-2023@2']),
    );
    // 2022's lines are the readings' postings alone.
    expect((await ledger('ent-restate', DAY_2022)).map((entry) => entry.cause)).toEqual([
      'reading',
      'reading',
    ]);

    // EmissionsRestated on the emissions topic, per park hour, before and after:
    //   2023-01-01 00:00  100 kWh:   51.22 ->   52     (+0.78)
    //   2023-06-01 00:00  1,500 kWh: 768.3 ->  780     (+11.7)   1,500 x 0.5122 / x 0.52
    //   2023-06-01 08:00  2,500 kWh: 1,280.5 -> 1,300  (+19.5)   2,500 x 0.5122 / x 0.52
    // Market-based: the residual factor is the same, so before = after (60.96, 914.4, 1,524).
    const hours = await eventually(async () => {
      const records = await readTopic(h.kafka, h.topics.emissions);
      const found = records
        .filter(
          (record) =>
            record.key === 'ent-restate' &&
            record.headers[CE.type] === 'park.carbon.v1.EmissionsRestated',
        )
        .map((record) => v1.EmissionsRestated.decode(record.value!));
      const all = found.flatMap((event) =>
        event.hours.map((hour) => ({
          setId: event.factorSetId,
          version: event.factorSetVersion,
          hourStart: hour.hourStart?.toISOString(),
          locationBefore: hour.before?.scope2LocationKgco2e?.value,
          locationAfter: hour.after?.scope2LocationKgco2e?.value,
          locationChange: hour.change?.scope2LocationKgco2e?.value,
          marketBefore: hour.before?.scope2MarketKgco2e?.value,
          marketAfter: hour.after?.scope2MarketKgco2e?.value,
          priorPeriod: hour.priorPeriodAdjustment,
        })),
      );
      if (all.length < 3) throw new Error(`${all.length} restated hours so far`);
      return all.sort((a, b) => a.hourStart!.localeCompare(b.hourStart!));
    }, 30_000);
    const restatedHour = { setId: 'mee-nbs-grid-2023', version: 2, priorPeriod: false };
    expect(hours).toEqual([
      {
        ...restatedHour,
        hourStart: '2022-12-31T16:00:00.000Z',
        locationBefore: '51.22',
        locationAfter: '52',
        locationChange: '0.78',
        marketBefore: '60.96',
        marketAfter: '60.96',
      },
      {
        ...restatedHour,
        hourStart: '2023-05-31T16:00:00.000Z',
        locationBefore: '768.3',
        locationAfter: '780',
        locationChange: '11.7',
        marketBefore: '914.4',
        marketAfter: '914.4',
      },
      {
        ...restatedHour,
        hourStart: '2023-06-01T00:00:00.000Z',
        locationBefore: '1280.5',
        locationAfter: '1300',
        locationChange: '19.5',
        marketBefore: '1524',
        marketAfter: '1524',
      },
    ]);
  });
});
