import { factorLookup } from '../../factors/resolve';
import { seedFactorSets } from '../../factors/seed';
import type { FactorSet } from '../../factors/factor-set';
import type { AccountingContext } from '../post-reading';
import type { AttributeStatus, MeterFacts, ReadingInput } from '../model';

/** 2023-06-15 10:00 in Shenyang (UTC+8): inside the 2023 grid set. */
export const JUNE_2023 = '2023-06-15T02:00:00.000Z';

export function reading(
  meter: Partial<MeterFacts> & Pick<MeterFacts, 'commodity' | 'role' | 'unit'>,
  value: string,
  intervalStart = JUNE_2023,
): ReadingInput {
  return {
    meter: { meterId: `m-${meter.commodity}-${meter.role}`, enterpriseId: 'ent-1', ...meter },
    intervalStart,
    value,
    quality: 'measured',
  };
}

export function context(
  options: {
    gridRegion?: string;
    generators?: Record<string, AttributeStatus>;
    allocatedKwh?: string;
    sets?: FactorSet[];
  } = {},
): AccountingContext {
  const generators = options.generators ?? {};
  return {
    gridRegion: options.gridRegion ?? 'northeast',
    factor: factorLookup(options.sets ?? seedFactorSets()),
    generatorStatus: (id) => generators[id],
    ...(options.allocatedKwh !== undefined ? { allocatedKwh: options.allocatedKwh } : {}),
  };
}
