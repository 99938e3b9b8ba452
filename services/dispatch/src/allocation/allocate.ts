import {
  Dec,
  Violations,
  decimalText,
  instantText,
  parseDecimal,
  parseInstant,
} from '@park/domain-primitives';
import { nonNegative } from './fields';

/**
 * Green direct-line allocation of one interval (DESIGN.md, Dispatch: green direct-line
 * allocation). Pure and exact: every quantity is a decimal.js value of 34 significant digits.
 *
 * The rule:
 *  1. The line's metered energy goes to the enterprises it feeds by contract priority group,
 *     lowest number first. A group sees only what the groups before it left.
 *  2. Within a group the energy is shared pro rata to the contract shares of the members that
 *     still have consumption to cover, never beyond a member's metered consumption in the
 *     interval. A member whose pro-rata part would reach its consumption gets exactly its
 *     consumption and leaves the group; what it could not take is shared again among the others,
 *     iteratively (water-filling). The test "would reach" is exact: remaining x share >=
 *     consumption x sum of shares, products of finite decimals, no division.
 *  3. Rounding: only the final pro-rata step, where no member is capped, divides. Each part is
 *     rounded to ALLOCATION_DECIMAL_PLACES (6) decimals, half-even, and the rounding remainder
 *     (remaining minus the sum of the rounded parts, positive or negative, at most a few
 *     millionths of a kWh) goes to the member with the largest share in that step, ties broken by
 *     enterprise id (code-point order, so the result does not depend on the list's order). Should
 *     it not fit there (it would take that member below zero or above its consumption: possible
 *     only for sub-micro-kWh amounts or inputs with more than 6 decimals), the rest goes on to the
 *     next largest share. So a group's allocations sum exactly to what it was given.
 *  4. What is left after every group is recorded as stored (up to the storage-charge meter's
 *     storedKwh), then exported (up to the feed-in meter's exportedKwh), then curtailed: the
 *     rest, never negative.
 *
 * Hence allocations + stored + exported + curtailed == lineMeteredKwh exactly. Stored or exported
 * readings larger than what is left are recorded only up to what is left (the storage may also
 * have charged from the grid).
 */

export const ALLOCATION_DECIMAL_PLACES = 6;

export interface DirectLineConsumer {
  enterpriseId: string;
  /** Contract priority: 1 is served first; equal numbers share pro rata. */
  priority: number;
  /** Contract share, a decimal in (0, 1], e.g. "0.6"; only its ratio to the group's others counts. */
  share: string;
  /** The enterprise's metered consumption in the interval, kWh. */
  consumptionKwh: string;
}

export interface AllocationInput {
  lineId: string;
  generatorId: string;
  /** ISO 8601 instant with an offset. */
  intervalStart: string;
  /** The line's metered energy in the interval, kWh. */
  lineMeteredKwh: string;
  consumers: readonly DirectLineConsumer[];
  /** Energy the line put into storage this interval (storage-charge meter on the line), kWh. */
  storedKwh?: string;
  /** Metered feed-in of the line, kWh. */
  exportedKwh?: string;
}

export interface EnterpriseAllocation {
  enterpriseId: string;
  /** kWh, canonical decimal text; "0" entries are kept. */
  kwh: string;
}

/** All quantities are canonical decimal texts (no exponent, no trailing zeros). */
export interface LineAllocation {
  lineId: string;
  generatorId: string;
  /** Canonical UTC text of the interval start. */
  intervalStart: string;
  lineMeteredKwh: string;
  /** One entry per consumer, in the input's order. */
  allocations: EnterpriseAllocation[];
  storedKwh: string;
  exportedKwh: string;
  curtailedKwh: string;
}

interface Claim {
  enterpriseId: string;
  priority: number;
  share: Dec;
  /** Consumption not yet covered. */
  need: Dec;
  given: Dec;
}

export function allocateInterval(input: AllocationInput): LineAllocation {
  const parsed = parseAllocationInput(input);
  const claims: Claim[] = parsed.consumers.map((c) => ({ ...c, given: new Dec(0) }));

  let remaining = parsed.lineMeteredKwh;
  const priorities = [...new Set(claims.map((c) => c.priority))].sort((a, b) => a - b);
  for (const priority of priorities) {
    if (!remaining.gt(0)) break;
    remaining = fillGroup(
      claims.filter((c) => c.priority === priority),
      remaining,
    );
  }

  const stored = Dec.min(remaining, parsed.storedKwh);
  remaining = remaining.minus(stored);
  const exported = Dec.min(remaining, parsed.exportedKwh);
  const curtailed = remaining.minus(exported);

  return {
    lineId: parsed.lineId,
    generatorId: parsed.generatorId,
    intervalStart: parsed.intervalStart,
    lineMeteredKwh: decimalText(parsed.lineMeteredKwh),
    allocations: claims.map((c) => ({ enterpriseId: c.enterpriseId, kwh: decimalText(c.given) })),
    storedKwh: decimalText(stored),
    exportedKwh: decimalText(exported),
    curtailedKwh: decimalText(curtailed),
  };
}

