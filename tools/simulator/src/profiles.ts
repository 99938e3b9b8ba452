import { clearSkyPvForecast } from '@park/dispatch';
import { seededRandom, type SimEnterprise, type SimPark } from './park-model';

export const INTERVAL_MS = 15 * 60_000;
const SHENYANG = { latitude: 41.8, longitude: 123.4 };

/** Chinese public holidays the simulator knows (park days with holiday loads). */
const HOLIDAYS = new Set(['2026-01-01', '2026-05-01', '2026-10-01', '2026-10-02', '2026-10-03']);

/** Park-local (UTC+8) hour and weekday of an instant. */
function local(instant: number): { hour: number; weekday: number; day: string } {
  const shifted = new Date(instant + 8 * 3_600_000);
  return {
    hour: shifted.getUTCHours() + shifted.getUTCMinutes() / 60,
    weekday: shifted.getUTCDay(),
    day: shifted.toISOString().slice(0, 10),
  };
}

/** How much of its base load an enterprise of a sector runs at, by local hour and day type. */
export function loadFactor(enterprise: SimEnterprise, instant: number): number {
  const { hour, weekday, day } = local(instant);
  const offDay = weekday === 0 || weekday === 6 || HOLIDAYS.has(day);
  switch (enterprise.sector) {
    case 'automotive': // two shifts, 08-24, a break at shift change
      if (offDay) return 0.3;
      return hour >= 8 && hour < 24 ? (Math.abs(hour - 16) < 0.5 ? 0.6 : 1) : 0.35;
    case 'equipment': // day shift
      if (offDay) return 0.2;
      return hour >= 8 && hour < 18 ? (hour >= 12 && hour < 13 ? 0.7 : 1) : 0.25;
    case 'biomedicine': // continuous processes, clean rooms
      return offDay ? 0.85 : 0.95;
    case 'logistics': // cold chain all day, busy at night
      return hour >= 20 || hour < 6 ? 1 : 0.7;
  }
}

export interface IntervalValues {
  /** meterId -> value in the meter's unit (kWh, Nm3, GJ, %). */
  values: Map<string, number>;
}

/**
 * Every meter's value for one 15-min interval. Deterministic for (seed, interval): clouds and
 * wind are random walks seeded per day, so a re-run of the same day sends the same values.
 */
export function intervalValues(
  park: SimPark,
  intervalStart: number,
  socState: Map<string, number>,
): IntervalValues {
  const dayIndex = Math.floor((intervalStart + 8 * 3_600_000) / 86_400_000);
  const slot = Math.floor(((intervalStart + 8 * 3_600_000) % 86_400_000) / INTERVAL_MS);
  const dayRandom = seededRandom(park.seed * 1_000_003 + dayIndex);
  // Clouds: one random walk per day, the same for every PV system in the park.
  let cloud = 0.8 + 0.2 * dayRandom();
  let wind = 0.2 + 0.6 * dayRandom();
  for (let i = 0; i <= slot; i++) {
    cloud = Math.min(1, Math.max(0.15, cloud + (dayRandom() - 0.5) * 0.12));
    wind = Math.min(1, Math.max(0, wind + (dayRandom() - 0.5) * 0.15));
  }
  const clearSky = (capacityKw: number) =>
    clearSkyPvForecast({
      ...SHENYANG,
      capacityKw,
      derate: 0.8,
      start: new Date(intervalStart).toISOString(),
      intervals: 1,
      intervalMinutes: 15,
    })[0]!;
  const noise = seededRandom(park.seed * 7_919 + Math.floor(intervalStart / INTERVAL_MS));
  const values = new Map<string, number>();
  // Electricity is worked in whole Wh, the 3 decimals readings are sent with, so that what the
  // services compute from the sent readings is what the park did, to the last digit.
  const wh = (kwh: number) => Math.round(kwh * 1000);
  const windWh = wh(3000 * wind ** 3 * 0.25);
  const { hour } = local(intervalStart);
  // What each enterprise draws beyond its own PV: from the direct line if it is fed by it, the
  // rest from the grid.
  const needWh = new Map<string, number>();
  for (const e of park.enterprises) {
    const loadKwh = e.baseLoadKw * loadFactor(e, intervalStart) * (0.95 + 0.1 * noise()) * 0.25;
    const pvKwh = e.pvKw > 0 ? Math.min(loadKwh, clearSky(e.pvKw) * cloud * 0.25) : 0;
    // Rounding is monotonic, so PV never exceeds the load in Wh either.
    needWh.set(e.enterpriseId, wh(loadKwh) - wh(pvKwh));
    if (e.pvKw > 0) values.set(`${e.enterpriseId}-pv`, wh(pvKwh) / 1000);
    if (e.gas)
      values.set(
        `${e.enterpriseId}-gas`,
        (hour >= 6 && hour < 22 ? 12 : 4) * (0.9 + 0.2 * noise()),
      );
    if (e.heat)
      values.set(
        `${e.enterpriseId}-heat`,
        (hour >= 5 && hour < 10 ? 1.2 : 0.5) * (0.9 + 0.2 * noise()),
      );
  }
  // The line's wind energy goes to its consumers in contract priority order (the order of
  // `line.consumers`), each taking what it needs while energy is left, as dispatch allocates it
  // (by priority, never beyond a consumer's metered consumption): so a consumer's direct-line
  // meter reads exactly its allocation. What no consumer takes is curtailed.
  let lineLeftWh = windWh;
  const lineWh = new Map<string, number>();
  for (const enterpriseId of park.line.consumers) {
    const taken = Math.min(lineLeftWh, needWh.get(enterpriseId) ?? 0);
    lineWh.set(enterpriseId, taken);
    lineLeftWh -= taken;
  }
  for (const e of park.enterprises) {
    const line = lineWh.get(e.enterpriseId) ?? 0;
    if (e.directLine) values.set(`${e.enterpriseId}-dl`, line / 1000);
    values.set(`${e.enterpriseId}-grid`, (needWh.get(e.enterpriseId)! - line) / 1000);
  }
  const pvPlant = park.plants.find((p) => p.kind === 'pv')!;
  values.set(pvPlant.meterId, clearSky(pvPlant.capacityKw) * cloud * 0.25);
  values.set(park.plants.find((p) => p.kind === 'wind')!.meterId, windWh / 1000);
  // Storage: charge at night and around noon, discharge in the evening peak; SOC in percent.
  for (const battery of park.batteries) {
    const soc = socState.get(battery.batteryId) ?? 50;
    const delta = hour < 6 || (hour >= 11 && hour < 14) ? 4 : hour >= 17 && hour < 21 ? -5 : 0;
    const next = Math.min(90, Math.max(10, soc + delta));
    socState.set(battery.batteryId, next);
    values.set(battery.socMeterId, next);
  }
  return { values };
}
