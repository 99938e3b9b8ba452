import { MINUTE_MS, parseInstant } from '@park/domain-primitives';
import { ValidationError, type FieldViolation } from '@park/service-kit/errors';

/**
 * Built-in PV forecast when no integrator submitted one (DESIGN.md, Dispatch: forecasts): the
 * clear-sky output of the plant at the park's coordinates, scaled by capacity and a derate. It is
 * an upper envelope (no clouds, no aerosols beyond the model's average), which is what a planner
 * without weather data can honestly assume.
 *
 * 1. Solar position, NOAA Global Monitoring Laboratory, "General Solar Position Calculations"
 *    (after J. W. Spencer, "Fourier series representation of the position of the sun", Search 2(5),
 *    1971), for an instant t in UTC, latitude phi and longitude lambda (degrees, east positive):
 *      fractional year   g    = 2 pi / N x (dayOfYear - 1 + (hourUtc - 12) / 24)   [rad],
 *                               N = 365, or 366 in a leap year
 *      equation of time  EoT  = 229.18 x (0.000075 + 0.001868 cos g - 0.032077 sin g
 *                                         - 0.014615 cos 2g - 0.040849 sin 2g)       [min]
 *      declination       d    = 0.006918 - 0.399912 cos g + 0.070257 sin g - 0.006758 cos 2g
 *                               + 0.000907 sin 2g - 0.002697 cos 3g + 0.00148 sin 3g  [rad]
 *      true solar time   tst  = minutesOfUtcDay + EoT + 4 x lambda                   [min]
 *      hour angle        h    = tst / 4 - 180                                        [deg]
 *      zenith angle      cos z = sin phi sin d + cos phi cos d cos h
 *    Solar noon (h = 0) is at 720 - 4 lambda - EoT minutes UTC: for Shenyang (123.4 E) on the June
 *    solstice, EoT = -1.25 min by the series, 720 - 493.6 + 1.25 = 227.65 min = 03:47:39 UTC
 *    (11:47:39 Beijing time). The series are good to about 0.5 min of time and 0.05 degrees of
 *    declination, far finer than the irradiance model below.
 *
 * 2. Clear-sky global horizontal irradiance, Haurwitz (B. Haurwitz, "Insolation in relation to
 *    cloudiness and cloud density", Journal of Meteorology 2, 1945, pp. 154-166; as evaluated in
 *    M. J. Reno, C. W. Hansen, J. S. Stein, "Global Horizontal Irradiance Clear Sky Models:
 *    Implementation and Analysis", Sandia report SAND2012-2389, 2012, which found it among the
 *    best of the models that need no atmospheric inputs; pvlib's `haurwitz` is the same):
 *      GHI = 1098 x cos z x exp(-0.059 / cos z)  W/m2  for z < 90 degrees, else 0.
 *
 * 3. PV output: P = capacityKw x GHI / 1000 x derate (default 0.8), i.e. the plant's rating at
 *    1000 W/m2 on the horizontal, with the derate standing for orientation, temperature, soiling,
 *    wiring and inverter losses together. No plane-of-array transposition: a simple,
 *    conservative envelope.
 *
 * 4. Each interval's value is the mean power over the interval: the model is sampled at the
 *    midpoints of equal sub-intervals of about `sampleMinutes` (default 5, so three samples per
 *    15-min interval) and averaged (midpoint rule, symmetric about solar noon).
 */

/** The park's coordinates (Shenyang), DESIGN.md. */
export const PARK_COORDINATES = Object.freeze({ latitude: 41.8, longitude: 123.4 });

export const DEFAULT_PV_DERATE = 0.8;

const DEG = Math.PI / 180;

export interface SolarPosition {
  declinationDeg: number;
  /** Apparent minus mean solar time, minutes. */
  equationOfTimeMin: number;
  /** 0 at solar noon, negative in the morning, degrees. */
  hourAngleDeg: number;
  /** Cosine of the zenith angle; negative below the horizon. */
  cosZenith: number;
  zenithDeg: number;
}

