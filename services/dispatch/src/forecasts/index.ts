export {
  DEFAULT_PV_DERATE,
  PARK_COORDINATES,
  clearSkyPvForecast,
  haurwitzGhi,
  solarPosition,
  type ClearSkyPvInput,
  type SolarPosition,
} from './clear-sky';
export {
  weekdayLoadForecast,
  type MeteredInterval,
  type WeekdayLoadForecast,
  type WeekdayLoadInput,
} from './load-profile';
export { NO_WIND_FORECAST_NOTE, noWindForecast, type NoWindForecast } from './wind';
