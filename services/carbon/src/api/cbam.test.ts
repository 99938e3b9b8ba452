import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { Dec, decimalText } from '@park/domain-primitives';
import { fieldViolationsOf } from '@park/service-kit';
import { eventually, failure, unary } from '@park/testing';
import { CBAM_CSV_HEADER } from '../cbam/csv';
import { meterSpec, startCarbonHarness, type CarbonHarness } from '../test-support/harness';

/**
 * CBAM data through gRPC against the running service: one installation with one aluminium
 * process served by a grid meter, a direct-line meter and a gas meter; readings of June 2023;
 * two CBAM goods, one non-CBAM output and an own precursor. Every figure below is computed by
 * hand in the comments.
 *
 * Process emissions in 2023-06 (park time, Asia/Shanghai):
 *   direct (gas):   10,000 Nm3 x 2.162188809 kg/Nm3 = 21,621.88809 kg = 21.62188809 t
 *                   (GB/T 32151: 38.931 GJ/1000 Nm3 x 0.0153 tC/GJ x 0.99 x 44/12
 *                    = 2.162188809 t per 1000 Nm3, exactly)
 *   grid:           800,000 kWh x 0.5122 kg/kWh (Northeast 2023) = 409,760 kg = 409.76 t
 *   direct line:    200,000 kWh x 0 (actual factor of the direct technical link) = 0 t
 *   electricity:    800,000 + 200,000 = 1,000,000 kWh = 1,000 MWh
 *   weighted factor 409.76 t / 1,000 MWh = 0.40976 t/MWh
 * Output: 60 t (7601 10 00) + 30 t (7604 10 10) + 10 t non-CBAM (7615 10 10) = 100 t; CBAM 90 t.
 * Own precursor: 5 t of 7601 20 80, SEE direct 1.8 and indirect 3.6 tCO2e/t:
 *   5 x 1.8 = 9 t direct, 5 x 3.6 = 18 t indirect, shared over the 90 t of CBAM goods only.
 */

jest.setTimeout(120_000);

const JUNE = '2023-06';

let h: CarbonHarness;
let ent1: grpc.Metadata;
let integrator: grpc.Metadata;

const grid = meterSpec('m-grid', 'ent-1', 'grid');
const line = meterSpec('m-line', 'ent-1', 'direct_line');
const gas = meterSpec('m-gas', 'ent-1', 'gas');
// The enterprise's office: metered, accounted, but not serving the process.
const office = meterSpec('m-office', 'ent-1', 'grid');

beforeAll(async () => {
  h = await startCarbonHarness('cbam_api');
  ent1 = await h.bearer('enterprise', 'ent-1');
  integrator = await h.bearer('integrator');
  await h.publishPark('park-1');
  await h.publishEnterprise('ent-1', 'park-1');
  for (const meter of [grid, line, gas, office]) await h.publishMeter(meter);

  // June in park time is [2023-05-31T16:00Z, 2023-06-30T16:00Z).
  await h.publishReadings(grid, [
    ['2023-05-31T16:00:00Z', '200000'], // 1 June 00:00 park time: in June
    ['2023-06-10T02:00:00Z', '200000'],
    ['2023-06-10T02:15:00Z', '200000'],
    ['2023-06-30T15:45:00Z', '200000'], // 30 June 23:45 park time: in June
    ['2023-06-30T16:00:00Z', '50000'], // 1 July 00:00 park time: not in June
  ]);
  await h.publishReadings(line, [
    ['2023-06-10T02:00:00Z', '100000'],
    ['2023-06-10T02:15:00Z', '100000'],
  ]);
  await h.publishReadings(gas, [['2023-06-10T02:00:00Z', '10000']]);
  await h.publishReadings(office, [['2023-06-10T02:00:00Z', '5000']]);

  // Every reading booked: 800,000 + 50,000 + 5,000 = 855,000 kWh grid, 200,000 direct line,
  // 10,000 Nm3 gas (the July hour included).
  await eventually(async () => {
    const answer = await unary<park.carbon.v1.GetEnterpriseFootprintResponse>((done) =>
      h.client.getEnterpriseFootprint(
        {
          enterpriseId: 'ent-1',
          period: {
            start: new Date('2023-05-31T16:00:00Z'),
            end: new Date('2023-07-31T16:00:00Z'),
          },
        },
        ent1,
        done,
      ),
    );
    const figures = answer.footprint?.figures;
    if (figures?.gridKwh?.value !== '855000' || figures.electricityKwh?.value !== '1055000') {
      throw new Error(`booked so far: ${JSON.stringify(figures)}`);
    }
    // 10,000 Nm3 x 2.162188809 = 21,621.88809 kg.
    expect(figures.scope1Kgco2e?.value).toBe('21621.88809');
  }, 30_000);
});
afterAll(() => h?.stop());

