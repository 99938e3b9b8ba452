import { ValidationError } from '@park/service-kit/errors';
import {
  type Dec,
  parseDecimal,
  DAY_MS,
  instantText,
  MINUTE_MS,
  parseInstant,
} from '@park/domain-primitives';
import { toMeterUnit } from '../registry/meter-registration';
import { applyIntervalValue, applyRegister, type ApplyOutcome } from './apply';
import { coverageAfter, gapClosedEvents, heldEvents, resolvedEvent, slotEvents } from './emit';
import { estimateInWindow } from './estimation';
import { misalignment, registeredMeter, requireInstant } from './guards';
import { MeterContext } from './meter-context';
import type {
  HeldReading,
  IncomingReading,
  IngestReadings,
  MeterDeciderOptions,
  MeterEvent,
  MeterState,
  ReadingResult,
} from './model';
import { SlotBook } from './slot-book';

export interface IngestDecision {
  events: MeterEvent[];
  /** One per reading, in the batch's order: what the gateway gets back per message. */
  results: ReadingResult[];
}

interface Candidate {
  index: number;
  start: number;
  /** Meter unit; registers raw, interval values after the multiplier. */
  quantity: Dec;
  source: string;
  reason?: string;
}

/**
 * Validates a batch reading by reading, keeps the good ones and says for each what became of it.
 * Bad readings are answered, never recorded: the batch as a whole does not fail for them.
 */
export function decideIngest(
  command: IngestReadings,
  state: MeterState,
  options: MeterDeciderOptions,
): IngestDecision {
  const meter = registeredMeter(state, command.meterId);
  const now = requireInstant('now', command.now);
  if (!Array.isArray(command.readings)) {
    throw ValidationError.field('readings', 'must be a list of readings');
  }
  const ctx = new MeterContext(meter, new SlotBook(meter, command.history, 'strict'), options);
  const results: ReadingResult[] = [];
  const candidates: Candidate[] = [];
  command.readings.forEach((reading, index) => {
    const screened = screen(ctx, reading, index, now);
    if ('status' in screened) results[index] = screened;
    else candidates.push(screened);
  });

  const firstForInterval = new Map<number, Candidate>();
  const unique: Candidate[] = [];
  /** Repeats of an earlier reading of the batch: answered once the earlier one is decided. */
  const repeats: [repeat: Candidate, first: Candidate][] = [];
  for (const candidate of candidates) {
    const first = firstForInterval.get(candidate.start);
    if (!first) {
      firstForInterval.set(candidate.start, candidate);
      unique.push(candidate);
    } else if (first.quantity.eq(candidate.quantity)) {
      repeats.push([candidate, first]);
    } else {
      results[candidate.index] = rejected(
        candidate.index,
        candidate.start,
        'interval_start',
        `readings[${first.index}] has a different value for the same interval in this batch`,
      );
    }
  }

  // In time order, so a late register sees its predecessor from the same batch. A register is
  // also checked against the next interval's register, which a later reading of the same batch
  // may replace: rejected ones are tried again while the batch's other registers change the book,
  // so the answer does not depend on the order and the same batch sent again changes nothing.
  unique.sort((a, b) => a.start - b.start || a.index - b.index);
  const holds = new Map<number, HeldReading>();
  const superseded: number[] = [];
  let pending = unique;
  while (pending.length > 0) {
    const rejectedNow: Candidate[] = [];
    let applied = false;
    for (const candidate of pending) {
      const applyOptions = { source: candidate.source, reason: candidate.reason, holds };
      const outcome = ctx.cumulative
        ? applyRegister(ctx, candidate.start, candidate.quantity, applyOptions)
        : applyIntervalValue(ctx, candidate.start, candidate.quantity, applyOptions);
      results[candidate.index] = resultOf(ctx, candidate, outcome);
      if (outcome.kind === 'rejected') rejectedNow.push(candidate);
      if (outcome.kind === 'applied') {
        applied = true;
        if (meter.held[instantText(candidate.start)]) superseded.push(candidate.start);
      }
    }
    pending = ctx.cumulative && applied ? rejectedNow : [];
  }
  // A repeat is a duplicate of what the batch recorded or held, but not of a rejected reading.
  for (const [repeat, first] of repeats) {
    const outcome = results[first.index]!;
    results[repeat.index] =
      outcome.status === 'rejected'
        ? rejected(
            repeat.index,
            repeat.start,
            ctx.cumulative ? 'register' : 'value',
            outcome.reason,
          )
        : { ...key(repeat), status: 'duplicate' };
  }

  estimateInWindow(ctx);
  const events = [
    ...slotEvents(ctx),
    ...heldEvents(ctx, holds),
    ...superseded.map((start) =>
      resolvedEvent(ctx, start, 'superseded', 'a newer reading replaced the held one'),
    ),
    ...gapClosedEvents(ctx, coverageAfter(ctx)),
  ];
  return { events, results };
}

const NUL_REASON = 'must not contain a NUL character';

