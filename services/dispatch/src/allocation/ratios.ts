import { Dec, Violations, decimalText, parseDecimal, parseInstant } from '@park/domain-primitives';
import type { EnterpriseAllocation, LineAllocation } from './allocate';
import { nonNegative } from './fields';

/**
 * Direct-connection ratios of one green direct line over a period (DESIGN.md, Dispatch:
 * direct-line rules, after the 2025 national rules on green direct connection):
 *
 *  - self-use share    = energy allocated to the line's consumers / available generation
 *                        (at least 60 % by default);
 *  - consumer share    = for each consumer, energy the line supplied it / its total consumption
 *                        in the period, from all sources (at least 30 % by default);
 *  - feed-in share     = exported energy / available generation (at most 20 % by default).
 *
 * Energy put into storage counts as neither self-use nor feed-in here: it reaches a consumer or
 * the grid later, through their own meters. Sums are exact decimals. Each ratio is reported
 * rounded to RATIO_DECIMAL_PLACES (6) decimals, half-even, but `met` is decided exactly (numerator
 * against threshold x denominator), so rounding never flips it. A ratio whose denominator is zero
 * (no available generation, a consumer that consumed nothing) is null and counts as met: there
 * was nothing to use or to supply.
 */

export const RATIO_DECIMAL_PLACES = 6;

/** Decimal texts in [0, 1]. */
export interface DirectLineThresholds {
  minSelfUseShare: string;
  minConsumerShare: string;
  maxFeedInShare: string;
}

export const DEFAULT_DIRECT_LINE_THRESHOLDS: Readonly<DirectLineThresholds> = Object.freeze({
  minSelfUseShare: '0.6',
  minConsumerShare: '0.3',
  maxFeedInShare: '0.2',
});

export interface IntervalEnergy {
  /** ISO 8601 instant with an offset; matches a LineAllocation's intervalStart as an instant. */
  intervalStart: string;
  kwh: string;
}

export interface EnterpriseEnergy {
  enterpriseId: string;
  kwh: string;
}

export interface DirectLineRatioInput {
  lineId: string;
  /** The period's interval allocations of this line, one per interval (the latest revision). */
  allocations: readonly LineAllocation[];
  /**
   * Available generation of the line's source per interval of the allocations (at least the
   * line's metered energy); exactly one entry for each allocated interval.
   */
  availableGeneration: readonly IntervalEnergy[];
  /** Each consumer's total consumption in the period, every source included. */
  consumerConsumption: readonly EnterpriseEnergy[];
  thresholds?: Partial<DirectLineThresholds>;
}

export interface RatioCheck {
  /** Rounded to 6 decimals; null when the denominator is zero. */
  ratio: string | null;
  threshold: string;
  /** 'min': the ratio must be at least the threshold; 'max': at most. */
  bound: 'min' | 'max';
  met: boolean;
}

export interface ConsumerShare extends RatioCheck {
  enterpriseId: string;
  suppliedKwh: string;
  consumptionKwh: string;
}

/** Quantities are canonical decimal texts, sums over the period. */
export interface DirectLineRatios {
  lineId: string;
  intervals: number;
  availableGenerationKwh: string;
  lineMeteredKwh: string;
  allocatedKwh: string;
  storedKwh: string;
  exportedKwh: string;
  curtailedKwh: string;
  thresholds: DirectLineThresholds;
  selfUse: RatioCheck;
  feedIn: RatioCheck;
  /** The consumers of consumerConsumption, in its order. */
  consumers: ConsumerShare[];
  /** Every check met. */
  met: boolean;
}