function registerProcess(md: grpc.Metadata, process: park.carbon.v1.Process) {
  return unary<park.carbon.v1.RegisterProcessResponse>((done) =>
    h.client.registerProcess({ process }, md, done),
  );
}

function recordProduction(
  md: grpc.Metadata,
  request: Omit<park.carbon.v1.RecordProductionRequest, 'netMassTonnes' | 'processId'> & {
    tonnes: string;
  },
) {
  const { tonnes, ...rest } = request;
  return unary<park.carbon.v1.RecordProductionResponse>((done) =>
    h.client.recordProduction(
      { processId: 'p-cast', ...rest, netMassTonnes: { value: tonnes } },
      md,
      done,
    ),
  );
}

function recordPrecursor(md: grpc.Metadata, cnCode: string) {
  return unary<park.carbon.v1.RecordPrecursorResponse>((done) =>
    h.client.recordPrecursor(
      {
        processId: 'p-cast',
        month: JUNE,
        cnCode,
        consumedTonnes: { value: '5' },
        directSee: { value: '1.8' },
        indirectSee: { value: '3.6' },
        origin: 'own',
        supplier: '',
      },
      md,
      done,
    ),
  );
}

function cbamData(md: grpc.Metadata, fromMonth = JUNE, toMonth = JUNE) {
  return unary<park.carbon.v1.GetCbamDataResponse>((done) =>
    h.client.getCbamData({ installationId: 'inst-1', fromMonth, toMonth }, md, done),
  );
}

/** What a refused command must leave as it was. */
async function recorded() {
  const { rows: production } = await h.db.pool.query(
    `SELECT month::text, cn_code, net_mass_tonnes::text, route, non_cbam_output
     FROM production_records ORDER BY cn_code, route`,
  );
  const { rows: precursors } = await h.db.pool.query(
    `SELECT month::text, cn_code, origin, consumed_tonnes::text FROM precursor_records ORDER BY cn_code`,
  );
  return {
    stream: await h.db.store.streamVersion('process-p-cast'),
    production,
    precursors,
  };
}

