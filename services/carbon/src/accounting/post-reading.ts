import { Dec, decimalText, instantText, parseDecimal, parseInstant } from '@park/domain-primitives';
import { ValidationError } from '@park/service-kit/errors';
import {
  DIESEL_KGCE_PER_KG,
  ELECTRICITY_KGCE_PER_KWH,
  HEAT_KGCE_PER_MJ,
  naturalGasKgce,
} from '../factors/coefficients';
import { gridKey } from '../factors/factor-set';
import { MissingFactorError } from '../factors/resolve';
import type {
  AttributeStatus,
  Commodity,
  EnergyUnit,
  FactorKey,
  FactorRef,
  MeterRole,
  Posting,
  PostingCategory,
  PostingFigures,
  ReadingInput,
} from './model';

export interface AccountingContext {
  /** The park's grid region, e.g. "northeast": its factor is `grid:<region>`. */
  gridRegion: string;
  /**
   * The factor for an instant. Throws when there is none; throwing MissingFactorError (as
   * factorLookup does) lets a region without a factor fall back to `grid:national`.
   */
  factor(key: FactorKey, instant: string): FactorRef;
  /** A registered generator's attribute status; undefined for an unregistered generator. */
  generatorStatus(generatorId: string): AttributeStatus | undefined;
  /**
   * Direct lines: the kWh dispatch allocated to this enterprise, interval and generator; used
   * instead of the meter value (basis 'allocation'). Ignored for other meters.
   */
  allocatedKwh?: string;
}

const NATIONAL_GRID: FactorKey = 'grid:national';
const RESIDUAL: FactorKey = 'residual:national';

/**
 * One reading to one Posting at full precision, or undefined when the reading is not accounted
 * (storage, sub-meters of electricity, gas and heat, water, hydrogen, and combinations such as
 * heat exports). Quantities are converted exactly to the canonical unit first: electricity kWh,
 * gas Nm3, heat and steam GJ, diesel t.
 */
