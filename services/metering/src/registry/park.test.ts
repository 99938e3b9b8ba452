import { PreconditionError, ValidationError } from '@park/service-kit/errors';
import { parkDecider, type ConfigurePark, type ParkEvent } from './park';

const shenyang: ConfigurePark = {
  type: 'ConfigurePark',
  parkId: 'park-1',
  name: 'Sino-German high-end equipment park',
  latitude: 41.8,
  longitude: 123.4,
  gridRegion: 'northeast_china',
  sizeBand: '200k_to_1m_tce',
};

function given(history: ParkEvent[]) {
  const state = history.reduce(parkDecider.evolve, parkDecider.initialState());
  return {
    when(command: ConfigurePark): { events?: ParkEvent[]; error?: unknown } {
      try {
        return { events: parkDecider.decide(command, state) };
      } catch (error) {
        return { error };
      }
    },
  };
}

const configured: ParkEvent = {
  type: 'ParkConfigured',
  parkId: 'park-1',
  name: 'Sino-German high-end equipment park',
  timeZone: 'Asia/Shanghai',
  latitude: 41.8,
  longitude: 123.4,
  gridRegion: 'northeast_china',
  sizeBand: '200k_to_1m_tce',
};

describe('Park', () => {
  it('is configured with Asia/Shanghai when no time zone is given', () => {
    expect(given([]).when(shenyang)).toEqual({ events: [configured] });
  });

  it('spells the time zone canonically', () => {
    const { events } = given([]).when({ ...shenyang, timeZone: 'asia/shanghai' });
    expect(events?.[0]).toMatchObject({ timeZone: 'Asia/Shanghai' });
  });

  it('names every bad field at once', () => {
    const { error } = given([]).when({
      ...shenyang,
      timeZone: 'Mars/Olympus_Mons',
      latitude: 91,
      longitude: Number.NaN,
      gridRegion: 'northeast',
      sizeBand: 'huge',
    });
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations.map((v) => v.field)).toEqual([
      'time_zone',
      'latitude',
      'longitude',
      'grid_region',
      'size_band',
    ]);
  });

  it('rejects a fixed offset as a time zone: it ignores the zone rules', () => {
    const { error } = given([]).when({ ...shenyang, timeZone: '+08:00' });
    expect((error as ValidationError).violations).toEqual([
      { field: 'time_zone', description: "'+08:00' is not an IANA time zone name" },
    ]);
  });

  it('records nothing when the same configuration comes again, and a change otherwise', () => {
    expect(given([configured]).when(shenyang)).toEqual({ events: [] });
    expect(given([configured]).when({ ...shenyang, sizeBand: 'above_1m_tce' })).toEqual({
      events: [{ ...configured, sizeBand: 'above_1m_tce' }],
    });
  });

  it('refuses to move a configured park to another time zone', () => {
    const { error } = given([configured]).when({ ...shenyang, timeZone: 'Europe/Berlin' });
    expect(error).toBeInstanceOf(PreconditionError);
  });

  it('takes an alias of the same zone as no change (Asia/Harbin is a link to Asia/Shanghai)', () => {
    expect(given([configured]).when({ ...shenyang, timeZone: 'Asia/Harbin' })).toEqual({
      events: [],
    });
  });
});