describe('CBAM: one process, two goods, a non-CBAM output and a precursor', () => {
  let june: park.carbon.v1.GetCbamDataResponse;

  it('registers the process with its three meters', async () => {
    const answer = await registerProcess(ent1, {
      processId: 'p-cast',
      installationId: 'inst-1',
      enterpriseId: 'ent-1',
      name: 'Casting and extrusion',
      meterIds: ['m-line', 'm-gas', 'm-grid'],
    });
    expect(answer.process).toEqual({
      processId: 'p-cast',
      installationId: 'inst-1',
      enterpriseId: 'ent-1',
      name: 'Casting and extrusion',
      meterIds: ['m-gas', 'm-grid', 'm-line'],
    });
  });

  it('records the production (the plant MES as integrator) and the precursor', async () => {
    expect(
      await recordProduction(integrator, {
        month: JUNE,
        cnCode: '7601 10 00',
        tonnes: '60',
        route: 'primary electrolysis',
        nonCbamOutput: false,
      }),
    ).toEqual({ sector: 'aluminium' });
    expect(
      await recordProduction(ent1, {
        month: JUNE,
        cnCode: '7604 10 10',
        tonnes: '30',
        route: 'extrusion',
        nonCbamOutput: false,
      }),
    ).toEqual({ sector: 'aluminium' });
    // Household articles of aluminium (7615) are not in Annex I: recorded as non-CBAM output.
    expect(
      await recordProduction(ent1, {
        month: JUNE,
        cnCode: '7615 10 10',
        tonnes: '10',
        route: 'pressing',
        nonCbamOutput: true,
      }),
    ).toEqual({ sector: '' });
    await recordPrecursor(ent1, '7601 20 80');

    expect(await recorded()).toEqual({
      // ProcessRegistered, 3 x ProductionRecorded, PrecursorRecorded.
      stream: 5,
      production: [
        {
          month: '2023-06-01',
          cn_code: '76011000',
          net_mass_tonnes: '60',
          route: 'primary electrolysis',
          non_cbam_output: false,
        },
        {
          month: '2023-06-01',
          cn_code: '76041010',
          net_mass_tonnes: '30',
          route: 'extrusion',
          non_cbam_output: false,
        },
        {
          month: '2023-06-01',
          cn_code: '76151010',
          net_mass_tonnes: '10',
          route: 'pressing',
          non_cbam_output: true,
        },
      ],
      precursors: [
        { month: '2023-06-01', cn_code: '76012080', origin: 'own', consumed_tonnes: '5' },
      ],
    });
  });

  it('attributes the process emissions to the two goods by mass, precursor added', async () => {
    june = await cbamData(ent1);
    const data = june.data!;
    const d = (value: string) => ({ value });
    const sources = (lineMwh: string, gridMwh: string) => [
      // Direct line: its actual factor, 0 (renewable generation over a direct technical link).
      {
        source: 'direct_line',
        mwh: d(lineMwh),
        factor: d('0'),
        factorSource: 'actual_direct_line',
      },
      // Grid: the MEE Northeast 2023 factor, 0.5122 t/MWh.
      { source: 'grid', mwh: d(gridMwh), factor: d('0.5122'), factorSource: 'mee_grid' },
    ];
    expect(data.goods).toEqual([
      {
        processId: 'p-cast',
        cnCode: '76011000',
        sector: 'aluminium',
        route: 'primary electrolysis',
        netMassTonnes: d('60'),
        // 21.62188809 t x 60 / 100 = 12.973132854 t.
        directTco2e: d('12.973132854'),
        // 409.76 t x 60 / 100 = 245.856 t.
        indirectTco2e: d('245.856'),
        // Precursor 9 t x 60 / 90 = 6 t; 18 t x 60 / 90 = 12 t.
        precursorDirectTco2e: d('6'),
        precursorIndirectTco2e: d('12'),
        // (12.973132854 + 6) / 60 = 18.973132854 / 60 = 0.3162188809.
        directSee: d('0.3162188809'),
        // (245.856 + 12) / 60 = 257.856 / 60 = 4.2976: reported, although it does not count.
        indirectSee: d('4.2976'),
        // 1,000 MWh / 100 t of output = 10 MWh/t.
        electricityMwhPerTonne: d('10'),
        electricityFactor: d('0.40976'),
        // 200 MWh x 60 / 100 = 120 MWh; 800 x 60 / 100 = 480 MWh.
        electricitySources: sources('120', '480'),
        // Aluminium is in Annex II: its indirect emissions do not count in the definitive period.
        indirectEmissionsCount: false,
        // Direct SEE only: 0.3162188809 (+ 0 counted indirect; the precursor is aluminium too).
        totalSee: d('0.3162188809'),
      },
      {
        processId: 'p-cast',
        cnCode: '76041010',
        sector: 'aluminium',
        route: 'extrusion',
        netMassTonnes: d('30'),
        // 21.62188809 x 30 / 100 = 6.486566427 t.
        directTco2e: d('6.486566427'),
        // 409.76 x 30 / 100 = 122.928 t.
        indirectTco2e: d('122.928'),
        // 9 x 30 / 90 = 3 t; 18 x 30 / 90 = 6 t.
        precursorDirectTco2e: d('3'),
        precursorIndirectTco2e: d('6'),
        // (6.486566427 + 3) / 30 = 9.486566427 / 30 = 0.3162188809.
        directSee: d('0.3162188809'),
        // (122.928 + 6) / 30 = 128.928 / 30 = 4.2976.
        indirectSee: d('4.2976'),
        electricityMwhPerTonne: d('10'),
        electricityFactor: d('0.40976'),
        // 200 x 30 / 100 = 60 MWh; 800 x 30 / 100 = 240 MWh.
        electricitySources: sources('60', '240'),
        indirectEmissionsCount: false,
        totalSee: d('0.3162188809'),
      },
    ]);

    // The goods add up to 90 % of the process's emissions (10 t of 100 t is non-CBAM output):
    // direct 12.973132854 + 6.486566427 = 19.459699281 = 21.62188809 x 0.9;
    // indirect 245.856 + 122.928 = 368.784 = 409.76 x 0.9; mass 60 + 30 = 90 t.
    expect(data.totalDirectTco2e).toEqual(d('19.459699281'));
    expect(data.totalIndirectTco2e).toEqual(d('368.784'));
    expect(data.totalMassTonnes).toEqual(d('90'));
    // Plus the precursor in full: 6 + 3 = 9 t direct, 12 + 6 = 18 t indirect, so the goods carry
    // 19.459699281 + 9 = 28.459699281 t direct and 368.784 + 18 = 386.784 t indirect.
    const carried = (pick: (good: park.carbon.v1.CbamGood) => Dec) =>
      decimalText(data.goods.reduce((sum, good) => sum.plus(pick(good)), new Dec(0)));
    const dec = (value: park.common.v1.Decimal | undefined) => new Dec(value!.value);
    expect(carried((g) => dec(g.precursorDirectTco2e))).toBe('9');
    expect(carried((g) => dec(g.precursorIndirectTco2e))).toBe('18');
    expect(carried((g) => dec(g.directTco2e).plus(dec(g.precursorDirectTco2e)))).toBe(
      '28.459699281',
    );
    expect(carried((g) => dec(g.indirectTco2e).plus(dec(g.precursorIndirectTco2e)))).toBe(
      '386.784',
    );
    // The same by SEE x mass: 0.3162188809 x 90 = 28.459699281; 4.2976 x 90 = 386.784.
    expect(carried((g) => dec(g.directSee).times(dec(g.netMassTonnes)))).toBe('28.459699281');
    expect(carried((g) => dec(g.indirectSee).times(dec(g.netMassTonnes)))).toBe('386.784');
    expect(data).toMatchObject({ installationId: 'inst-1', fromMonth: JUNE, toMonth: JUNE });
  });

  it('gives the same data as CSV: the header and one row per good', () => {
    const text = Buffer.from(june.csv).toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.split('\r\n').slice(0, -1);
    expect(lines[0]).toBe(CBAM_CSV_HEADER.join(','));
    expect(lines[0]).toBe(
      'installation_id,from_month,to_month,process_id,cn_code,sector,route,net_mass_t,' +
        'direct_tco2e,indirect_tco2e,precursor_direct_tco2e,precursor_indirect_tco2e,' +
        'direct_see_tco2e_per_t,indirect_see_tco2e_per_t,indirect_counts,' +
        'counted_indirect_see_tco2e_per_t,total_see_tco2e_per_t,electricity_mwh,' +
        'electricity_mwh_per_t,electricity_factor_tco2_per_mwh,electricity_sources',
    );
    // Rounded half-even to 6 places: 12.973132854 -> 12.973133, 6.486566427 -> 6.486566,
    // 0.3162188809 -> 0.316219; electricity 1,000 MWh x 60 / 100 = 600 MWh, x 30 / 100 = 300 MWh.
    expect(lines.slice(1)).toEqual([
      'inst-1,2023-06,2023-06,p-cast,76011000,aluminium,primary electrolysis,60.000000,' +
        '12.973133,245.856000,6.000000,12.000000,0.316219,4.297600,false,0.000000,0.316219,' +
        '600.000000,10.000000,0.409760,' +
        'direct_line:actual_direct_line:120.000000;grid:mee_grid:480.000000',
      'inst-1,2023-06,2023-06,p-cast,76041010,aluminium,extrusion,30.000000,' +
        '6.486566,122.928000,3.000000,6.000000,0.316219,4.297600,false,0.000000,0.316219,' +
        '300.000000,10.000000,0.409760,' +
        'direct_line:actual_direct_line:60.000000;grid:mee_grid:240.000000',
    ]);
  });

  it('refuses production with a CN code outside Annex I, naming cn_code, and records nothing', async () => {
    const before = await recorded();
    // 7615 10 10 (household articles of aluminium) and 7602 00 19 (aluminium waste) are
    // aluminium but not Annex I goods; 8501 10 10 (electric motors) is no CBAM sector at all.
    for (const cnCode of ['7615 10 10', '7602 00 19', '8501 10 10']) {
      const refused = await failure(
        recordProduction(ent1, {
          month: JUNE,
          cnCode,
          tonnes: '10',
          route: 'pressing',
          nonCbamOutput: false,
        }),
      );
      expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(fieldViolationsOf(refused).map((violation) => violation.field)).toEqual(['cn_code']);
      expect(refused.details).toContain(`${cnCode.replace(/ /g, '')} is not a CBAM good`);
    }
    expect(await recorded()).toEqual(before);
    expect(await cbamData(ent1)).toEqual(june);
  });
  it('refuses an Annex I good recorded as non-CBAM output, and records nothing', async () => {
    const before = await recorded();
    // Unwrought aluminium flagged non-CBAM would drop 7601 10 00 out of the declaration.
    const refused = await failure(
      recordProduction(ent1, {
        month: JUNE,
        cnCode: '7601 10 00',
        tonnes: '5',
        route: 'remelt',
        nonCbamOutput: true,
      }),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(refused).map((violation) => violation.field)).toEqual([
      'non_cbam_output',
    ]);
    expect(await recorded()).toEqual(before);
    expect(await cbamData(ent1)).toEqual(june);
  });

  it('refuses a precursor outside Annex I, naming cn_code, and records nothing', async () => {
    const before = await recorded();
    // Aluminium waste and scrap (7602 00 19) is not an Annex I good, so no relevant precursor.
    const refused = await failure(recordPrecursor(ent1, '7602 00 19'));
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(refused).map((violation) => violation.field)).toEqual(['cn_code']);
    expect(await recorded()).toEqual(before);
    expect(await cbamData(ent1)).toEqual(june);
  });

  it('leaves a process without output in the period out, instead of failing the installation', async () => {
    // A second process of the installation, registered later, served by the office meter
    // (5,000 kWh in June): it recorded no production, so it has no good to attribute to.
    await registerProcess(ent1, {
      processId: 'p-pack',
      installationId: 'inst-1',
      enterpriseId: 'ent-1',
      name: 'Packing',
      meterIds: ['m-office'],
    });
    expect(await cbamData(ent1)).toEqual(june);

    // July: the grid meter's 50,000 kWh (1 July 00:00 park time) but no production recorded.
    const july = await cbamData(ent1, '2023-07', '2023-07');
    expect(july.data).toEqual({
      installationId: 'inst-1',
      fromMonth: '2023-07',
      toMonth: '2023-07',
      goods: [],
      totalDirectTco2e: { value: '0' },
      totalIndirectTco2e: { value: '0' },
      totalMassTonnes: { value: '0' },
    });
    expect(Buffer.from(july.csv).toString('utf8')).toBe(`${CBAM_CSV_HEADER.join(',')}\r\n`);

    // June and July together: June's goods (July recorded no output), but July's 50,000 kWh of
    // grid power on the process's meter is in the period too:
    // electricity 1,050 MWh, grid 850,000 x 0.5122 = 435,370 kg = 435.37 t; the 60 t good gets
    // 435.37 x 60 / 100 = 261.222 t and 1,050 / 100 = 10.5 MWh/t.
    const both = await cbamData(ent1, '2023-06', '2023-07');
    expect(both.data?.goods.map((good) => good.cnCode)).toEqual(['76011000', '76041010']);
    expect(both.data?.goods[0]).toMatchObject({
      indirectTco2e: { value: '261.222' },
      electricityMwhPerTonne: { value: '10.5' },
      // 435.37 t / 1,050 MWh = 0.41463809523... t/MWh, at 34 significant digits.
      electricityFactor: { value: '0.4146380952380952380952380952380952' },
    });
  });
});
