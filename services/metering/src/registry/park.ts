import type { Decider } from '@park/eventstore';
import { PreconditionError } from '@park/service-kit/errors';
import { canonicalTimeZone, DEFAULT_PARK_TIME_ZONE, Violations } from '@park/domain-primitives';

/** The regional grids whose emission factors MEE publishes (华北, 东北, 华东, 华中, 西北, 西南, 南方). */
export const GRID_REGIONS = [
  'north_china',
  'northeast_china',
  'east_china',
  'central_china',
  'northwest_china',
  'southwest_china',
  'south_china',
] as const;
export type GridRegion = (typeof GRID_REGIONS)[number];

/** Annual comprehensive energy consumption; the core indicator's threshold depends on it. */
export const SIZE_BANDS = ['below_200k_tce', '200k_to_1m_tce', 'above_1m_tce'] as const;
export type SizeBand = (typeof SIZE_BANDS)[number];

export interface ParkProfile {
  parkId: string;
  name: string;
  timeZone: string;
  latitude: number;
  longitude: number;
  gridRegion: GridRegion;
  sizeBand: SizeBand;
}

export interface ConfigurePark {
  type: 'ConfigurePark';
  parkId: string;
  name: string;
  /** IANA zone; Asia/Shanghai when absent. */
  timeZone?: string;
  latitude: number;
  longitude: number;
  gridRegion: string;
  sizeBand: string;
}

export type ParkCommand = ConfigurePark;

export type ParkEvent = { type: 'ParkConfigured' } & ParkProfile;

export type ParkState = { status: 'new' } | { status: 'configured'; park: ParkProfile };

export const parkStreamId = (parkId: string): string => `park-${parkId}`;

export const parkDecider: Decider<ParkCommand, ParkEvent, ParkState> = {
  initialState: () => ({ status: 'new' }),

  evolve(_state, event) {
    switch (event.type) {
      case 'ParkConfigured': {
        const { type: _type, ...park } = event;
        return { status: 'configured', park };
      }
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'ConfigurePark': {
        const park = validatePark(command);
        if (state.status === 'configured') {
          if (state.park.parkId !== park.parkId) {
            throw new PreconditionError(`stream belongs to park ${state.park.parkId}`);
          }
          // Closed days and months were cut at the old zone's midnights; moving them would
          // silently restate every period, so a zone change is a migration, not an edit.
          if (state.park.timeZone !== park.timeZone) {
            throw new PreconditionError(
              `the park's time zone is ${state.park.timeZone}; it cannot change once configured`,
            );
          }
          if (sameProfile(state.park, park)) return [];
        }
        return [{ type: 'ParkConfigured', ...park }];
      }
    }
  },
};

function validatePark(command: ConfigurePark): ParkProfile {
  const v = new Violations();
  const parkId = v.requiredText('park_id', command.parkId, 64);
  const name = v.requiredText('name', command.name);
  const timeZone = canonicalTimeZone(command.timeZone ?? DEFAULT_PARK_TIME_ZONE);
  if (!timeZone) v.add('time_zone', `'${command.timeZone}' is not an IANA time zone name`);
  if (!isInRange(command.latitude, -90, 90)) v.add('latitude', 'must be between -90 and 90');
  if (!isInRange(command.longitude, -180, 180)) v.add('longitude', 'must be between -180 and 180');
  const gridRegion = v.oneOf('grid_region', command.gridRegion, GRID_REGIONS);
  const sizeBand = v.oneOf('size_band', command.sizeBand, SIZE_BANDS);
  v.throwIfAny();
  return {
    parkId: parkId!,
    name: name!,
    timeZone: timeZone!,
    latitude: command.latitude,
    longitude: command.longitude,
    gridRegion: gridRegion!,
    sizeBand: sizeBand!,
  };
}

function isInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function sameProfile(a: ParkProfile, b: ParkProfile): boolean {
  return (Object.keys(a) as (keyof ParkProfile)[]).every((key) => a[key] === b[key]);
}