export function directLineRatios(input: DirectLineRatioInput): DirectLineRatios {
  const v = new Violations();
  const lineId = v.requiredText('line_id', input?.lineId);
  const thresholds = parseThresholds(v, input?.thresholds);

  const zero = new Dec(0);
  const totals = {
    available: zero,
    metered: zero,
    allocated: zero,
    stored: zero,
    exported: zero,
    curtailed: zero,
  };
  const supplied = new Map<string, Dec>();
  // Interval start (epoch ms) -> the line's metered energy then, for the availability checks.
  const meteredAt = new Map<number, Dec>();

  if (!Array.isArray(input?.allocations)) {
    v.add('allocations', 'must be a list of interval allocations');
  } else {
    input.allocations.forEach((allocation, index) => {
      const at = `allocations[${index}]`;
      if (lineId !== undefined && allocation?.lineId !== lineId) {
        v.add(`${at}.line_id`, `must be the line ${lineId}`);
      }
      const start = parseInstant(allocation?.intervalStart);
      if (start === undefined) {
        v.add(`${at}.interval_start`, 'must be an ISO 8601 instant with an offset');
      } else if (meteredAt.has(start)) {
        v.add(`${at}.interval_start`, 'is allocated twice: pass the latest allocation only');
      }
      const metered = nonNegative(v, `${at}.line_metered_kwh`, allocation?.lineMeteredKwh);
      const stored = nonNegative(v, `${at}.stored_kwh`, allocation?.storedKwh);
      const exported = nonNegative(v, `${at}.exported_kwh`, allocation?.exportedKwh);
      const curtailed = nonNegative(v, `${at}.curtailed_kwh`, allocation?.curtailedKwh);
      if (start !== undefined && metered) meteredAt.set(start, metered);
      totals.metered = totals.metered.plus(metered ?? 0);
      totals.stored = totals.stored.plus(stored ?? 0);
      totals.exported = totals.exported.plus(exported ?? 0);
      totals.curtailed = totals.curtailed.plus(curtailed ?? 0);
      const entries: readonly EnterpriseAllocation[] = Array.isArray(allocation?.allocations)
        ? allocation.allocations
        : [];
      entries.forEach((a, j) => {
        const kwh = nonNegative(v, `${at}.allocations[${j}].kwh`, a?.kwh);
        if (!kwh) return;
        totals.allocated = totals.allocated.plus(kwh);
        supplied.set(a.enterpriseId, (supplied.get(a.enterpriseId) ?? zero).plus(kwh));
      });
    });
  }

  if (!Array.isArray(input?.availableGeneration)) {
    v.add('available_generation', 'must be a list of interval energies');
  } else {
    const seen = new Set<number>();
    input.availableGeneration.forEach((entry, index) => {
      const at = `available_generation[${index}]`;
      const start = parseInstant(entry?.intervalStart);
      const kwh = nonNegative(v, `${at}.kwh`, entry?.kwh);
      if (start === undefined) {
        v.add(`${at}.interval_start`, 'must be an ISO 8601 instant with an offset');
        return;
      }
      if (seen.has(start)) {
        v.add(`${at}.interval_start`, 'is listed twice');
        return;
      }
      seen.add(start);
      const metered = meteredAt.get(start);
      if (metered === undefined) {
        v.add(`${at}.interval_start`, 'has no allocation of the line');
      } else if (kwh && kwh.lt(metered)) {
        v.add(`${at}.kwh`, `is less than the ${decimalText(metered)} kWh the line metered`);
      }
      totals.available = totals.available.plus(kwh ?? 0);
    });
    for (const start of meteredAt.keys()) {
      if (!seen.has(start)) {
        v.add('available_generation', `has no entry for ${new Date(start).toISOString()}`);
      }
    }
  }

  const consumers: { enterpriseId: string; consumption: Dec; supplied: Dec }[] = [];
  if (!Array.isArray(input?.consumerConsumption)) {
    v.add('consumer_consumption', 'must be a list of enterprise energies');
  } else {
    const listed = new Set<string>();
    input.consumerConsumption.forEach((entry, index) => {
      const at = `consumer_consumption[${index}]`;
      const enterpriseId = v.requiredText(`${at}.enterprise_id`, entry?.enterpriseId);
      const consumption = nonNegative(v, `${at}.kwh`, entry?.kwh);
      if (enterpriseId === undefined) return;
      if (listed.has(enterpriseId)) {
        v.add(`${at}.enterprise_id`, `enterprise ${enterpriseId} is listed twice`);
        return;
      }
      listed.add(enterpriseId);
      const given = supplied.get(enterpriseId) ?? zero;
      if (!consumption) return;
      if (consumption.lt(given)) {
        v.add(`${at}.kwh`, `is less than the ${decimalText(given)} kWh allocated to it`);
        return;
      }
      consumers.push({ enterpriseId, consumption, supplied: given });
    });
    for (const enterpriseId of supplied.keys()) {
      if (!listed.has(enterpriseId)) {
        v.add('consumer_consumption', `has no entry for enterprise ${enterpriseId}`);
      }
    }
  }
  v.throwIfAny();

  const t = thresholds;
  const selfUse = check(totals.allocated, totals.available, t.minSelfUseShare, 'min');
  const feedIn = check(totals.exported, totals.available, t.maxFeedInShare, 'max');
  const consumerShares: ConsumerShare[] = consumers.map((c) => ({
    enterpriseId: c.enterpriseId,
    suppliedKwh: decimalText(c.supplied),
    consumptionKwh: decimalText(c.consumption),
    ...check(c.supplied, c.consumption, t.minConsumerShare, 'min'),
  }));

  return {
    lineId: lineId as string,
    intervals: meteredAt.size,
    availableGenerationKwh: decimalText(totals.available),
    lineMeteredKwh: decimalText(totals.metered),
    allocatedKwh: decimalText(totals.allocated),
    storedKwh: decimalText(totals.stored),
    exportedKwh: decimalText(totals.exported),
    curtailedKwh: decimalText(totals.curtailed),
    thresholds: {
      minSelfUseShare: decimalText(t.minSelfUseShare),
      minConsumerShare: decimalText(t.minConsumerShare),
      maxFeedInShare: decimalText(t.maxFeedInShare),
    },
    selfUse,
    feedIn,
    consumers: consumerShares,
    met: selfUse.met && feedIn.met && consumerShares.every((c) => c.met),
  };
}

