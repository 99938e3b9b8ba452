import { ValidationError } from '@park/service-kit/errors';
import { MissingFactorError } from '../factors/resolve';
import { seedFactorSets } from '../factors/seed';
import type { MeterRole } from './model';
import { postReading } from './post-reading';
import { context, JUNE_2023, reading } from './test-support/readings';

// Factors used below (seed, 2023): northeast 0.5122, national 0.5306, residual 0.6096 kgCO2/kWh;
// 2022: northeast 0.5564; diesel 3.095909637333333333333333333333333 tCO2/t; heat 0.11 tCO2/GJ.

describe('postReading: electricity', () => {
  it('converts MWh to kWh exactly', () => {
    const posting = postReading(
      reading({ commodity: 'electricity', role: 'grid_import', unit: 'MWh' }, '2.5'),
      context(),
    )!;
    // 2.5 MWh = 2,500 kWh; x 0.5122 = 1,280.5; x 0.6096 = 1,524; x 0.1229 = 307.25.
    expect(posting).toMatchObject({
      category: 'grid_electricity',
      quantity: '2500',
      unit: 'kWh',
      basis: 'reading',
      intervalStart: JUNE_2023,
      figures: {
        electricityKwh: '2500',
        gridKwh: '2500',
        scope2LocationKgCo2e: '1280.5',
        scope2MarketKgCo2e: '1524',
        energyKgce: '307.25',
      },
    });
  });

  it('lists every factor it used', () => {
    const posting = postReading(
      reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '1'),
      context(),
    )!;
    expect(posting.factors).toEqual([
      {
        key: 'grid:northeast',
        setId: 'mee-nbs-grid-2023',
        version: 1,
        value: '0.5122',
        unit: 'kgCO2/kWh',
        fallback: false,
      },
      {
        key: 'residual:national',
        setId: 'mee-nbs-grid-2023',
        version: 1,
        value: '0.6096',
        unit: 'kgCO2/kWh',
        fallback: false,
      },
    ]);
  });

  it('takes the factors of the interval: 2022 for a 2022 reading', () => {
    const posting = postReading(
      reading(
        { commodity: 'electricity', role: 'grid_import', unit: 'kWh' },
        '1000',
        '2022-12-31T23:45+08:00',
      ),
      context(),
    )!;
    // 1,000 x 0.5564 = 556.4; 1,000 x 0.5856 = 585.6.
    expect(posting.intervalStart).toBe('2022-12-31T15:45:00.000Z');
    expect(posting.figures.scope2LocationKgCo2e).toBe('556.4');
    expect(posting.figures.scope2MarketKgCo2e).toBe('585.6');
  });

  it('falls back to the latest earlier factors, marked, for an unpublished year', () => {
    const posting = postReading(
      reading(
        { commodity: 'electricity', role: 'grid_import', unit: 'kWh' },
        '100',
        '2025-05-01T00:00Z',
      ),
      context(),
    )!;
    // 100 x 0.5122 = 51.22 (2023 northeast)
    expect(posting.figures.scope2LocationKgCo2e).toBe('51.22');
    expect(posting.factors.every((f) => f.fallback && f.setId === 'mee-nbs-grid-2023')).toBe(true);
  });

  it('uses the national grid factor for a region without its own', () => {
    const posting = postReading(
      reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '10000'),
      context({ gridRegion: 'northwest' }),
    )!;
    // 10,000 x 0.5306 = 5,306.
    expect(posting.figures.scope2LocationKgCo2e).toBe('5306');
    expect(posting.factors[0]!.key).toBe('grid:national');
  });

  it("finds the regional factor under metering's region spelling", () => {
    const posting = postReading(
      reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '10000'),
      context({ gridRegion: 'northeast_china' }),
    )!;
    expect(posting.figures.scope2LocationKgCo2e).toBe('5122');
  });

  it('accounts an internal transfer like grid power, with no certificate-eligible kWh', () => {
    const posting = postReading(
      reading(
        {
          commodity: 'electricity',
          role: 'internal_transfer',
          unit: 'kWh',
          sourceEntityId: 'ent-chp',
        },
        '400',
      ),
      context(),
    )!;
    // 400 x 0.5122 = 204.88; 400 x 0.6096 = 243.84; 400 x 0.1229 = 49.16.
    expect(posting).toMatchObject({
      category: 'internal_electricity',
      internalSupplierId: 'ent-chp',
      figures: {
        electricityKwh: '400',
        gridKwh: '0',
        scope2LocationKgCo2e: '204.88',
        scope2MarketKgCo2e: '243.84',
        energyKgce: '49.16',
      },
    });
  });

  it('uses the allocated kWh of a direct line instead of the meter', () => {
    const posting = postReading(
      reading(
        {
          commodity: 'electricity',
          role: 'green_direct_line',
          unit: 'kWh',
          sourceGeneratorId: 'gen-1',
        },
        '3000',
      ),
      context({ generators: { 'gen-1': 'retained' }, allocatedKwh: '2500' }),
    )!;
    // 2,500 x 0.1229 = 307.25.
    expect(posting).toMatchObject({
      basis: 'allocation',
      quantity: '2500',
      figures: { electricityKwh: '2500', renewableKwh: '2500', energyKgce: '307.25' },
    });
  });

  it('treats an unregistered generator as having sold its attributes', () => {
    const posting = postReading(
      reading(
        {
          commodity: 'electricity',
          role: 'green_direct_line',
          unit: 'kWh',
          sourceGeneratorId: 'gen-unknown',
        },
        '100',
      ),
      context(),
    )!;
    // 100 x 0.6096 = 60.96; no location-based emissions off the grid.
    expect(posting).toMatchObject({
      attributeStatus: 'sold',
      generatorId: 'gen-unknown',
      figures: {
        scope2LocationKgCo2e: '0',
        scope2MarketKgCo2e: '60.96',
        renewableKwh: '0',
        carbonFreeKwh: '0',
        electricityKwh: '100',
        gridKwh: '0',
      },
    });
  });

  it('counts on-site wind as retained renewable power', () => {
    const posting = postReading(
      reading({ commodity: 'electricity', role: 'wind', unit: 'kWh' }, '100'),
      context(),
    )!;
    expect(posting.category).toBe('onsite_renewable_electricity');
    expect(posting.figures).toMatchObject({ renewableKwh: '100', scope2MarketKgCo2e: '0' });
    expect(posting.factors).toEqual([]);
  });

  it('posts exports as negative consumption, renewable and carbon-free supply', () => {
    const posting = postReading(
      reading({ commodity: 'electricity', role: 'grid_export', unit: 'MWh' }, '0.3'),
      context(),
    )!;
    // 0.3 MWh = 300 kWh; -300 x 0.1229 = -36.87 kgce.
    expect(posting).toMatchObject({ category: 'electricity_export', quantity: '300' });
    expect(posting.figures).toEqual({
      energyKgce: '-36.87',
      electricityKwh: '-300',
      gridKwh: '0',
      renewableKwh: '-300',
      carbonFreeKwh: '-300',
      scope1KgCo2e: '0',
      scope2LocationKgCo2e: '0',
      scope2MarketKgCo2e: '0',
    });
  });
});

