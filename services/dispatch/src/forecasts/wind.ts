import { ValidationError } from '@park/service-kit/errors';

/**
 * Wind has no built-in model (DESIGN.md, Dispatch: forecasts): without an integrator's forecast
 * the plan counts wind as zero, and says so with this note.
 */
export const NO_WIND_FORECAST_NOTE = 'no wind forecast submitted: wind counted as zero';

export interface NoWindForecast {
  /** Zero per interval, kW. */
  kw: number[];
  note: string;
}

export function noWindForecast(intervals: number): NoWindForecast {
  if (!Number.isSafeInteger(intervals) || intervals < 0) {
    throw ValidationError.field('intervals', 'must be a whole number >= 0');
  }
  return { kw: new Array<number>(intervals).fill(0), note: NO_WIND_FORECAST_NOTE };
}
