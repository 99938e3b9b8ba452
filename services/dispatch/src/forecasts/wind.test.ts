import { ValidationError } from '@park/service-kit/errors';
import { NO_WIND_FORECAST_NOTE, noWindForecast } from './index';

describe('noWindForecast', () => {
  it('counts wind as zero and says so', () => {
    const result = noWindForecast(96);
    expect(result.kw).toHaveLength(96);
    expect(result.kw.every((kw) => kw === 0)).toBe(true);
    expect(result.note).toBe('no wind forecast submitted: wind counted as zero');
    expect(result.note).toBe(NO_WIND_FORECAST_NOTE);
  });

  it('rejects a bad interval count', () => {
    expect(() => noWindForecast(-1)).toThrow(ValidationError);
    expect(() => noWindForecast(2.5)).toThrow('intervals: must be a whole number >= 0');
  });
});