describe('postReading: fuels, heat and steam', () => {
  it('converts diesel kg to t', () => {
    const posting = postReading(
      reading({ commodity: 'diesel', role: 'sub_meter', unit: 'kg' }, '250'),
      context(),
    )!;
    // 250 kg = 0.25 t; 0.25 x 3.095909637333333333333333333333333 = 0.77397740933...3325
    // (35 digits), to 34 half-even: ...3332; x 1000 = 773.977409333...3332 kg.
    // 250 kg x 1.4571 = 364.275 kgce.
    expect(posting).toMatchObject({
      category: 'diesel',
      quantity: '0.25',
      unit: 't',
      figures: {
        scope1KgCo2e: '773.9774093333333333333333333333332',
        energyKgce: '364.275',
      },
    });
    expect(posting.factors.map((f) => f.key)).toEqual(['fuel:diesel']);
  });

  it('accounts diesel in tonnes', () => {
    const posting = postReading(
      reading({ commodity: 'diesel', role: 'sub_meter', unit: 't' }, '2'),
      context(),
    )!;
    // 2 x 3.095909637333...333 = 6.191819274666...666 (34 digits); x 1000.
    // 2,000 kg x 1.4571 = 2,914.2 kgce.
    expect(posting.figures.scope1KgCo2e).toBe('6191.819274666666666666666666666666');
    expect(posting.figures.energyKgce).toBe('2914.2');
  });

  it('converts heat MJ to GJ', () => {
    const posting = postReading(
      reading({ commodity: 'heat', role: 'grid_import', unit: 'MJ' }, '5000'),
      context(),
    )!;
    // 5,000 MJ = 5 GJ; 5 x 0.11 x 1000 = 550 kg; 5,000 MJ x 0.03412 = 170.6 kgce.
    expect(posting).toMatchObject({
      category: 'purchased_heat',
      quantity: '5',
      unit: 'GJ',
      figures: { scope2LocationKgCo2e: '550', scope2MarketKgCo2e: '550', energyKgce: '170.6' },
    });
  });

  it('carries the supplier of internal heat', () => {
    const posting = postReading(
      reading(
        { commodity: 'heat', role: 'internal_transfer', unit: 'GJ', sourceEntityId: 'ent-chp' },
        '10',
      ),
      context(),
    )!;
    // 10 x 0.11 x 1000 = 1,100 kg.
    expect(posting).toMatchObject({
      internalSupplierId: 'ent-chp',
      figures: { scope2LocationKgCo2e: '1100' },
    });
  });

  it('turns steam tonnes into GJ through the enthalpy', () => {
    const posting = postReading(
      reading(
        { commodity: 'steam', role: 'grid_import', unit: 't', steamEnthalpyGjPerTonne: '2.8' },
        '2',
      ),
      context(),
    )!;
    // 2 t x 2.8 GJ/t = 5.6 GJ; 5.6 x 0.11 x 1000 = 616 kg; 5,600 MJ x 0.03412 = 191.072 kgce.
    expect(posting).toMatchObject({
      category: 'purchased_steam',
      quantity: '5.6',
      unit: 'GJ',
      steamEnthalpyGjPerTonne: '2.8',
      figures: { scope2LocationKgCo2e: '616', scope2MarketKgCo2e: '616', energyKgce: '191.072' },
    });
  });

  it('accepts steam in kg', () => {
    const posting = postReading(
      reading(
        { commodity: 'steam', role: 'grid_import', unit: 'kg', steamEnthalpyGjPerTonne: '2.8' },
        '1500',
      ),
      context(),
    )!;
    // 1,500 kg = 1.5 t x 2.8 = 4.2 GJ; x 110 = 462 kg; 4,200 x 0.03412 = 143.304 kgce.
    expect(posting.quantity).toBe('4.2');
    expect(posting.figures.scope2LocationKgCo2e).toBe('462');
    expect(posting.figures.energyKgce).toBe('143.304');
  });

  it('refuses steam without an enthalpy', () => {
    expect(() =>
      postReading(reading({ commodity: 'steam', role: 'grid_import', unit: 't' }, '2'), context()),
    ).toThrow(/enthalpy/);
  });

  it('posts gas bought from another park entity as Scope 1 of the burner', () => {
    const posting = postReading(
      reading(
        {
          commodity: 'natural_gas',
          role: 'internal_transfer',
          unit: 'Nm3',
          sourceEntityId: 'ent-x',
        },
        '1000',
      ),
      context(),
    )!;
    // 1,000 x 2.162188809 = 2,162.188809 kg.
    expect(posting.figures.scope1KgCo2e).toBe('2162.188809');
    expect(posting.internalSupplierId).toBeUndefined();
  });
});

