/**
 * The carbon service's view of metered energy. Readings arrive from metering's integration
 * events; each one (a meter's value for one interval) becomes one Posting: its energy, its
 * emissions by both Scope 2 methods and the factors behind them. Postings are linear: a
 * period's figures are the sum of its postings, and a changed reading or factor is a reversal
 * of the old posting plus the new one.
 */

// The meter vocabulary is metering's contract, decoded by the shared decoders.
export {
  COMMODITIES,
  METER_ROLES,
  type Commodity,
  type EnergyUnit,
  type MeterFacts,
  type MeterRole,
  type Quality,
} from '@park/metering-events';
import type { Commodity, EnergyUnit, MeterFacts, MeterRole, Quality } from '@park/metering-events';

/** One interval value to account. */
export interface ReadingInput {
  meter: MeterFacts;
  /** ISO instant of the interval's start (UTC). */
  intervalStart: string;
  /** Decimal string in the meter's unit. */
  value: string;
  quality: Quality;
}

/**
 * How a posting treats the energy. Categories decide the formulas (DESIGN.md section 4, Carbon).
 * Readings of storage, sub-meters, water and hydrogen are not accounted (no posting).
 */
export type PostingCategory =
  | 'grid_electricity'
  | 'internal_electricity'
  | 'direct_line_electricity'
  | 'onsite_renewable_electricity'
  | 'electricity_export'
  | 'natural_gas'
  | 'diesel'
  | 'purchased_heat'
  | 'purchased_steam';

/** Whether a generator's environmental attributes (its GECs) stay with the consumer. */
export type AttributeStatus = 'retained' | 'sold';

export type FactorKey =
  `grid:${string}` | 'residual:national' | 'fuel:natural_gas' | 'fuel:diesel' | 'heat:purchased';

/** The factor a posting used, enough to find its published version again. */
export interface FactorRef {
  key: FactorKey;
  setId: string;
  version: number;
  /** As published, e.g. "0.5122" kgCO2/kWh. */
  value: string;
  unit: string;
  /** True when no published set covers the interval and the latest earlier one was used. */
  fallback: boolean;
}

/** All figures are full-precision decimal strings; rounding happens only when shown. */
export interface PostingFigures {
  /** Comprehensive energy consumption, kg of coal equivalent. */
  energyKgce: string;
  /** Electricity consumed (kWh): grid, internal, direct line, on-site; exports negative. */
  electricityKwh: string;
  /** Grid electricity (kWh) that certificates may cover. */
  gridKwh: string;
  /** Electricity counting toward the renewable share (kWh), attributes retained. */
  renewableKwh: string;
  /** Carbon-free supply metered in this interval (kWh), for the hourly CFE score. */
  carbonFreeKwh: string;
  scope1KgCo2e: string;
  scope2LocationKgCo2e: string;
  scope2MarketKgCo2e: string;
}

export interface Posting {
  meterId: string;
  enterpriseId: string;
  intervalStart: string;
  commodity: Commodity;
  role: MeterRole;
  category: PostingCategory;
  /** The accounted quantity in `unit` (for direct lines with an allocation, the allocated kWh). */
  quantity: string;
  unit: EnergyUnit;
  quality: Quality;
  figures: PostingFigures;
  factors: FactorRef[];
  generatorId?: string;
  attributeStatus?: AttributeStatus;
  /** Internal transfers: the supplying park entity; the park balance leaves these out. */
  internalSupplierId?: string;
  /** Direct lines: 'allocation' when dispatch's GreenPowerAllocated set the quantity. */
  basis: 'reading' | 'allocation';
  /** Steam: the enthalpy (GJ/t) that turned the metered tonnes into the GJ `quantity`. */
  steamEnthalpyGjPerTonne?: string;
}
