import { ValidationError } from '@park/service-kit/errors';
import { instantText, MINUTE_MS } from '@park/domain-primitives';
import { coverageAfter, gapClosedEvents, slotEvents } from './emit';
import { estimateInWindow } from './estimation';
import { coverageHoles } from './coverage';
import { registeredMeter, requireInstant } from './guards';
import { MeterContext } from './meter-context';
import {
  DEFAULT_GRACE_DELAY_MINUTES,
  type FillGaps,
  type MeterDeciderOptions,
  type MeterEvent,
  type MeterState,
} from './model';
import { SlotBook } from './slot-book';

/**
 * Run by a scheduler, with its clock. Short gaps whose end is older than the grace delay are
 * estimated (see estimateInWindow); longer ones are reported once as GapDetected, wherever they
 * lie in the late-data window, and closed (GapClosed) when late data has filled them.
 */
export function decideFillGaps(
  command: FillGaps,
  state: MeterState,
  options: MeterDeciderOptions,
): MeterEvent[] {
  const meter = registeredMeter(state, command.meterId);
  const now = requireInstant('now', command.now);
  const graceMinutes = command.graceDelayMinutes ?? DEFAULT_GRACE_DELAY_MINUTES;
  if (typeof graceMinutes !== 'number' || !(graceMinutes >= 0)) {
    throw ValidationError.field('grace_delay_minutes', 'must be zero or more minutes');
  }
  const graceMs = graceMinutes * MINUTE_MS;
  const ctx = new MeterContext(meter, new SlotBook(meter, undefined, 'window'), options);
  estimateInWindow(ctx, { now, graceMs });

  const coverage = coverageAfter(ctx);
  const detected: MeterEvent[] = [];
  for (const [start, end] of coverageHoles(coverage)) {
    if (end > now - graceMs) continue;
    const missingIntervals = ctx.grid.count(start, end);
    if (missingIntervals <= options.maxEstimatedGapIntervals) continue;
    const [startText, endText] = [instantText(start), instantText(end)];
    // Holes only shrink or split as late data arrives, so inside a reported gap means reported.
    if (meter.gaps.some((gap) => gap.start <= startText && endText <= gap.end)) continue;
    detected.push({
      type: 'GapDetected',
      meter: ctx.descriptor,
      start: startText,
      end: endText,
      missingIntervals,
    });
  }
  return [...slotEvents(ctx), ...detected, ...gapClosedEvents(ctx, coverage)];
}
