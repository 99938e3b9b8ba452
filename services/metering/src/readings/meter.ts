import type { Decider, JsonObject, SnapshotPolicy } from '@park/eventstore';
import { DAY_MS, instantText, parseInstant } from '@park/domain-primitives';
import { coverageSince, coverageWith } from './coverage';
import { decideFillGaps } from './fill-gaps';
import { decideIngest } from './ingest';
import { intervalGrid } from './interval-grid';
import { decideDecommission, decideRegister, decideReplace } from './lifecycle';
import {
  DEFAULT_METER_OPTIONS,
  type MeterCommand,
  type MeterDeciderOptions,
  type MeterEvent,
  type MeterState,
  type RegisteredMeterState,
  type SlotState,
} from './model';
import { decideAccept, decideCorrect, decideRejectHeld } from './review';
import { compactSlot } from './slot-book';

/**
 * The Meter aggregate: one stream per meter holds its registration, swaps and readings, so that
 * the idempotency key (meter, interval start) is guarded by the stream's optimistic concurrency.
 *
 * Bounded replay. A year of 15-minute readings is 35,040 intervals; the state keeps only what
 * decisions need:
 *  - the last `recentWindowIntervals` (192: two days at 15 min, 192 days for daily meters)
 *    intervals behind the latest one, with value, quality, source and cumulative register:
 *    nearly every batch, duplicate, correction, register difference and gap fill lands there;
 *  - held readings until an operator resolves them, and the meter's swaps (a handful);
 *  - coverage: merged ranges of intervals with a value over the 90-day late-data window, one
 *    pair per hole, which is all long-gap detection and gap closing need;
 *  - reported gaps still open.
 * Older intervals are not replayed into state: a command touching one carries the read model's
 * rows for it in `history` (`historyNeeded` lists them; a decision that lacks one throws
 * HistoryRequiredError). The read model must be at least as new as the stream version the
 * decision is made on (update it in the append's transaction, or check its checkpoint), or a
 * duplicate could be taken for a new reading. With snapshots every N events the cost per command
 * is one snapshot (a few tens of kB) plus at most N events, whatever the meter's age.
 *
 * IngestReadings through `decide` yields the events only; an adapter that answers each reading
 * (gRPC stream, CSV report) calls `decideIngest` on the loaded state for the same decision with
 * its per-reading results, and appends the events at the version it loaded.
 */
export function createMeterDecider(
  overrides: Partial<MeterDeciderOptions> = {},
): Decider<MeterCommand, MeterEvent, MeterState> {
  const options = { ...DEFAULT_METER_OPTIONS, ...overrides };
  return {
    initialState: () => ({ status: 'unregistered' }),
    evolve: (state, event) => evolveMeter(state, event, options),
    decide(command, state) {
      switch (command.type) {
        case 'RegisterMeter':
          return decideRegister(command, state);
        case 'ReplaceMeter':
          return decideReplace(command, state, options);
        case 'DecommissionMeter':
          return decideDecommission(command, state);
        case 'IngestReadings':
          return decideIngest(command, state, options).events;
        case 'FillGaps':
          return decideFillGaps(command, state, options);
        case 'AcceptReading':
          return decideAccept(command, state, options);
        case 'CorrectReading':
          return decideCorrect(command, state, options);
        case 'RejectHeldReading':
          return decideRejectHeld(command, state, options);
      }
    },
  };
}

export const meterDecider = createMeterDecider();

export const meterStreamId = (meterId: string): string => `meter-${meterId}`;

/**
 * The state is plain JSON already; bump stateVersion whenever its shape changes. A snapshot (the
 * bounded window: tens of kB) costs about as much to write as a few dozen events cost to read back
 * and evolve on every command, so one every 32 events keeps the load per command small. At 200 a
 * meter sent four-hour batches (16 readings an event) reloaded up to 3,200 readings per batch,
 * and the fault test's ingest slowed tenfold over two weeks of data.
 */
export const meterSnapshots: SnapshotPolicy<MeterState> = {
  every: 32,
  stateVersion: 1,
  serialize: (state) => state as unknown as JsonObject,
  deserialize: (json) => json as unknown as MeterState,
};