export function postReading(input: ReadingInput, context: AccountingContext): Posting | undefined {
  const { meter } = input;
  const category = categoryOf(meter.commodity, meter.role);
  if (!category) return undefined;

  const start = parseInstant(input.intervalStart);
  if (start === undefined) {
    throw ValidationError.field('interval_start', 'must be an ISO instant with an offset');
  }
  const instant = instantText(start);
  const metered = parseDecimal(input.value);
  if (!metered) throw ValidationError.field('value', 'must be a plain decimal such as "12.5"');

  const base = {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    intervalStart: instant,
    commodity: meter.commodity,
    role: meter.role,
    category,
    quality: input.quality,
  };
  const account = new Accounting(context, instant);

  switch (category) {
    case 'grid_electricity':
    case 'internal_electricity': {
      const kwh = toKwh(metered, meter.unit);
      const grid = account.gridFactor();
      const residual = account.factor(RESIDUAL);
      return {
        ...base,
        quantity: decimalText(kwh),
        unit: 'kWh',
        figures: figures({
          energyKgce: kwh.times(ELECTRICITY_KGCE_PER_KWH),
          electricityKwh: kwh,
          // Certificates cover grid purchases only, not power from another park entity.
          gridKwh: category === 'grid_electricity' ? kwh : 0,
          scope2LocationKgCo2e: kwh.times(grid.value),
          scope2MarketKgCo2e: kwh.times(residual.value),
        }),
        factors: account.used,
        ...internalSupplier(input),
        basis: 'reading',
      };
    }

    case 'direct_line_electricity':
    case 'onsite_renewable_electricity': {
      const allocated = category === 'direct_line_electricity' ? context.allocatedKwh : undefined;
      let kwh: Dec;
      if (allocated !== undefined) {
        const parsed = parseDecimal(allocated);
        if (!parsed) {
          throw ValidationError.field('allocated_kwh', 'must be a plain decimal such as "12.5"');
        }
        kwh = parsed;
      } else {
        kwh = toKwh(metered, meter.unit);
      }
      const generatorId = meter.sourceGeneratorId;
      // Without a generator it is the enterprise's own plant; an unregistered generator gives
      // no evidence that its attributes stayed with the consumer, so it counts as sold.
      const status: AttributeStatus =
        generatorId === undefined ? 'retained' : (context.generatorStatus(generatorId) ?? 'sold');
      const retained = status === 'retained';
      // Not drawn from the grid: no location-based emissions. Sold attributes: someone else
      // claims the zero, so the consumer takes the residual factor.
      const market = retained ? new Dec(0) : kwh.times(account.factor(RESIDUAL).value);
      return {
        ...base,
        quantity: decimalText(kwh),
        unit: 'kWh',
        figures: figures({
          energyKgce: kwh.times(ELECTRICITY_KGCE_PER_KWH),
          electricityKwh: kwh,
          renewableKwh: retained ? kwh : 0,
          carbonFreeKwh: retained ? kwh : 0,
          scope2MarketKgCo2e: market,
        }),
        factors: account.used,
        ...(generatorId !== undefined ? { generatorId } : {}),
        attributeStatus: status,
        basis: allocated !== undefined ? 'allocation' : 'reading',
      };
    }

    case 'electricity_export': {
      // Surplus on-site generation leaving the enterprise: it reduces consumption, renewable
      // and carbon-free supply alike; no emissions either way.
      const kwh = toKwh(metered, meter.unit);
      return {
        ...base,
        quantity: decimalText(kwh),
        unit: 'kWh',
        figures: figures({
          energyKgce: kwh.neg().times(ELECTRICITY_KGCE_PER_KWH),
          electricityKwh: kwh.neg(),
          renewableKwh: kwh.neg(),
          carbonFreeKwh: kwh.neg(),
        }),
        factors: [],
        basis: 'reading',
      };
    }

    case 'natural_gas': {
      requireUnit(meter.unit, ['Nm3'], meter.commodity);
      const nm3 = metered;
      const factor = account.factor('fuel:natural_gas');
      return {
        ...base,
        quantity: decimalText(nm3),
        unit: 'Nm3',
        figures: figures({
          energyKgce: naturalGasKgce(nm3),
          // Nm3 / 1000 x tCO2 per 1000 Nm3 x 1000 kg/t = Nm3 x factor kg.
          scope1KgCo2e: nm3.times(factor.value),
        }),
        factors: account.used,
        basis: 'reading',
      };
    }

    case 'diesel': {
      const tonnes = toTonnes(metered, meter.unit, meter.commodity);
      const factor = account.factor('fuel:diesel');
      return {
        ...base,
        quantity: decimalText(tonnes),
        unit: 't',
        figures: figures({
          energyKgce: tonnes.times(1000).times(DIESEL_KGCE_PER_KG),
          scope1KgCo2e: tonnes.times(factor.value).times(1000),
        }),
        factors: account.used,
        basis: 'reading',
      };
    }

    case 'purchased_heat':
    case 'purchased_steam': {
      let gj: Dec;
      let enthalpy: Dec | undefined;
      if (category === 'purchased_steam') {
        const tonnes = toTonnes(metered, meter.unit, meter.commodity);
        enthalpy = parseDecimal(meter.steamEnthalpyGjPerTonne);
        if (!enthalpy || !enthalpy.gt(0)) {
          throw ValidationError.field(
            'meter.steam_enthalpy_gj_per_tonne',
            `steam meter ${meter.meterId} needs its enthalpy (GJ/t, greater than zero) to be accounted`,
          );
        }
        gj = tonnes.times(enthalpy);
      } else {
        gj = toGj(metered, meter.unit);
      }
      const factor = account.factor('heat:purchased');
      // GJ x tCO2/GJ x 1000 kg/t; heat is not split by method, both Scope 2 figures agree.
      const emissions = gj.times(factor.value).times(1000);
      return {
        ...base,
        quantity: decimalText(gj),
        unit: 'GJ',
        figures: figures({
          energyKgce: gj.times(1000).times(HEAT_KGCE_PER_MJ),
          scope2LocationKgCo2e: emissions,
          scope2MarketKgCo2e: emissions,
        }),
        factors: account.used,
        ...internalSupplier(input),
        basis: 'reading',
        ...(enthalpy ? { steamEnthalpyGjPerTonne: decimalText(enthalpy) } : {}),
      };
    }
  }
}

