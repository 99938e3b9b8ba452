import { ValidationError } from '@park/service-kit/errors';
import {
  cbamCsv,
  cbamForInstallation,
  cbamForProcess,
  CBAM_CSV_HEADER,
  type InstallationCbamResult,
  type ProcessPeriodInput,
} from './index';

/*
 * Aluminium remelting and extrusion, one quarter:
 *   direct: 150 000 kg = 150 t
 *   electricity: 400 000 kWh over the direct line at 0 (actual) + 600 000 kWh grid at 0.5122
 *     indirect = 600 000 x 0.5122 = 307 320 kg = 307.32 t; 1 000 MWh; factor 307 320 / 1 000 000
 *     = 0.30732 tCO2/MWh
 *   output: 60 t unwrought (7601 10 00) + 30 t bars (7604 10 10) + 10 t household articles
 *     (7615 10 10, not in Annex I) = 100 t, of which 90 t CBAM
 *   own precursor: 45 t unwrought aluminium, SEE 1.6 direct / 6.4 indirect
 *     = 72 t direct, 288 t indirect, to the 90 t of CBAM goods only
 */
const remelting: ProcessPeriodInput = {
  processId: 'remelt',
  directKgCo2e: '150000',
  electricity: [
    {
      source: 'direct_line',
      kwh: '400000',
      factorKgPerKwh: '0',
      factorSource: 'actual_direct_line',
    },
    { source: 'grid', kwh: '600000', factorKgPerKwh: '0.5122', factorSource: 'mee_grid' },
  ],
  production: [
    { cnCode: '7601 10 00', netMassTonnes: '60', route: 'remelting, casting', cbam: true },
    { cnCode: '7604 10 10', netMassTonnes: '30', route: 'extrusion', cbam: true },
    { cnCode: '7615 10 10', netMassTonnes: '10', route: 'pressing', cbam: false },
  ],
  precursors: [
    {
      cnCode: '7601 10 00',
      consumedTonnes: '45',
      directSeeTco2PerT: '1.6',
      indirectSeeTco2PerT: '6.4',
      origin: 'own',
    },
  ],
};

/*
 * Cement grinding, same quarter:
 *   direct: 80 000 kg = 80 t
 *   electricity: 50 000 kWh grid at 0.5122 (MEE) = 25 610 kg; 30 000 kWh grid at 0.63 (EU
 *     default) = 18 900 kg; indirect 44 510 kg = 44.51 t; 80 MWh; factor 44 510 / 80 000 = 0.556375
 *   output: 100 t Portland cement (2523 29 00), all CBAM
 *   bought clinker: 70 t at 0.8 direct / 0.05 indirect = 56 t / 3.5 t
 */
const grinding: ProcessPeriodInput = {
  processId: 'grind',
  directKgCo2e: '80000',
  electricity: [
    { source: 'grid', kwh: '50000', factorKgPerKwh: '0.5122', factorSource: 'mee_grid' },
    { source: 'grid', kwh: '30000', factorKgPerKwh: '0.63', factorSource: 'eu_default' },
  ],
  production: [{ cnCode: '25232900', netMassTonnes: '100', route: 'grinding', cbam: true }],
  precursors: [
    {
      cnCode: '2523 10 00',
      consumedTonnes: '70',
      directSeeTco2PerT: '0.8',
      indirectSeeTco2PerT: '0.05',
      origin: 'supplier',
    },
  ],
};

