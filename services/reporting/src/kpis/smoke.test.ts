import { park } from '@park/contracts';
import { eventually, meterSpec, unary } from '@park/testing';
import { startReportingHarness, type ReportingHarness } from '../test-support/harness';

let h: ReportingHarness;
beforeAll(async () => {
  h = await startReportingHarness('smoke');
});
afterAll(() => h?.stop());

it('KPIs from projected events', async () => {
  await h.publishPark('p1');
  await h.publishEnterprise('e1', 'p1', '沈阳测试企业');
  const grid = meterSpec('m1', 'e1', 'grid');
  await h.publishMeter(grid);
  await h.publishHours('e1', [
    {
      hourStart: '2023-06-01T00:00:00Z',
      change: {
        electricityKwh: '1000',
        renewableKwh: '950',
        energyKgce: '122.9',
        scope2MarketKgco2e: '30.48',
      },
    },
  ]);
  const operator = await h.bearer('operator');
  const answer = await eventually(async () => {
    const kpis = await unary<park.reporting.v1.GetParkKpisResponse>((done) =>
      h.client.getParkKpis(
        {
          parkId: 'p1',
          granularity: park.reporting.v1.Granularity.GRANULARITY_MONTH,
          period: '2023-06',
        },
        operator,
        done,
      ),
    );
    const share = kpis.kpis.find((k) => k.name === 'renewable_electricity_share');
    if (share?.value?.value !== '0.95') throw new Error(JSON.stringify(kpis.kpis));
    return kpis;
  }, 30_000);
  // 30.48 kg / 122.9 kgce = 0.24800650935720097640358014646053702... tCO2/tce, 34 digits
  expect(answer.kpis.find((k) => k.name === 'co2_per_tce')?.value?.value).toBe(
    '0.248006509357200976403580146460537',
  );
});