function check(numerator: Dec, denominator: Dec, threshold: Dec, bound: 'min' | 'max'): RatioCheck {
  const base = { threshold: decimalText(threshold), bound };
  if (denominator.isZero()) return { ratio: null, ...base, met: true };
  const limit = threshold.times(denominator);
  return {
    ratio: decimalText(
      numerator.div(denominator).toDecimalPlaces(RATIO_DECIMAL_PLACES, Dec.ROUND_HALF_EVEN),
    ),
    ...base,
    met: bound === 'min' ? numerator.gte(limit) : numerator.lte(limit),
  };
}

type ThresholdValues = { [K in keyof DirectLineThresholds]: Dec };

const THRESHOLD_FIELDS: Record<keyof DirectLineThresholds, string> = {
  minSelfUseShare: 'thresholds.min_self_use_share',
  minConsumerShare: 'thresholds.min_consumer_share',
  maxFeedInShare: 'thresholds.max_feed_in_share',
};

function parseThresholds(
  v: Violations,
  overrides: Partial<DirectLineThresholds> | undefined,
): ThresholdValues {
  const parsed: Partial<Record<keyof DirectLineThresholds, Dec>> = {};
  for (const key of Object.keys(THRESHOLD_FIELDS) as (keyof DirectLineThresholds)[]) {
    const text = overrides?.[key] ?? DEFAULT_DIRECT_LINE_THRESHOLDS[key];
    const value = parseDecimal(text);
    if (!value || value.lt(0) || value.gt(1)) {
      v.add(THRESHOLD_FIELDS[key], 'must be a decimal number from 0 to 1, such as "0.6"');
    } else {
      parsed[key] = value;
    }
  }
  // Complete once v has no violations, which directLineRatios checks before using it.
  return parsed as ThresholdValues;
}