describe('CBAM attribution', () => {
  it('splits a process over all output by mass and precursors over the CBAM goods', () => {
    const result = cbamForProcess(remelting);
    expect(result).toMatchObject({
      processId: 'remelt',
      directTco2e: '150',
      indirectTco2e: '307.32',
      electricityMwh: '1000',
      electricityFactor: '0.30732',
      outputTonnes: '100',
      cbamOutputTonnes: '90',
      precursorDirectTco2e: '72',
      precursorIndirectTco2e: '288',
      // 10 % of the process: 150 x 10 / 100 = 15 t direct, 307.32 x 10 / 100 = 30.732 t indirect.
      excluded: { outputTonnes: '10', directTco2e: '15', indirectTco2e: '30.732' },
    });
    expect(result.goods).toEqual([
      {
        processId: 'remelt',
        cnCode: '76011000',
        sector: 'aluminium',
        route: 'remelting, casting',
        netMassTonnes: '60',
        directTco2e: '90', // 150 x 60 / 100
        indirectTco2e: '184.392', // 307.32 x 60 / 100
        precursorDirectTco2e: '48', // 72 x 60 / 90
        precursorIndirectTco2e: '192', // 288 x 60 / 90
        directSee: '2.3', // (90 + 48) / 60 = 138 / 60
        indirectSee: '6.2732', // (184.392 + 192) / 60 = 376.392 / 60
        indirectCounts: false,
        countedIndirectSee: '0', // aluminium, and its precursor is aluminium too
        totalSee: '2.3',
        electricityMwh: '600', // 1000 x 60 / 100
        electricityMwhPerTonne: '10', // 1000 / 100
        electricityFactor: '0.30732',
        electricitySources: [
          // 400 MWh x 60 / 100 and 600 MWh x 60 / 100
          { source: 'direct_line', factorSource: 'actual_direct_line', mwh: '240', factor: '0' },
          { source: 'grid', factorSource: 'mee_grid', mwh: '360', factor: '0.5122' },
        ],
      },
      {
        processId: 'remelt',
        cnCode: '76041010',
        sector: 'aluminium',
        route: 'extrusion',
        netMassTonnes: '30',
        directTco2e: '45', // 150 x 30 / 100
        indirectTco2e: '92.196', // 307.32 x 30 / 100
        precursorDirectTco2e: '24', // 72 x 30 / 90
        precursorIndirectTco2e: '96', // 288 x 30 / 90
        directSee: '2.3', // (45 + 24) / 30 = 69 / 30
        indirectSee: '6.2732', // (92.196 + 96) / 30 = 188.196 / 30
        indirectCounts: false,
        countedIndirectSee: '0',
        totalSee: '2.3',
        electricityMwh: '300',
        electricityMwhPerTonne: '10',
        electricityFactor: '0.30732',
        electricitySources: [
          { source: 'direct_line', factorSource: 'actual_direct_line', mwh: '120', factor: '0' },
          { source: 'grid', factorSource: 'mee_grid', mwh: '180', factor: '0.5122' },
        ],
      },
    ]);
    // Both goods together: 90 % of the process plus the whole precursor.
    //   direct 90 + 45 = 135 = 150 x 0.9; precursor 48 + 24 = 72
    //   indirect 184.392 + 92.196 = 276.588 = 307.32 x 0.9; precursor 192 + 96 = 288
  });

  it('counts indirect emissions of a cement good', () => {
    const [cement] = cbamForProcess(grinding).goods;
    expect(cement).toMatchObject({
      cnCode: '25232900',
      sector: 'cement',
      directTco2e: '80',
      indirectTco2e: '44.51',
      precursorDirectTco2e: '56', // 70 x 0.8, all 100 t are CBAM
      precursorIndirectTco2e: '3.5', // 70 x 0.05
      directSee: '1.36', // (80 + 56) / 100
      indirectSee: '0.4801', // (44.51 + 3.5) / 100
      indirectCounts: true,
      countedIndirectSee: '0.4801', // clinker counts too
      totalSee: '1.8401', // 1.36 + 0.4801
      electricityMwh: '80',
      electricityMwhPerTonne: '0.8',
      electricityFactor: '0.556375',
      electricitySources: [
        { source: 'grid', factorSource: 'mee_grid', mwh: '50', factor: '0.5122' },
        { source: 'grid', factorSource: 'eu_default', mwh: '30', factor: '0.63' },
      ],
    });
  });

  it("counts a precursor's indirect emissions by the precursor's own code", () => {
    /*
     * Ammonia (counts) from own hydrogen (Annex II, does not):
     *   direct 100 t, indirect 20 000 kWh x 0.5 = 10 t; hydrogen 10 t x 9 = 90 t direct, x 2 = 20 t
     *   50 t ammonia: direct SEE (100 + 90) / 50 = 3.8; indirect SEE (10 + 20) / 50 = 0.6;
     *   counted 10 / 50 = 0.2 (hydrogen's 20 t left out); total 3.8 + 0.2 = 4
     * DRI (does not count) from bought sintered ore (counts):
     *   direct 50 t, indirect 10 000 kWh x 0.5 = 5 t; ore 140 t x 0.2 = 28 t, x 0.05 = 7 t
     *   100 t DRI: direct SEE (50 + 28) / 100 = 0.78; indirect SEE (5 + 7) / 100 = 0.12;
     *   counted 7 / 100 = 0.07 (the ore's only); total 0.78 + 0.07 = 0.85
     */
    const [ammonia] = cbamForProcess({
      processId: 'ammonia',
      directKgCo2e: '100000',
      electricity: [
        { source: 'grid', kwh: '20000', factorKgPerKwh: '0.5', factorSource: 'eu_default' },
      ],
      production: [{ cnCode: '2814 10 00', netMassTonnes: '50', route: 'Haber-Bosch', cbam: true }],
      precursors: [
        {
          cnCode: '2804 10 00',
          consumedTonnes: '10',
          directSeeTco2PerT: '9',
          indirectSeeTco2PerT: '2',
          origin: 'own',
        },
      ],
    }).goods;
    expect(ammonia).toMatchObject({
      indirectCounts: true,
      directSee: '3.8',
      indirectSee: '0.6',
      countedIndirectSee: '0.2',
      totalSee: '4',
    });
    const [dri] = cbamForProcess({
      processId: 'dri',
      directKgCo2e: '50000',
      electricity: [
        { source: 'grid', kwh: '10000', factorKgPerKwh: '0.5', factorSource: 'eu_default' },
      ],
      production: [
        { cnCode: '7203 10 00', netMassTonnes: '100', route: 'gas-based DRI', cbam: true },
      ],
      precursors: [
        {
          cnCode: '2601 12 00',
          consumedTonnes: '140',
          directSeeTco2PerT: '0.2',
          indirectSeeTco2PerT: '0.05',
          origin: 'supplier',
        },
      ],
    }).goods;
    expect(dri).toMatchObject({
      indirectCounts: false,
      directSee: '0.78',
      indirectSee: '0.12',
      countedIndirectSee: '0.07',
      totalSee: '0.85',
    });
  });

  it('adds up records of the same good and route, and keeps precursors of non-CBAM-only processes out', () => {
    const result = cbamForProcess({
      processId: 'p',
      directKgCo2e: '10000',
      electricity: [],
      production: [
        { cnCode: '7615 10 10', netMassTonnes: '12', route: 'pressing', cbam: false },
        { cnCode: '7615 10 10', netMassTonnes: '8', route: 'pressing', cbam: false },
      ],
      precursors: [
        {
          cnCode: '7601 10 00',
          consumedTonnes: '10',
          directSeeTco2PerT: '2',
          indirectSeeTco2PerT: '1',
          origin: 'supplier',
        },
      ],
    });
    // No CBAM good: 10 t own direct + 10 x 2 = 20 t precursor direct, 10 x 1 = 10 t indirect.
    expect(result.goods).toEqual([]);
    expect(result.excluded).toEqual({ outputTonnes: '20', directTco2e: '30', indirectTco2e: '10' });
    expect(result.electricityFactor).toBeNull();

    const merged = cbamForProcess({
      ...grinding,
      production: [
        { cnCode: '2523 29 00', netMassTonnes: '40', route: 'grinding', cbam: true },
        { cnCode: '2523 29 00', netMassTonnes: '60', route: 'grinding', cbam: true },
      ],
    });
    expect(merged.goods.map((good) => [good.netMassTonnes, good.totalSee])).toEqual([
      ['100', '1.8401'],
    ]);
  });

  it('refuses output recorded against the wrong side of Annex I and grid power with a direct-line factor', () => {
    expect(() =>
      cbamForProcess({
        ...remelting,
        electricity: [
          { source: 'grid', kwh: '1', factorKgPerKwh: '0', factorSource: 'actual_direct_line' },
        ],
        production: [
          { cnCode: '7615 10 10', netMassTonnes: '10', route: 'pressing', cbam: true },
          { cnCode: '7601 10 00', netMassTonnes: '10', route: 'casting', cbam: false },
          { cnCode: '7601 10 00', netMassTonnes: '0', route: 'casting', cbam: true },
        ],
      }),
    ).toThrow(
      new ValidationError([
        {
          field: 'electricity[0].factor_source',
          description: 'grid electricity takes the mee_grid or eu_default factor',
        },
        {
          field: 'production[0].cn_code',
          description: '7615 10 10 is not an 8-digit CN code of a CBAM Annex I good',
        },
        {
          field: 'production[1].cbam',
          description: 'CN 7601 10 00 is an Annex I good: record it as CBAM output',
        },
        { field: 'production[2].net_mass_tonnes', description: 'must be greater than zero' },
      ]),
    );
  });

  describe('per installation', () => {
    const installation = cbamForInstallation({
      installationId: 'inst-1',
      fromMonth: '2025-01',
      toMonth: '2025-03',
      processes: [remelting, grinding],
    });

    it('totals the goods of every process', () => {
      expect(installation.goods.map((good) => good.cnCode)).toEqual([
        '76011000',
        '76041010',
        '25232900',
      ]);
      expect(installation.totals).toEqual({
        massTonnes: '190', // 60 + 30 + 100
        directTco2e: '215', // 90 + 45 + 80
        indirectTco2e: '321.098', // 184.392 + 92.196 + 44.51
        precursorDirectTco2e: '128', // 48 + 24 + 56
        precursorIndirectTco2e: '291.5', // 192 + 96 + 3.5
        electricityMwh: '980', // 600 + 300 + 80
        excludedDirectTco2e: '15',
        excludedIndirectTco2e: '30.732',
      });
    });

    it('names the process of a violation', () => {
      expect(() =>
        cbamForInstallation({
          installationId: 'inst-1',
          fromMonth: '2025-03',
          toMonth: '2025-01',
          processes: [remelting, { ...remelting, directKgCo2e: '-1' }],
        }),
      ).toThrow(
        new ValidationError([
          { field: 'to_month', description: 'must not be before from_month' },
          { field: 'processes[1].direct_kg_co2e', description: 'must not be negative' },
          { field: 'processes[1].process_id', description: 'process remelt is listed twice' },
        ]),
      );
    });

    it('renders CSV with a header and one row per good', () => {
      const lines = cbamCsv(installation).split('\r\n');
      expect(lines[0]).toBe(
        'installation_id,from_month,to_month,process_id,cn_code,sector,route,net_mass_t,' +
          'direct_tco2e,indirect_tco2e,precursor_direct_tco2e,precursor_indirect_tco2e,' +
          'direct_see_tco2e_per_t,indirect_see_tco2e_per_t,indirect_counts,' +
          'counted_indirect_see_tco2e_per_t,total_see_tco2e_per_t,electricity_mwh,' +
          'electricity_mwh_per_t,electricity_factor_tco2_per_mwh,electricity_sources',
      );
      expect(lines[0]?.split(',')).toEqual([...CBAM_CSV_HEADER]);
      expect(lines[1]).toBe(
        'inst-1,2025-01,2025-03,remelt,76011000,aluminium,"remelting, casting",60.000000,' +
          '90.000000,184.392000,48.000000,192.000000,2.300000,6.273200,false,0.000000,2.300000,' +
          '600.000000,10.000000,0.307320,' +
          'direct_line:actual_direct_line:240.000000;grid:mee_grid:360.000000',
      );
      // Header, three goods and the empty string after the last CRLF.
      expect(lines).toHaveLength(5);
      expect(lines[4]).toBe('');
    });

    it('rounds half-even for display and defuses formula-like text', () => {
      const [good] = installation.goods;
      const shown: InstallationCbamResult = {
        ...installation,
        goods: [
          {
            ...good!,
            route: '=HYPERLINK("x")',
            directSee: '0.0000125', // tie: rounds to the even 0.000012
            indirectSee: '0.0000135', // tie: rounds to the even 0.000014
            electricityFactor: null,
          },
        ],
      };
      const fields = cbamCsv(shown).split('\r\n')[1]!;
      expect(fields).toContain(',"\'=HYPERLINK(""x"")",');
      expect(fields).toContain(',0.000012,0.000014,false,');
      expect(fields).toContain(',10.000000,,direct_line:');
    });
  });
});
