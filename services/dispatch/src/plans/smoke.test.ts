import { park } from '@park/contracts';
import { unary } from '@park/testing';
import { startDispatchHarness, type DispatchHarness } from '../test-support/harness';

let h: DispatchHarness;
beforeAll(async () => {
  h = await startDispatchHarness('smoke');
});
afterAll(() => h?.stop());

it('plans a day for a small park', async () => {
  const operator = await h.bearer('operator');
  const v1 = park.dispatch.v1;
  await unary((done) =>
    h.client.registerPlant(
      {
        parkId: 'p1',
        plant: {
          plantId: 'pv-1',
          kind: v1.PlantKind.PLANT_KIND_PV,
          capacityKw: { value: '2000' },
          latitude: { value: '41.8' },
          longitude: { value: '123.4' },
          derate: { value: '0.8' },
          meterId: '',
        },
      },
      operator,
      done,
    ),
  );
  await unary((done) =>
    h.client.registerBattery(
      {
        parkId: 'p1',
        battery: {
          batteryId: 'b1',
          energyKwh: { value: '1000' },
          maxChargeKw: { value: '500' },
          maxDischargeKw: { value: '500' },
          chargeEfficiency: { value: '0.95' },
          dischargeEfficiency: { value: '0.95' },
          socMinFraction: { value: '0.1' },
          socMaxFraction: { value: '0.9' },
          degradationCnyPerMwh: { value: '20' },
          socMeterId: '',
          safeMode: 'idle',
        },
      },
      operator,
      done,
    ),
  );
  const all = (dayType: number, price: string) => ({
    dayType,
    fromMinute: 0,
    toMinute: 1440,
    importCnyPerKwh: { value: price },
  });
  await unary((done) =>
    h.client.configureGrid(
      {
        parkId: 'p1',
        grid: { importLimitKw: { value: '5000' }, exportLimitKw: { value: '1000' } },
        tariff: {
          periods: [all(1, '0.6'), all(2, '0.5'), all(3, '0.4')],
          feedInCnyPerKwh: { value: '0.3' },
          holidays: [],
        },
        carbon: { cnyPerTonne: { value: '80' }, gridFactorKgPerKwh: { value: '0.5122' } },
      },
      operator,
      done,
    ),
  );
  const answer = await unary<park.dispatch.v1.PlanDayResponse>((done) =>
    h.client.planDay({ parkId: 'p1', day: '2026-06-21' }, operator, done),
  );
  expect(answer.plan?.intervals).toHaveLength(96);
  expect(answer.plan?.status).toBe('optimal');
});
