import { Dec } from '@park/domain-primitives';

/**
 * Standard-coal coefficients (GB/T 2589) for comprehensive energy consumption, in kg of coal
 * equivalent (kgce). Natural gas rests on the same net calorific value as its emission factor,
 * so CO2 and tce share one energy basis.
 */

/** Electricity, equivalent value: kgce per kWh, whatever the source (grid, direct line, on-site). */
export const ELECTRICITY_KGCE_PER_KWH = new Dec('0.1229');
/** Heat: kgce per MJ (also steam, through its enthalpy). */
export const HEAT_KGCE_PER_MJ = new Dec('0.03412');
/** Diesel: kgce per kg. */
export const DIESEL_KGCE_PER_KG = new Dec('1.4571');

/** Natural gas net calorific value, MJ per Nm3 (GB/T 32151 default 389.31 GJ per 10^4 Nm3). */
export const NATURAL_GAS_NCV_MJ_PER_NM3 = new Dec('38.931');
/** Net calorific value of 1 kg of standard coal, MJ. */
export const STANDARD_COAL_MJ_PER_KGCE = new Dec('29.3076');
/**
 * Natural gas: 38.931 / 29.3076 kgce per Nm3 at full precision (not the rounded 1.32836).
 * Postings compute Nm3 x 38.931 / 29.3076 with the division last (naturalGasKgce), so a posting
 * is rounded once rather than through this 34-digit quotient.
 */
export const NATURAL_GAS_KGCE_PER_NM3 = NATURAL_GAS_NCV_MJ_PER_NM3.div(STANDARD_COAL_MJ_PER_KGCE);

/** kgce of a quantity of natural gas (Nm3), with a single rounding. */
export function naturalGasKgce(nm3: Dec): Dec {
  return nm3.times(NATURAL_GAS_NCV_MJ_PER_NM3).div(STANDARD_COAL_MJ_PER_KGCE);
}

/** Steam: kgce per tonne from its enthalpy (GJ/t x 1000 MJ/GJ x 0.03412 kgce/MJ). */
export function steamKgcePerTonne(enthalpyGjPerTonne: Dec): Dec {
  return enthalpyGjPerTonne.times(1000).times(HEAT_KGCE_PER_MJ);
}
