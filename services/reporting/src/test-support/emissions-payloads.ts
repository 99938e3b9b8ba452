import { park } from '@park/contracts';

/** Figures by name as decimal strings; an absent one is zero. */
export type FigureValues = Partial<Record<keyof park.carbon.v1.Figures, string>>;

export function figures(values: FigureValues = {}): park.carbon.v1.Figures {
  const d = (key: keyof park.carbon.v1.Figures) => ({ value: values[key] ?? '0' });
  return {
    energyKgce: d('energyKgce'),
    electricityKwh: d('electricityKwh'),
    gridKwh: d('gridKwh'),
    renewableKwh: d('renewableKwh'),
    carbonFreeKwh: d('carbonFreeKwh'),
    scope1Kgco2e: d('scope1Kgco2e'),
    scope2LocationKgco2e: d('scope2LocationKgco2e'),
    scope2MarketKgco2e: d('scope2MarketKgco2e'),
  };
}

export interface HourChange {
  hourStart: string;
  change: FigureValues;
  internal?: FigureValues;
}

/** carbon's HourlyEmissionsAccounted for a reading, encoded as the emissions topic carries it. */
export function hourlyEmissionsPayload(enterpriseId: string, hours: HourChange[]): Uint8Array {
  return park.carbon.v1.HourlyEmissionsAccounted.encode({
    enterpriseId,
    cause: 'reading',
    hours: hours.map((hour) => ({
      hourStart: new Date(hour.hourStart),
      change: figures(hour.change),
      priorPeriodAdjustment: false,
      internalChange: figures(hour.internal),
    })),
  }).finish();
}

/** carbon's EmissionsRestated: per hour the figures before, after, and the change consumers add. */
export function emissionsRestatedPayload(
  enterpriseId: string,
  hours: (HourChange & { before?: FigureValues; after?: FigureValues })[],
): Uint8Array {
  return park.carbon.v1.EmissionsRestated.encode({
    enterpriseId,
    factorSetId: 'cn-grid-2023',
    factorSetVersion: 2,
    hours: hours.map((hour) => ({
      hourStart: new Date(hour.hourStart),
      before: figures(hour.before),
      after: figures(hour.after),
      change: figures(hour.change),
      priorPeriodAdjustment: false,
      internalChange: figures(hour.internal),
    })),
  }).finish();
}