describe('postReading: what is not accounted', () => {
  const storageAndSub: MeterRole[] = [
    'storage_charge',
    'storage_discharge',
    'storage_soc',
    'sub_meter',
  ];

  it.each(storageAndSub)('electricity %s gives no posting', (role) => {
    expect(
      postReading(reading({ commodity: 'electricity', role, unit: 'kWh' }, '5'), context()),
    ).toBeUndefined();
  });

  it('ignores gas and heat sub-meters, water, hydrogen and heat exports', () => {
    const ctx = context();
    expect(
      postReading(reading({ commodity: 'natural_gas', role: 'sub_meter', unit: 'Nm3' }, '5'), ctx),
    ).toBeUndefined();
    expect(
      postReading(reading({ commodity: 'heat', role: 'sub_meter', unit: 'GJ' }, '5'), ctx),
    ).toBeUndefined();
    expect(
      postReading(reading({ commodity: 'water', role: 'grid_import', unit: 'm3' }, '5'), ctx),
    ).toBeUndefined();
    expect(
      postReading(reading({ commodity: 'hydrogen', role: 'grid_import', unit: 'Nm3' }, '5'), ctx),
    ).toBeUndefined();
    expect(
      postReading(reading({ commodity: 'heat', role: 'grid_export', unit: 'GJ' }, '5'), ctx),
    ).toBeUndefined();
  });
});

describe('postReading: errors', () => {
  it('throws a clear error when a factor is missing', () => {
    const withoutResidual = seedFactorSets().map((set) => ({
      ...set,
      factors: set.factors.filter((entry) => entry.key !== 'residual:national'),
    }));
    const input = reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '1');
    expect(() => postReading(input, context({ sets: withoutResidual }))).toThrow(
      new MissingFactorError('residual:national', JUNE_2023),
    );
    expect(() => postReading(input, context({ sets: withoutResidual }))).toThrow(
      'no emission factor residual:national is published for 2023-06-15T02:00:00.000Z or any earlier period',
    );
  });

  it('names the regional key when neither it nor the national factor exists', () => {
    const noGrid = seedFactorSets().map((set) => ({
      ...set,
      factors: set.factors.filter((entry) => !entry.key.startsWith('grid:')),
    }));
    const input = reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '1');
    expect(() => postReading(input, context({ sets: noGrid, gridRegion: 'northwest' }))).toThrow(
      /grid:northwest/,
    );
  });

  it('rejects a value that is not a plain decimal', () => {
    const input = reading({ commodity: 'electricity', role: 'grid_import', unit: 'kWh' }, '1e3');
    expect(() => postReading(input, context())).toThrow(
      ValidationError.field('value', 'must be a plain decimal such as "12.5"'),
    );
  });

  it('rejects a unit foreign to the commodity', () => {
    const input = reading({ commodity: 'electricity', role: 'grid_import', unit: 'GJ' }, '1');
    let error: unknown;
    try {
      postReading(input, context());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations[0]!.field).toBe('meter.unit');
  });

  it('requires the supplier of an internal transfer', () => {
    const input = reading(
      { commodity: 'electricity', role: 'internal_transfer', unit: 'kWh' },
      '1',
    );
    expect(() => postReading(input, context())).toThrow(/source_entity_id|supplying/);
  });
});