/** Shares `available` within one priority group; returns what the group leaves. */
function fillGroup(group: Claim[], available: Dec): Dec {
  let remaining = available;
  let open = group.filter((c) => c.need.gt(0));
  while (open.length > 0 && remaining.gt(0)) {
    const totalNeed = sum(open.map((c) => c.need));
    if (totalNeed.lte(remaining)) {
      for (const c of open) give(c, c.need);
      return remaining.minus(totalNeed);
    }
    const totalShare = sum(open.map((c) => c.share));
    // Exact: remaining * share / totalShare >= need  <=>  remaining * share >= need * totalShare.
    // Whoever reaches its consumption now is capped in the final answer too, since capping only
    // raises the others' parts.
    const capped = open.filter((c) => remaining.times(c.share).gte(c.need.times(totalShare)));
    if (capped.length > 0) {
      for (const c of capped) {
        remaining = remaining.minus(c.need);
        give(c, c.need);
      }
      open = open.filter((c) => !capped.includes(c));
      continue;
    }
    // Nobody is capped: the final pro-rata step, the only one that divides.
    const parts = open.map((c) =>
      Dec.min(
        remaining
          .times(c.share)
          .div(totalShare)
          .toDecimalPlaces(ALLOCATION_DECIMAL_PLACES, Dec.ROUND_HALF_EVEN),
        c.need,
      ),
    );
    let rest = remaining.minus(sum(parts));
    const byShare = open
      .map((c, index) => ({ c, index }))
      .sort(
        (a, b) => b.c.share.comparedTo(a.c.share) || compareIds(a.c.enterpriseId, b.c.enterpriseId),
      );
    for (const { c, index } of byShare) {
      if (rest.isZero()) break;
      const part = parts[index] as Dec;
      // rest > 0: up to the member's consumption; rest < 0: down to zero.
      const step = rest.gt(0) ? Dec.min(rest, c.need.minus(part)) : Dec.max(rest, part.neg());
      parts[index] = part.plus(step);
      rest = rest.minus(step);
    }
    open.forEach((c, index) => give(c, parts[index] as Dec));
    return new Dec(0);
  }
  return remaining;
}

function give(claim: Claim, kwh: Dec): void {
  claim.given = claim.given.plus(kwh);
  claim.need = claim.need.minus(kwh);
}

function sum(values: Dec[]): Dec {
  return values.reduce((total, v) => total.plus(v), new Dec(0));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface ParsedAllocationInput {
  lineId: string;
  generatorId: string;
  intervalStart: string;
  lineMeteredKwh: Dec;
  consumers: Omit<Claim, 'given'>[];
  storedKwh: Dec;
  exportedKwh: Dec;
}

/** Field names in violations are the API's (snake_case), as elsewhere in the park. */
function parseAllocationInput(input: AllocationInput): ParsedAllocationInput {
  const v = new Violations();
  const lineId = v.requiredText('line_id', input?.lineId);
  const generatorId = v.requiredText('generator_id', input?.generatorId);
  const start = parseInstant(input?.intervalStart);
  if (start === undefined) {
    v.add('interval_start', 'must be an ISO 8601 instant with an offset');
  }
  const lineMeteredKwh = nonNegative(v, 'line_metered_kwh', input?.lineMeteredKwh);
  const storedKwh =
    input?.storedKwh === undefined ? new Dec(0) : nonNegative(v, 'stored_kwh', input.storedKwh);
  const exportedKwh =
    input?.exportedKwh === undefined
      ? new Dec(0)
      : nonNegative(v, 'exported_kwh', input.exportedKwh);

  const consumers: Omit<Claim, 'given'>[] = [];
  if (!Array.isArray(input?.consumers) || input.consumers.length === 0) {
    v.add('consumers', 'must list the enterprises the line feeds');
  } else {
    const seen = new Set<string>();
    input.consumers.forEach((consumer: DirectLineConsumer, index: number) => {
      const at = `consumers[${index}]`;
      const enterpriseId = v.requiredText(`${at}.enterprise_id`, consumer?.enterpriseId);
      if (enterpriseId !== undefined) {
        if (seen.has(enterpriseId)) {
          v.add(`${at}.enterprise_id`, `enterprise ${enterpriseId} is listed twice`);
        }
        seen.add(enterpriseId);
      }
      const priority = consumer?.priority;
      if (!Number.isSafeInteger(priority) || priority < 1) {
        v.add(`${at}.priority`, 'must be a whole number from 1 (served first)');
      }
      const share = parseDecimal(consumer?.share);
      if (!share) {
        v.add(`${at}.share`, 'must be a decimal number such as "0.6"');
      } else if (!share.gt(0) || share.gt(1)) {
        v.add(`${at}.share`, 'must be greater than 0 and at most 1');
      }
      const need = nonNegative(v, `${at}.consumption_kwh`, consumer?.consumptionKwh);
      if (enterpriseId !== undefined && share && need) {
        consumers.push({ enterpriseId, priority, share, need });
      }
    });
  }
  v.throwIfAny();
  return {
    lineId: lineId as string,
    generatorId: generatorId as string,
    intervalStart: instantText(start as number),
    lineMeteredKwh: lineMeteredKwh as Dec,
    consumers,
    storedKwh: storedKwh as Dec,
    exportedKwh: exportedKwh as Dec,
  };
}