/** The posting category of a commodity metered in a role, or undefined when not accounted. */
export function categoryOf(commodity: Commodity, role: MeterRole): PostingCategory | undefined {
  switch (commodity) {
    case 'electricity':
      switch (role) {
        case 'grid_import':
          return 'grid_electricity';
        case 'internal_transfer':
          return 'internal_electricity';
        case 'green_direct_line':
          return 'direct_line_electricity';
        case 'onsite_pv':
        case 'wind':
          return 'onsite_renewable_electricity';
        case 'grid_export':
          return 'electricity_export';
        default:
          return undefined;
      }
    case 'natural_gas':
      return role === 'grid_import' || role === 'internal_transfer' ? 'natural_gas' : undefined;
    case 'diesel':
      // Metering registers diesel deliveries as sub_meter (diesel is not imported from a grid),
      // so a diesel sub-meter is the only record of the fuel: it is accounted.
      return role === 'sub_meter' || role === 'internal_transfer' || role === 'grid_import'
        ? 'diesel'
        : undefined;
    case 'heat':
      return role === 'grid_import' || role === 'internal_transfer' ? 'purchased_heat' : undefined;
    case 'steam':
      return role === 'grid_import' || role === 'internal_transfer' ? 'purchased_steam' : undefined;
    default:
      return undefined;
  }
}

/** Looks factors up for one posting and remembers every one it used. */
class Accounting {
  readonly used: FactorRef[] = [];

  constructor(
    private readonly context: AccountingContext,
    private readonly instant: string,
  ) {}

  factor(key: FactorKey): FactorRef {
    return this.remember(this.context.factor(key, this.instant));
  }

  /** The region's grid factor; `grid:national` when the region has none. */
  gridFactor(): FactorRef {
    const regional = gridKey(this.context.gridRegion);
    if (regional === NATIONAL_GRID) return this.factor(NATIONAL_GRID);
    try {
      return this.factor(regional);
    } catch (error) {
      if (!(error instanceof MissingFactorError)) throw error;
      try {
        return this.factor(NATIONAL_GRID);
      } catch (national) {
        if (!(national instanceof MissingFactorError)) throw national;
        throw new MissingFactorError(regional, this.instant);
      }
    }
  }

  private remember(ref: FactorRef): FactorRef {
    this.used.push(ref);
    return ref;
  }
}

function figures(values: Partial<Record<keyof PostingFigures, Dec | number>>): PostingFigures {
  // decimalText(new Dec(0)) is '0': the zero figures of a posting skip the decimal.
  const text = (value: Dec | number | undefined): string =>
    value === undefined || value === 0 ? '0' : decimalText(new Dec(value));
  return {
    energyKgce: text(values.energyKgce),
    electricityKwh: text(values.electricityKwh),
    gridKwh: text(values.gridKwh),
    renewableKwh: text(values.renewableKwh),
    carbonFreeKwh: text(values.carbonFreeKwh),
    scope1KgCo2e: text(values.scope1KgCo2e),
    scope2LocationKgCo2e: text(values.scope2LocationKgCo2e),
    scope2MarketKgCo2e: text(values.scope2MarketKgCo2e),
  };
}

function internalSupplier(input: ReadingInput): { internalSupplierId?: string } {
  if (input.meter.role !== 'internal_transfer') return {};
  const supplier = input.meter.sourceEntityId;
  if (supplier === undefined || supplier === '') {
    throw ValidationError.field(
      'meter.source_entity_id',
      `internal transfer meter ${input.meter.meterId} names no supplying park entity`,
    );
  }
  return { internalSupplierId: supplier };
}

function requireUnit(unit: EnergyUnit, allowed: readonly EnergyUnit[], commodity: Commodity) {
  if (!allowed.includes(unit)) {
    throw ValidationError.field(
      'meter.unit',
      `${commodity} is accounted in ${allowed.join(' or ')}, not ${unit}`,
    );
  }
}

function toKwh(value: Dec, unit: EnergyUnit): Dec {
  requireUnit(unit, ['kWh', 'MWh'], 'electricity');
  return unit === 'MWh' ? value.times(1000) : value;
}

function toGj(value: Dec, unit: EnergyUnit): Dec {
  requireUnit(unit, ['GJ', 'MJ'], 'heat');
  return unit === 'MJ' ? value.div(1000) : value;
}

function toTonnes(value: Dec, unit: EnergyUnit, commodity: Commodity): Dec {
  requireUnit(unit, ['t', 'kg'], commodity);
  return unit === 'kg' ? value.div(1000) : value;
}