/** The sun's position at an instant (epoch ms) seen from latitude/longitude (degrees, north/east). */
export function solarPosition(epochMs: number, latitude: number, longitude: number): SolarPosition {
  const date = new Date(epochMs);
  const year = date.getUTCFullYear();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dayOfYear = Math.floor((epochMs - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  const minutesOfDay = (epochMs - Date.UTC(year, date.getUTCMonth(), date.getUTCDate())) / 60_000;
  const g = ((2 * Math.PI) / (leap ? 366 : 365)) * (dayOfYear - 1 + (minutesOfDay / 60 - 12) / 24);

  const equationOfTimeMin =
    229.18 *
    (0.000075 +
      0.001868 * Math.cos(g) -
      0.032077 * Math.sin(g) -
      0.014615 * Math.cos(2 * g) -
      0.040849 * Math.sin(2 * g));
  const declination =
    0.006918 -
    0.399912 * Math.cos(g) +
    0.070257 * Math.sin(g) -
    0.006758 * Math.cos(2 * g) +
    0.000907 * Math.sin(2 * g) -
    0.002697 * Math.cos(3 * g) +
    0.00148 * Math.sin(3 * g);

  const trueSolarMinutes = minutesOfDay + equationOfTimeMin + 4 * longitude;
  const hourAngleDeg = trueSolarMinutes / 4 - 180;
  const phi = latitude * DEG;
  const cosZenith =
    Math.sin(phi) * Math.sin(declination) +
    Math.cos(phi) * Math.cos(declination) * Math.cos(hourAngleDeg * DEG);
  return {
    declinationDeg: declination / DEG,
    equationOfTimeMin,
    hourAngleDeg,
    cosZenith,
    zenithDeg: Math.acos(Math.max(-1, Math.min(1, cosZenith))) / DEG,
  };
}

/** Haurwitz clear-sky global horizontal irradiance, W/m2; 0 with the sun at or below the horizon. */
export function haurwitzGhi(cosZenith: number): number {
  if (!(cosZenith > 0)) return 0;
  return 1098 * cosZenith * Math.exp(-0.059 / cosZenith);
}

export interface ClearSkyPvInput {
  /** Degrees, north positive. */
  latitude: number;
  /** Degrees, east positive. */
  longitude: number;
  /** The plant's rating at 1000 W/m2, kW. */
  capacityKw: number;
  /** In (0, 1]; default 0.8. */
  derate?: number;
  /** First interval's start, ISO 8601 instant with an offset. */
  start: string;
  intervals: number;
  /** Default 15. */
  intervalMinutes?: number;
  /** Default 5: the sampling step within an interval. */
  sampleMinutes?: number;
}

/** Mean clear-sky PV output per interval, kW. */
export function clearSkyPvForecast(input: ClearSkyPvInput): number[] {
  const violations: FieldViolation[] = [];
  const bad = (field: string, description: string): void => {
    violations.push({ field, description });
  };
  const derate = input?.derate ?? DEFAULT_PV_DERATE;
  const intervalMinutes = input?.intervalMinutes ?? 15;
  const sampleMinutes = input?.sampleMinutes ?? 5;
  const start = parseInstant(input?.start);
  if (!inRange(input?.latitude, -90, 90)) bad('latitude', 'must be degrees from -90 to 90');
  if (!inRange(input?.longitude, -180, 180)) bad('longitude', 'must be degrees from -180 to 180');
  if (!inRange(input?.capacityKw, 0, Infinity)) bad('capacity_kw', 'must be a number >= 0');
  if (!inRange(derate, 0, 1) || derate === 0) bad('derate', 'must be greater than 0 and at most 1');
  if (start === undefined) bad('start', 'must be an ISO 8601 instant with an offset');
  if (!Number.isSafeInteger(input?.intervals) || input.intervals < 0) {
    bad('intervals', 'must be a whole number >= 0');
  }
  if (!Number.isSafeInteger(intervalMinutes) || intervalMinutes < 1) {
    bad('interval_minutes', 'must be a whole number of minutes >= 1');
  }
  if (!inRange(sampleMinutes, 0, Infinity) || sampleMinutes === 0) {
    bad('sample_minutes', 'must be a number of minutes > 0');
  }
  if (violations.length > 0) throw new ValidationError(violations);

  const samples = Math.max(1, Math.round(intervalMinutes / sampleMinutes));
  const stepMs = (intervalMinutes * MINUTE_MS) / samples;
  const kwPerWm2 = (input.capacityKw / 1000) * derate;
  return Array.from({ length: input.intervals }, (_, i) => {
    const intervalStart = (start as number) + i * intervalMinutes * MINUTE_MS;
    let total = 0;
    for (let k = 0; k < samples; k++) {
      const at = intervalStart + (k + 0.5) * stepMs;
      total += haurwitzGhi(solarPosition(at, input.latitude, input.longitude).cosZenith);
    }
    return (total / samples) * kwPerWm2;
  });
}

function inRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}
