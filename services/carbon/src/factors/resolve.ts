import { instantText, parseInstant } from '@park/domain-primitives';
import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import type { FactorKey, FactorRef } from '../accounting/model';
import { gridKey, type FactorSet } from './factor-set';

/** No published set holds the factor for the instant, not even an earlier one. */
export class MissingFactorError extends PreconditionError {
  constructor(
    readonly key: FactorKey,
    readonly instant: string,
  ) {
    super(`no emission factor ${key} is published for ${instant} or any earlier period`);
  }
}

/**
 * The factor for an instant. Only the latest version of each set counts. Among the sets that
 * contain the key and whose validity [validFrom, validTo) covers the instant, the one with the
 * latest validFrom wins. When none covers it (a year whose factors are not published yet), the
 * set containing the key whose validity ended last before the instant is used, marked
 * `fallback`. Undefined when there is neither.
 */
export function resolveFactor(
  sets: readonly FactorSet[],
  key: FactorKey,
  instant: string,
): FactorRef | undefined {
  const at = parseInstant(instant);
  if (at === undefined) throw ValidationError.field('instant', 'must be an ISO instant');

  let covering: { set: FactorSet; from: number } | undefined;
  let before: { set: FactorSet; to: number } | undefined;
  for (const set of latestVersions(sets)) {
    if (!set.factors.some((entry) => entry.key === key)) continue;
    const from = parseInstant(set.validFrom)!;
    const to = set.validTo === undefined ? undefined : parseInstant(set.validTo)!;
    if (from <= at && (to === undefined || at < to)) {
      if (
        !covering ||
        from > covering.from ||
        (from === covering.from && earlier(covering.set, set))
      ) {
        covering = { set, from };
      }
    } else if (to !== undefined && to <= at) {
      if (!before || to > before.to || (to === before.to && earlier(before.set, set))) {
        before = { set, to };
      }
    }
  }
  const chosen = covering?.set ?? before?.set;
  if (!chosen) return undefined;
  const entry = chosen.factors.find((candidate) => candidate.key === key)!;
  return {
    key,
    setId: chosen.setId,
    version: chosen.version,
    value: entry.value,
    unit: entry.unit,
    fallback: covering === undefined,
  };
}

/** A factor lookup over the catalog that throws MissingFactorError when there is none. */
export function factorLookup(
  sets: readonly FactorSet[],
): (key: FactorKey, instant: string) => FactorRef {
  return (key, instant) => {
    const ref = resolveFactor(sets, key, instant);
    if (!ref) throw new MissingFactorError(key, canonicalInstant(instant));
    return ref;
  };
}

/** The latest version of each setId. */
export function latestVersions(sets: readonly FactorSet[]): FactorSet[] {
  const latest = new Map<string, FactorSet>();
  for (const set of sets) {
    const current = latest.get(set.setId);
    if (!current || set.version > current.version) latest.set(set.setId, set);
  }
  return [...latest.values()];
}

/** Deterministic tie-break between two equally placed sets: the smaller setId wins. */
function earlier(current: FactorSet, candidate: FactorSet): boolean {
  return candidate.setId < current.setId;
}

function canonicalInstant(instant: string): string {
  const at = parseInstant(instant);
  return at === undefined ? instant : instantText(at);
}

/** The region's grid factor, or the national one when the region has none. */
export function resolveGridFactor(
  sets: readonly FactorSet[],
  region: string,
  instant: string,
): FactorRef | undefined {
  return (
    resolveFactor(sets, gridKey(region), instant) ?? resolveFactor(sets, 'grid:national', instant)
  );
}