export function evolveMeter(
  state: MeterState,
  event: MeterEvent,
  options: MeterDeciderOptions = DEFAULT_METER_OPTIONS,
): MeterState {
  if (event.type === 'MeterRegistered') {
    const { type: _type, ...registration } = event;
    return {
      status: 'active',
      registration,
      replacements: [],
      slots: {},
      held: {},
      coverage: [],
      gaps: [],
    };
  }
  if (state.status === 'unregistered') return state;
  switch (event.type) {
    case 'MeterReplaced': {
      const {
        type: _type,
        meterId: _meterId,
        oldSerialNumber: _old,
        current: _current,
        ...replacement
      } = event;
      return { ...state, replacements: [...state.replacements, replacement] };
    }
    case 'MeterDecommissioned':
      return { ...state, status: 'decommissioned', decommissionedAt: event.at };
    case 'ReadingsRecorded':
      return withIntervals(
        state,
        // The reading is its own slot: compactSlot keeps the slot's fields only.
        event.readings.map((reading) => ({
          intervalStart: reading.intervalStart,
          intervalEnd: reading.intervalEnd,
          slot: reading,
        })),
        options,
      );
    case 'ReadingCorrected':
      return withIntervals(
        state,
        [
          {
            intervalStart: event.intervalStart,
            intervalEnd: event.intervalEnd,
            slot: {
              value: event.newValue,
              quality: event.newQuality,
              source: event.source,
              register: event.register,
              registerEdited: event.registerEdited,
            },
          },
        ],
        options,
      );
    case 'ReadingsEstimated':
      return withIntervals(
        state,
        event.readings.map(({ intervalStart, intervalEnd, value }) => ({
          intervalStart,
          intervalEnd,
          // An estimate replaces the value only; a cumulative interval keeps its end register.
          slot: { ...state.slots[intervalStart], value, quality: 'estimated', source: 'vee' },
        })),
        options,
      );
    case 'ReadingsHeld': {
      const held = { ...state.held };
      for (const { intervalStart, intervalEnd: _end, ...reading } of event.readings) {
        held[intervalStart] = reading;
      }
      return { ...state, held };
    }
    case 'HeldReadingResolved': {
      const { [event.intervalStart]: _resolved, ...held } = state.held;
      return { ...state, held };
    }
    case 'GapDetected':
      return {
        ...state,
        gaps: [
          ...state.gaps,
          { start: event.start, end: event.end, missingIntervals: event.missingIntervals },
        ],
      };
    case 'GapClosed':
      return {
        ...state,
        gaps: state.gaps.filter((gap) => gap.start !== event.start || gap.end !== event.end),
      };
  }
}

interface IntervalUpdate {
  intervalStart: string;
  intervalEnd: string;
  slot: SlotState & { quality?: SlotState['quality'] };
}

function withIntervals(
  state: RegisteredMeterState,
  updates: IntervalUpdate[],
  options: MeterDeciderOptions,
): RegisteredMeterState {
  let latestSlot = state.latestSlot;
  for (const { intervalStart } of updates) {
    if (latestSlot === undefined || intervalStart > latestSlot) latestSlot = intervalStart;
  }
  let windowStart = state.windowStart;
  if (latestSlot !== state.latestSlot) {
    const grid = intervalGrid(state.registration);
    windowStart = instantText(
      grid.back(parseInstant(latestSlot)!, options.recentWindowIntervals - 1),
    );
  }
  // A new object of the slots still in the window: copying a large object and deleting from it
  // turns it into a slow dictionary and took twice as long (this runs on every ingested event).
  const slots: Record<string, SlotState> = {};
  for (const [key, slot] of Object.entries(state.slots)) {
    if (windowStart === undefined || key >= windowStart) slots[key] = slot;
  }
  const covered: [number, number][] = [];
  for (const { intervalStart, intervalEnd, slot } of updates) {
    // Intervals behind the window live in the read model only (the new window is never behind
    // the old one).
    if (windowStart === undefined || intervalStart >= windowStart) {
      slots[intervalStart] = compactSlot(slot);
    }
    if (slot.value !== undefined) {
      covered.push([parseInstant(intervalStart)!, parseInstant(intervalEnd)!]);
    }
  }
  const forgetBefore = parseInstant(latestSlot)! - (options.lateDataWindowDays + 1) * DAY_MS;
  const forgetText = instantText(forgetBefore);
  return {
    ...state,
    slots,
    latestSlot,
    windowStart,
    coverage: coverageSince(coverageWith(state.coverage, covered), forgetBefore),
    gaps: state.gaps.filter((gap) => gap.end > forgetText),
  };
}

/**
 * Interval starts a command needs from the read model: those it touches, and for cumulative
 * meters their neighbours (register differences), that lie before the state's window.
 */
export function historyNeeded(command: MeterCommand, state: MeterState): string[] {
  if (state.status === 'unregistered' || state.windowStart === undefined) return [];
  const starts: unknown[] =
    command.type === 'IngestReadings'
      ? Array.isArray(command.readings)
        ? command.readings.map((reading) => reading?.intervalStart)
        : []
      : command.type === 'AcceptReading' || command.type === 'CorrectReading'
        ? [command.intervalStart]
        : [];
  const grid = intervalGrid(state.registration);
  const windowStart = parseInstant(state.windowStart)!;
  const needed = new Set<number>();
  for (const text of starts) {
    const start = parseInstant(text);
    if (start === undefined || !grid.isAligned(start)) continue;
    const around =
      state.registration.registerType === 'cumulative'
        ? [grid.previous(start), start, grid.next(start)]
        : [start];
    for (const t of around) if (t < windowStart) needed.add(t);
  }
  return [...needed].sort((a, b) => a - b).map(instantText);
}