/** The checks that need nothing but the reading, the meter and the clock. */
function screen(
  ctx: MeterContext,
  reading: IncomingReading,
  index: number,
  now: number,
): Candidate | ReadingResult {
  const registration = ctx.meter.registration;
  const start = parseInstant(reading?.intervalStart);
  const reject = (field: string, reason: string) =>
    rejected(index, start ?? reading?.intervalStart, field, reason);
  if (start === undefined) {
    return reject(
      'interval_start',
      `'${reading?.intervalStart}' is not an ISO 8601 instant with an offset, e.g. 2025-01-01T00:00:00Z`,
    );
  }
  if (!ctx.grid.isAligned(start)) return reject('interval_start', misalignment(ctx, start));
  const end = ctx.grid.next(start);
  const decommissionedAt = parseInstant(ctx.meter.decommissionedAt);
  if (decommissionedAt !== undefined && end > decommissionedAt) {
    return reject(
      'meter_id',
      `meter ${registration.meterId} was decommissioned at ${ctx.meter.decommissionedAt}; this interval ends after that`,
    );
  }
  const latestEnd = now + ctx.options.futureToleranceMinutes * MINUTE_MS;
  if (end > latestEnd) {
    return reject(
      'interval_start',
      `the interval ends at ${instantText(end)}, more than ${ctx.options.futureToleranceMinutes} minutes after now (${instantText(now)})`,
    );
  }
  const oldestEnd = now - ctx.options.lateDataWindowDays * DAY_MS;
  if (end < oldestEnd) {
    return reject(
      'interval_start',
      `the interval ended before ${instantText(oldestEnd)}, outside the ${ctx.options.lateDataWindowDays}-day late-data window`,
    );
  }
  if (typeof reading.source !== 'string' || reading.source.trim() === '') {
    return reject('source', 'say where the reading comes from, e.g. gateway:gw-17');
  }
  // Both are stored with the reading, and PostgreSQL text cannot hold a NUL character.
  if (reading.source.includes('\u0000')) return reject('source', NUL_REASON);
  if (typeof reading.reason === 'string' && reading.reason.includes('\u0000')) {
    return reject('reason', NUL_REASON);
  }
  const [field, other] = ctx.cumulative ? ['register', 'value'] : ['value', 'register'];
  const text = ctx.cumulative ? reading.register : reading.value;
  const otherText = ctx.cumulative ? reading.value : reading.register;
  if (otherText !== undefined) {
    return reject(
      other!,
      ctx.cumulative
        ? 'a cumulative meter reports its register at the end of the interval, not an interval value'
        : 'an interval meter reports the interval value, not a register',
    );
  }
  const parsed = parseDecimal(text);
  if (!parsed) {
    return reject(
      field!,
      text === undefined ? 'is required' : `'${text}' is not a decimal number such as "12.5"`,
    );
  }
  const quantity = toMeterUnit(parsed, reading.unit, registration);
  if (!quantity) {
    return reject(
      'unit',
      `'${reading.unit}' does not fit this ${registration.commodity} meter, metered in ${registration.unit}`,
    );
  }
  if (quantity.isNegative() && !quantity.isZero()) {
    return reject(
      field!,
      ctx.cumulative
        ? `a register cannot be negative (${text})`
        : `negative consumption (${text} ${reading.unit}) is not a reading`,
    );
  }
  if (registration.role === 'storage_soc' && quantity.gt(100)) {
    return reject(field!, `a state of charge is at most 100 % (${text})`);
  }
  return {
    index,
    start,
    quantity: ctx.cumulative ? quantity : quantity.mul(ctx.rulesAt(start).multiplier),
    source: reading.source.trim(),
    ...(typeof reading.reason === 'string' && reading.reason.trim() !== ''
      ? { reason: reading.reason.trim() }
      : {}),
  };
}

// Results are built field by field: spreading conditional parts costs a copy per reading.
function resultOf(ctx: MeterContext, candidate: Candidate, outcome: ApplyOutcome): ReadingResult {
  const index = candidate.index;
  const intervalStart = instantText(candidate.start);
  switch (outcome.kind) {
    case 'duplicate':
      return { index, intervalStart, status: 'duplicate' };
    case 'held':
      return { index, intervalStart, status: 'held', reason: outcome.reason };
    case 'rejected':
      return rejected(
        index,
        candidate.start,
        ctx.cumulative ? 'register' : 'value',
        outcome.reason,
      );
    case 'applied': {
      const { before, value } = outcome;
      const firstTime = ctx.cumulative
        ? before.register === undefined
        : before.value === undefined || before.quality === 'estimated';
      if (firstTime) {
        return value === undefined
          ? { index, intervalStart, status: 'accepted' }
          : { index, intervalStart, status: 'accepted', value };
      }
      const corrected: ReadingResult = { index, intervalStart, status: 'corrected' };
      if (before.value !== undefined) corrected.oldValue = before.value;
      if (value !== undefined) corrected.newValue = value;
      return corrected;
    }
  }
}

function key(candidate: Candidate): { index: number; intervalStart: string } {
  return { index: candidate.index, intervalStart: instantText(candidate.start) };
}

function rejected(
  index: number,
  start: number | string | undefined,
  field: string,
  reason: string,
): ReadingResult {
  return {
    index,
    intervalStart: typeof start === 'number' ? instantText(start) : String(start ?? ''),
    status: 'rejected',
    field: field === 'meter_id' ? 'meter_id' : `readings[${index}].${field}`,
    reason,
  };
}
