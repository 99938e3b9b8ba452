import { instantText, parseInstant } from '@park/domain-primitives';
import { withoutUndefined } from '../registry/meter-registration';
import { coverageWith, isCovered, type Coverage } from './coverage';
import type { MeterContext } from './meter-context';
import type {
  EstimatedReading,
  HeldReading,
  MeterEvent,
  RecordedReading,
  SlotState,
} from './model';
import type { EstimateNote } from './slot-book';

type Resolution = Extract<MeterEvent, { type: 'HeldReadingResolved' }>['resolution'];

/** Net interval changes of a decision as events: first values, estimates, then corrections. */
export function slotEvents(ctx: MeterContext): MeterEvent[] {
  const recorded: RecordedReading[] = [];
  const estimated = new Map<string, { note: EstimateNote; readings: EstimatedReading[] }>();
  const corrected: MeterEvent[] = [];
  for (const [start, { before, after, reason, estimate }] of ctx.book.changed()) {
    const intervalStart = instantText(start);
    const intervalEnd = instantText(ctx.intervalEnd(start));
    if (before.value === undefined && after.quality === 'estimated' && estimate) {
      const group = estimated.get(estimate.group) ?? { note: estimate, readings: [] };
      group.readings.push({ intervalStart, intervalEnd, value: after.value! });
      estimated.set(estimate.group, group);
    } else if (before.value === undefined) {
      recorded.push(recordedReading(intervalStart, intervalEnd, after));
    } else {
      corrected.push(
        withoutUndefined({
          type: 'ReadingCorrected',
          meter: ctx.descriptor,
          intervalStart,
          intervalEnd,
          oldValue: before.value,
          newValue: after.value!,
          oldQuality: before.quality,
          newQuality: after.quality!,
          oldRegister: before.register === after.register ? undefined : before.register,
          register: after.register,
          registerEdited: after.registerEdited,
          reason: reason ?? 'corrected',
          source: after.source ?? 'unknown',
        }),
      );
    }
  }
  const events: MeterEvent[] = [];
  if (recorded.length > 0) {
    events.push({ type: 'ReadingsRecorded', meter: ctx.descriptor, readings: recorded });
  }
  for (const { note, readings } of estimated.values()) {
    events.push({
      type: 'ReadingsEstimated',
      meter: ctx.descriptor,
      method: note.method,
      basis: note.basis,
      readings,
    });
  }
  return [...events, ...corrected];
}

/** A first value's reading, its fields in a fixed order and absent ones left out. */
function recordedReading(
  intervalStart: string,
  intervalEnd: string,
  after: SlotState,
): RecordedReading {
  const quality = after.quality === 'edited' ? 'edited' : 'measured';
  const source = after.source ?? 'unknown';
  const reading: RecordedReading =
    after.value === undefined
      ? { intervalStart, intervalEnd, quality, source }
      : { intervalStart, intervalEnd, value: after.value, quality, source };
  if (after.register !== undefined) reading.register = after.register;
  if (after.registerEdited !== undefined) reading.registerEdited = after.registerEdited;
  return reading;
}

export function heldEvents(ctx: MeterContext, holds: Map<number, HeldReading>): MeterEvent[] {
  if (holds.size === 0) return [];
  const readings = [...holds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, held]) => ({
      intervalStart: instantText(start),
      intervalEnd: instantText(ctx.intervalEnd(start)),
      ...held,
    }));
  return [{ type: 'ReadingsHeld', meter: ctx.descriptor, readings }];
}

export function resolvedEvent(
  ctx: MeterContext,
  intervalStart: number,
  resolution: Resolution,
  reason: string,
): MeterEvent {
  return {
    type: 'HeldReadingResolved',
    meter: ctx.descriptor,
    intervalStart: instantText(intervalStart),
    resolution,
    reason,
  };
}

/** The state's coverage plus the intervals this decision gave a value. */
export function coverageAfter(ctx: MeterContext): Coverage {
  const added: [number, number][] = ctx.book
    .changed()
    .filter(([, change]) => change.after.value !== undefined)
    .map(([start]) => [start, ctx.intervalEnd(start)]);
  return coverageWith(ctx.meter.coverage, added);
}

/** Reported gaps that now have a value in every interval. */
export function gapClosedEvents(ctx: MeterContext, coverage = coverageAfter(ctx)): MeterEvent[] {
  return ctx.meter.gaps
    .filter((gap) => isCovered(coverage, parseInstant(gap.start)!, parseInstant(gap.end)!))
    .map((gap) => ({ type: 'GapClosed', meter: ctx.descriptor, start: gap.start, end: gap.end }));
}
